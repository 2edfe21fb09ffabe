#!/usr/bin/env bash
# Fails if any C source differs from .clang-format's layout. Reads the
# tree the script sits in, so it runs as it is from a checkout, from a
# VPATH build's make check and from make distcheck's read-only sources;
# exits 77 (skipped, to make check) when clang-format is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null 2>&1; then
  echo "check-format: skipped: clang-format is not installed"
  exit 77
fi
# A git checkout lists its own sources; a release tree (or one with build
# output in it) is searched, leaving out the generated files.
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
  files=$(git ls-files '*.c' '*.h' '*.cc')
else
  files=$(find src include tests examples bench \
    \( -name '*.[ch]' -o -name '*.cc' \) \
    ! -name '*.pb-c.[ch]' ! -name syscall_names.h ! -name pprofd_version.h |
    sort)
fi
bad=0
for f in $files; do
  if ! clang-format --style=file "$f" | cmp -s - "$f"; then
    echo "not formatted: $f (run clang-format -i $f)"
    bad=1
  fi
done
[ "$bad" = 0 ] && echo "check-format: ok"
exit $bad
