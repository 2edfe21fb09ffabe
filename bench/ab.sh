#!/bin/sh
# ab.sh - two builds of pprofd side by side, in one run: does a change
# make the host pay more?
#
# Usage: bench/ab.sh OLD_BUILDDIR NEW_BUILDDIR [ROUNDS]   (default 5)
# Each BUILDDIR needs .libs/libpprofd.so and bench/bench_{heap,mutex,cpu,
# symbolize} (make bench/bench_heap bench/bench_mutex bench/bench_cpu
# bench/bench_symbolize). The old and new runs alternate, round by round,
# so a drift in the machine's speed hits both; each line is the median of
# the rounds and new/old. Measures:
#   - malloc+free pairs, 2 threads, pprofd preloaded at its default rate
#     (ns per pair, bench_heap);
#   - uncontended pthread mutex lock+unlock, 2 threads, pprofd preloaded
#     (ns per pair, bench_mutex);
#   - CPU work per CPU-second with a 100 Hz profile running (bench_cpu
#     --workload 3 --pprofd 100: rounds per CPU-second, higher is better);
#   - symbolizing 10,000 addresses, cold and cached (ns per address).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 OLD_BUILDDIR NEW_BUILDDIR [ROUNDS]" >&2; exit 2; }
OLD=$1 NEW=$2 N=${3:-5}
case $N in '' | *[!0-9]* | 0) echo "ROUNDS must be a whole number >= 1" >&2; exit 2 ;; esac
for b in "$OLD" "$NEW"; do
  for f in .libs/libpprofd.so bench/bench_heap bench/bench_mutex \
    bench/bench_cpu bench/bench_symbolize; do
    [ -e "$b/$f" ] || { echo "missing $b/$f" >&2; exit 1; }
  done
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# measure NAME CMD-TEMPLATE: runs the template with @B@ replaced by each
# build, N rounds alternating, one number per run into NAME.old/new.
measure() {
  name=$1 tpl=$2
  i=0
  while [ "$i" -lt "$N" ]; do
    for side in old new; do
      [ $side = old ] && b=$OLD || b=$NEW
      cmd=$(printf '%s' "$tpl" | sed "s|@B@|$b|g")
      sh -c "$cmd" >>"$tmp/$name.$side"
    done
    i=$((i + 1))
  done
}
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
report() { # name unit
  o=$(median "$tmp/$1.old") n=$(median "$tmp/$1.new")
  awk -v name="$1" -v u="$2" -v o="$o" -v n="$n" 'BEGIN {
    printf "%-28s old %10.2f  new %10.2f  %s  new/old x%.3f\n", name, o, n, u, n / o }'
}

measure heap_pair 'LD_PRELOAD=@B@/.libs/libpprofd.so @B@/bench/bench_heap 2000000 2'
report heap_pair "ns/pair"
measure mutex_pair 'LD_PRELOAD=@B@/.libs/libpprofd.so @B@/bench/bench_mutex pairs 2000000 2'
report mutex_pair "ns/pair"
measure cpu_work '@B@/bench/bench_cpu --workload 3 --pprofd 100 | sed -n "s/.*per_cpu_s=\([0-9.]*\).*/\1/p"'
report cpu_work "rounds/cpu-s"
measure sym_cold '@B@/bench/bench_symbolize | sed -n "s/^cold: *\([0-9.]*\).*/\1/p"'
report sym_cold "ns/addr"
measure sym_cached '@B@/bench/bench_symbolize | sed -n "s/^cached: *\([0-9.]*\).*/\1/p"'
report sym_cached "ns/addr"
