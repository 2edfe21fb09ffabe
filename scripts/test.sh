#!/usr/bin/env bash
# Installs dependencies, builds pprofd and runs every test: the unit and
# end-to-end suites (make check), then the unit tests again under
# AddressSanitizer and UndefinedBehaviorSanitizer. Exits non-zero on any
# failure and ends with one "N passed, N failed" line counting checks.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh" || exit 1
status=0
summarize() { # dir...: print each test's Check summary, total them
  local passed=0 failed=0 skipped=0 line n f e
  for log in $(find "$@" -path '*/tests/*' -name 'check_*.log' | sort); do
    line=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1)
    if [ -z "$line" ] && grep -q '^:test-result: SKIP' "${log%.log}.trs" 2>/dev/null; then
      echo "$(basename "$log" .log): skipped ($(tail -n 1 "$log"))"
      skipped=$((skipped + 1)); continue
    fi
    echo "$(basename "$log" .log): ${line:-no result (crashed?)}"
    if [ -z "$line" ]; then failed=$((failed + 1)); continue; fi
    n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
    f=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
    e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
    passed=$((passed + n - f - e)); failed=$((failed + f + e))
  done
  echo "$passed passed, $failed failed, $skipped skipped"
}

BUILD_DIR="$top/build" "$top/scripts/build.sh" || exit 1
make -C "$top/build" -j"$(nproc)" check || status=1
[ "$status" = 0 ] || cat "$top"/build/tests/*/*.log | tail -n 200

# Sanitizers intercept malloc and pthreads themselves, so this build does
# not interpose (STYLE: sanitizer builds use --disable-interpose). It also
# checks pprofd's lock order (--enable-debug, base/lockrank.h).
BUILD_DIR="$top/build-asan" "$top/scripts/build.sh" \
  --enable-sanitizers=address,undefined --disable-interpose --enable-debug \
  CFLAGS="-g -O1" >/dev/null || exit 1
units=$(make -C "$top/build-asan" -s -f Makefile -f - print-units <<<'print-units: ; @echo $(UNIT_TESTS)')
ASAN_OPTIONS=detect_leaks=0 make -C "$top/build-asan" -j"$(nproc)" check \
  TESTS="$units" || status=1
[ "$status" = 0 ] || cat "$top"/build-asan/tests/unit/*.log | tail -n 100

summarize "$top/build" "$top/build-asan"
exit $status
