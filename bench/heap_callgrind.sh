#!/bin/sh
# heap_callgrind.sh - malloc+free pair cost with and without pprofd's heap
# sampler, in one run (DESIGN pitfall 10).
#
# Usage: bench/heap_callgrind.sh [BUILDDIR]   (default: the current dir)
# Needs BUILDDIR/.libs/libpprofd.so and BUILDDIR/bench/bench_heap (make
# bench/bench_heap). Reports:
#  1. wall time per pair, 2 threads, glibc alone vs glibc + pprofd at the
#     default rate, at rate 4096 and at rate 1 (best of 5 rounds each,
#     interleaved 3 times; the ratio is against glibc alone);
#  2. instructions added per pair, by callgrind's difference method: run
#     the churn at two op counts, single thread, and divide the difference
#     in total instructions by the difference in operations, so start-up
#     cancels out;
#  3. when installed, tcmalloc with TCMALLOC_SAMPLE_PARAMETER=524288 and
#     jemalloc with MALLOC_CONF=prof:true, each against itself unprofiled.
set -eu
B=${1:-.}
LIB=$B/.libs/libpprofd.so
BIN=$B/bench/bench_heap
[ -x "$BIN" ] && [ -f "$LIB" ] || { echo "build $BIN and $LIB first" >&2; exit 1; }
OPS=${OPS:-2000000}

run() { # env... -> ns per pair
  env "$@" "$BIN" "$OPS" 2
}

echo "== wall time, ns per malloc+free pair, 2 threads, $OPS ops/thread"
for round in 1 2 3; do
  base=$(run X=1)
  def=$(run LD_PRELOAD="$LIB")
  r4k=$(run LD_PRELOAD="$LIB" PPROFD_MEM_PROFILE_RATE=4096)
  r1=$(run LD_PRELOAD="$LIB" PPROFD_MEM_PROFILE_RATE=1)
  awk -v b="$base" -v d="$def" -v f="$r4k" -v o="$r1" 'BEGIN {
    printf "glibc %.1f | pprofd default %.1f (x%.3f) | rate 4096 %.1f (x%.2f) | rate 1 %.1f (x%.1f)\n",
      b, d, d / b, f, f / b, o, o / b }'
done

# Instructions per pair from two callgrind runs.
insns() { # ops env... -> total Ir
  ops=$1; shift
  out=$(mktemp)
  env "$@" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$BIN" "$ops" 1 >/dev/null 2>"$out" || true
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out"
  rm -f "$out"
}
per_pair() { # env... -> instructions per pair
  lo=$(insns 100000 "$@")
  hi=$(insns 300000 "$@")
  awk -v a="$lo" -v b="$hi" 'BEGIN { printf "%.1f", (b - a) / 200000 }'
}
if command -v valgrind >/dev/null; then
  echo "== callgrind, instructions per malloc+free pair (difference method)"
  g=$(per_pair X=1)
  p=$(per_pair LD_PRELOAD="$LIB")
  p0=$(per_pair LD_PRELOAD="$LIB" PPROFD_MEM_PROFILE_RATE=0)
  awk -v g="$g" -v p="$p" -v z="$p0" 'BEGIN {
    printf "glibc %.1f | pprofd default rate %.1f (+%.1f) | pprofd rate 0 %.1f (+%.1f)\n",
      g, p, p - g, z, z - g }'
fi

# Peers, each against its own allocator unprofiled.
peer() { # name lib env-for-profiling
  name=$1; lib=$2; shift 2
  [ -f "$lib" ] || { echo "$name: $lib not installed, skipped"; return; }
  a=$(run LD_PRELOAD="$lib")
  b=$(run LD_PRELOAD="$lib" "$@")
  awk -v n="$name" -v a="$a" -v b="$b" 'BEGIN {
    printf "%s %.1f | profiled %.1f (x%.3f)\n", n, a, b, b / a }'
}
echo "== peers (wall time, ns per pair)"
ML=/usr/lib/x86_64-linux-gnu
peer tcmalloc "$ML/libtcmalloc.so.4" TCMALLOC_SAMPLE_PARAMETER=524288
peer jemalloc "$ML/libjemalloc.so.2" MALLOC_CONF=prof:true
