#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: installs what is missing, builds the server and
# the agent simulator, and runs the server with config/application.yml (gRPC 11800, HTTP 12800,
# RocksDB in ./data). Extra arguments go to the server, e.g. --config PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -G Ninja -S . -B build -DSTACKHOUSE_BUILD_TESTS=OFF >/dev/null
ninja -C build -j "$(nproc)" stackhouse stackhouse-sim
exec build/src/stackhouse --config config/application.yml "$@"
