#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: installs what is missing, builds, and runs the
# server with config/application.yml (gRPC 11800, HTTP 12800, RocksDB in ./data).
# Extra arguments go to the server, e.g. --config PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh -DSTACKHOUSE_BUILD_BENCH=OFF
exec build/src/stackhouse --config config/application.yml "$@"
