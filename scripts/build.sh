#!/usr/bin/env bash
# Configures and builds Stackhouse into ./build (ninja, ccache when present).
# Extra arguments go to cmake's configure step, e.g. -DSTACKHOUSE_WERROR=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -G Ninja -S . -B build "$@" >/dev/null
ninja -C build -j "$(nproc)"
