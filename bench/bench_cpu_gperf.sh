#!/usr/bin/env bash
# bench_cpu_gperf.sh - pprofd's CPU profiler against gperftools' on the same
# 70/30 workload, in one run: bench_cpu --workload (two threads, burn70 then
# burn30 by construction) for SECONDS of wall time per process, five ways,
# REPS times in a rotating order so that drift on a shared machine spreads
# over all of them:
#   base        no profiler
#   pprofd      a pprofd session at 100 Hz (per-thread CPU-time timers)
#   gperf       LD_PRELOAD=libprofiler.so.0 CPUPROFILE_FREQUENCY=100
#               (process-wide setitimer(ITIMER_PROF))
#   gperf-pt    the same with CPUPROFILE_PER_THREAD_TIMERS=1 and nothing
#               else: gperftools then arms a timer only for threads that
#               call ProfilerRegisterThread, i.e. here for none of the
#               workers (what an unmodified program gets)
#   gperf-ptreg per-thread timers, each worker calling ProfilerRegisterThread
#               (BENCH_REGISTER_THREADS=1; the symbol is found with dlsym)
# Throughput is rounds per CPU-second of the process (getrusage), so a busy
# machine slows every mode alike; the overhead is the median over REPS of
# each mode's loss against the base run of the same rep. Splits: pprofd's
# from its own profile; gperftools' from google-pprof --text over all its
# profiles of that mode, each read on its own; the truth from bench_cpu --truth (timed directly).
#
# Usage: bench/bench_cpu_gperf.sh [SECONDS [REPS]]
#   BENCH_CPU=path/to/bench_cpu (default: build/bench/bench_cpu; build it
#   with make -C build bench/bench_cpu). Needs Debian's google-perftools
#   and libgoogle-perftools-dev (libprofiler.so.0, google-pprof).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bench=${BENCH_CPU:-$top/build/bench/bench_cpu}
secs=${1:-3}
reps=${2:-5}
lib=libprofiler.so.0
pprof=$(command -v google-pprof || command -v pprof || true)
[ -x "$bench" ] || { echo "no $bench: make -C build bench/bench_cpu" >&2; exit 1; }
ldconfig -p | grep -q "$lib" || { echo "no $lib: apt-get install libgoogle-perftools-dev" >&2; exit 1; }
tmp=$(mktemp -d /tmp/bench_cpu_gperf.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

modes=(base pprofd gperf gperf-pt gperf-ptreg)
run() { # mode rep
  local m=$1 r=$2 prof="$tmp/$1.$2.prof"
  case $m in
  base) "$bench" --workload "$secs" ;;
  pprofd) "$bench" --workload "$secs" --pprofd 100 ;;
  gperf)
    env LD_PRELOAD=$lib CPUPROFILE="$prof" CPUPROFILE_FREQUENCY=100 \
      "$bench" --workload "$secs" ;;
  gperf-pt)
    env LD_PRELOAD=$lib CPUPROFILE="$prof" CPUPROFILE_FREQUENCY=100 \
      CPUPROFILE_PER_THREAD_TIMERS=1 "$bench" --workload "$secs" ;;
  gperf-ptreg)
    env LD_PRELOAD=$lib CPUPROFILE="$prof" CPUPROFILE_FREQUENCY=100 \
      CPUPROFILE_PER_THREAD_TIMERS=1 BENCH_REGISTER_THREADS=1 \
      "$bench" --workload "$secs" ;;
  esac 2>"$tmp/$m.$r.err" | sed "s/^/mode=$m rep=$r /"
}

echo "workload: 2 threads, ${secs} s wall per process, $reps reps, 100 Hz"
"$bench" --truth
for r in $(seq 1 "$reps"); do
  n=${#modes[@]}
  for i in $(seq 0 $((n - 1))); do
    run "${modes[$(((i + r) % n))]}" "$r"
  done
done >"$tmp/results"

# Per mode: median throughput loss against the same rep's base, the CPU
# each process used, and (pprofd) the profile's split and CPU total.
awk '
  { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    m = v["mode"]; r = v["rep"]; thr[m, r] = v["per_cpu_s"]
    cpu[m] += v["cpu_s"]; nrep[m]++
    if (m == "pprofd") { prof += v["prof_s"]; b70 += v["burn70"] * v["prof_s"] }
    delete v }
  function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
      if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  END {
    split("base pprofd gperf gperf-pt gperf-ptreg", ms, " ")
    for (k = 1; k <= 5; k++) {
      m = ms[k]; n = 0; delete loss; delete t
      for (r = 1; r <= nrep[m]; r++) {
        t[r] = thr[m, r]
        if (m != "base") loss[++n] = 100 * (1 - thr[m, r] / thr["base", r])
      }
      printf "%-12s rounds/CPU-s median %8.1f", m, median(t, nrep[m])
      if (m != "base") {
        lo = 1e9; hi = -1e9
        for (i = 1; i <= n; i++) { if (loss[i] < lo) lo = loss[i]; if (loss[i] > hi) hi = loss[i] }
        printf "  throughput loss median %+.2f%% [%+.2f, %+.2f]", median(loss, n), lo, hi
      }
      printf "  (CPU %.2f s total)\n", cpu[m]
    }
    if (prof > 0)
      printf "pprofd profile: burn70 %.2f%%, CPU %.3f s vs getrusage %.3f s (%.1f%%)\n",
        b70 / prof, prof, cpu["pprofd"], 100 * prof / cpu["pprofd"]
  }' "$tmp/results"

# gperftools' own view of each of its modes. Each profile is read on its
# own: bench_cpu is a PIE, so every run has its own load address and
# google-pprof cannot add profiles of different runs into one.
for m in gperf gperf-pt gperf-ptreg; do
  profs=$(ls "$tmp"/$m.*.prof 2>/dev/null || true)
  if [ -z "$pprof" ] || [ -z "$profs" ]; then
    echo "$m: no profile (google-pprof missing or profiler not started)"
    continue
  fi
  for f in $profs; do
    "$pprof" --text "$bench" "$f" 2>/dev/null || true
  done >"$tmp/$m.txt"
  cpu=$(awk -v m="$m" '$1 == "mode=" m { split($0, a, "cpu_s="); split(a[2], b, " "); s += b[1] } END { print s }' "$tmp/results")
  awk -v m="$m" -v cpu="$cpu" '
    /^Total:/ { total += $2 }
    $NF ~ /^burn70/ { b70 += $1 }
    $NF ~ /^burn30/ { b30 += $1 }
    END {
      if (total == 0) { printf "%s: gperftools recorded no samples (CPU %.2f s)\n", m, cpu; exit }
      printf "%s: gperftools profile %d samples = %.3f s vs getrusage %.3f s (%.1f%%); burn70 %.2f%%, burn30 %.2f%%\n",
        m, total, total / 100, cpu, 100 * total / 100 / cpu, 100 * b70 / total, 100 * b30 / total }' "$tmp/$m.txt"
done
