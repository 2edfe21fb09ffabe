#!/usr/bin/env bash
# Bootstraps autotools and builds pprofd in build/ (or $BUILD_DIR), passing
# any arguments to configure. Reconfigures only when asked or needed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
[ -x "$top/configure" ] && [ "$top/configure" -nt "$top/configure.ac" ] ||
  (cd "$top" && autoreconf -fi)
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ] || [ "$#" -gt 0 ] || [ "$top/configure" -nt Makefile ]; then
  "$top/configure" -q --enable-werror "$@"
fi
make -j"$(nproc)" all
