#!/bin/sh
# bench_eintr.sh - do thread dumps change the program they look at?
#
# Usage: bench/bench_eintr.sh BUILDDIR [DUMPS] [SECONDS]   (10000, 240)
# Runs tests/integration/blocker (make tests/integration/blocker), an
# unmodified program with one thread in each call Linux never restarts
# after a signal handler, each waiting 100 ms at a time, and a main
# thread in sleep(SECONDS), with BUILDDIR's libpprofd.so preloaded; asks
# for DUMPS goroutine dumps (debug=0, 1 and 2 in turn) while it waits;
# then prints blocker's own count of calls, EINTR returns and early
# returns per call, and how long main's sleep lasted. SECONDS must leave
# time for every dump (about 15 ms each).
set -eu
[ $# -ge 1 ] || { echo "usage: $0 BUILDDIR [DUMPS] [SECONDS]" >&2; exit 2; }
B=$1 N=${2:-10000} S=${3:-240}
for v in "$N" "$S"; do
  case $v in '' | *[!0-9]* | 0) echo "DUMPS and SECONDS must be whole numbers >= 1" >&2; exit 2 ;; esac
done
for f in .libs/libpprofd.so tests/integration/blocker; do
  [ -e "$B/$f" ] || { echo "missing $B/$f" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "bench_eintr: needs curl" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
LD_PRELOAD="$B/.libs/libpprofd.so" PPROFD_ADDR=127.0.0.1:0 \
  "$B/tests/integration/blocker" "$S" 2>"$tmp/err" &
pid=$!
i=0
while ! grep -q "blocker: started" "$tmp/err"; do
  i=$((i + 1)); [ $i -lt 100 ] || { cat "$tmp/err" >&2; exit 1; }
  sleep 0.1
done
url=$(sed -n 's|^pprofd: listening on \(http://[^ ]*\)|\1|p' "$tmp/err" | head -n 1)
start=$(date +%s)
done_n=0
while [ $done_n -lt "$N" ] && kill -0 "$pid" 2>/dev/null; do
  curl -sf -o /dev/null "${url}goroutine?debug=$((done_n % 3))" || break
  done_n=$((done_n + 1))
done
echo "dumps=$done_n in $(( $(date +%s) - start )) s"
wait "$pid" && rc=0 || rc=$?
grep "^blocker:" "$tmp/err"
echo "blocker exit status $rc"
