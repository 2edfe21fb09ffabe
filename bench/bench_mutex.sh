#!/bin/sh
# bench_mutex.sh - pthread mutex cost and contention-profile accuracy
# with and without pprofd, in one run.
#
# Usage: bench/bench_mutex.sh [BUILDDIR]   (default: the current dir)
# Needs BUILDDIR/.libs/libpprofd.so and BUILDDIR/bench/bench_mutex. Reports:
#  1. ns per uncontended lock+unlock pair, 1 and 2 threads (each on its
#     own mutex): glibc alone, pprofd preloaded with both profiles off,
#     and with block rate 1 and mutex fraction 1 (best of 5 rounds,
#     interleaved 3 times; differences against glibc alone);
#  2. instructions per pair by callgrind's difference method (two op
#     counts, so start-up cancels out), when valgrind is installed;
#  3. the known-truth workload under pprofd with both profiles on.
set -eu
B=${1:-.}
LIB=$B/.libs/libpprofd.so
BIN=$B/bench/bench_mutex
[ -x "$BIN" ] && [ -f "$LIB" ] || { echo "build $BIN and $LIB first" >&2; exit 1; }
ON="PPROFD_BLOCK_PROFILE_RATE=1 PPROFD_MUTEX_PROFILE_FRACTION=1"

for th in 1 2; do
  echo "== ns per uncontended lock+unlock pair, $th thread(s)"
  for round in 1 2 3; do
    base=$("$BIN" pairs 20000000 "$th")
    off=$(LD_PRELOAD="$LIB" "$BIN" pairs 20000000 "$th")
    on=$(env LD_PRELOAD="$LIB" $ON "$BIN" pairs 20000000 "$th")
    awk -v b="$base" -v f="$off" -v o="$on" 'BEGIN {
      printf "glibc %.2f | pprofd off %.2f (%+.2f) | pprofd on %.2f (%+.2f)\n",
        b, f, f - b, o, o - b }'
  done
done

insns() { # ops env... -> total Ir
  ops=$1; shift
  out=$(mktemp)
  env "$@" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$BIN" pairs "$ops" 1 >/dev/null 2>"$out" || true
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out"
  rm -f "$out"
}
per_pair() { # env... -> instructions per pair (each round runs 5 times)
  lo=$(insns 100000 "$@")
  hi=$(insns 300000 "$@")
  awk -v a="$lo" -v b="$hi" 'BEGIN { printf "%.1f", (b - a) / (5 * 200000) }'
}
if command -v valgrind >/dev/null; then
  echo "== callgrind, instructions per lock+unlock pair (difference method)"
  g=$(per_pair X=1)
  f=$(per_pair LD_PRELOAD="$LIB")
  o=$(per_pair LD_PRELOAD="$LIB" $ON)
  awk -v g="$g" -v f="$f" -v o="$o" 'BEGIN {
    printf "glibc %.1f | pprofd off %.1f (+%.1f) | pprofd on %.1f (+%.1f)\n",
      g, f, f - g, o, o - g }'
fi

echo "== accuracy: known workload under pprofd (both profiles on)"
env LD_PRELOAD="$LIB" $ON "$BIN" truth 4 50 1000
env LD_PRELOAD="$LIB" $ON "$BIN" truth 8 20 500
