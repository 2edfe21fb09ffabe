#!/usr/bin/env bash
# Installs the Debian packages pprofd builds, tests and benchmarks with.
# Runs apt-get only when something is missing (and then updates first).
set -euo pipefail
# prometheus: the real server (and promtool) the /metrics end-to-end
# test scrapes with.
PKGS="build-essential autoconf automake libtool pkg-config
  libmicrohttpd-dev libprotobuf-c-dev protobuf-c-compiler zlib1g-dev
  libunwind-dev libdw-dev libelf-dev libgnutls28-dev check golang-go curl
  clang-format prometheus openssl"
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

# Optional: a real trace viewer for the end-to-end trace test (speedscope
# from the npm registry in headless Chromium). A failure here only makes
# that check skip, with a message; it never stops the build.
viewer_missing=""
command -v chromium >/dev/null 2>&1 || viewer_missing="chromium"
command -v npm >/dev/null 2>&1 || viewer_missing="$viewer_missing nodejs npm"
if [ -n "$viewer_missing" ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "pprofd: installing the trace viewer's tools:$viewer_missing"
  { $SUDO apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      --no-install-recommends $viewer_missing; } ||
    echo "pprofd: could not install$viewer_missing: the viewer check will skip"
fi
if command -v npm >/dev/null 2>&1 &&
   [ ! -d "$(npm root -g 2>/dev/null)/speedscope" ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO npm install -g --no-fund --no-audit speedscope@1.25.0 >/dev/null 2>&1 ||
    echo "pprofd: could not install speedscope: the viewer check will skip"
fi
