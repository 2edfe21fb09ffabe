#!/usr/bin/env bash
# Installs the Debian packages pprofd builds, tests and benchmarks with.
# Runs apt-get only when something is missing (and then updates first).
set -euo pipefail
PKGS="build-essential autoconf automake libtool pkg-config
  libmicrohttpd-dev libprotobuf-c-dev protobuf-c-compiler zlib1g-dev
  libunwind-dev libdw-dev libelf-dev check golang-go curl clang-format"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "pprofd: installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    --no-install-recommends $missing
fi
