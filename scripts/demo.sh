#!/usr/bin/env bash
# Installs dependencies, builds pprofd and runs the demo daemon on
# http://127.0.0.1:6060/debug/pprof/ (PPROFD_ADDR overrides).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
"$top/scripts/build.sh"
export PPROFD_ADDR=${PPROFD_ADDR:-127.0.0.1:6060}
exec "${BUILD_DIR:-$top/build}/examples/pprofd-demo" "$@"
