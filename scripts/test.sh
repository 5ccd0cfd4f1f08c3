#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: installs what is missing (Debian and npm
# packages), builds everything with warnings as errors, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
for dir in tests/graphql/js; do
  if [[ -f "$dir/package-lock.json" ]]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
scripts/build.sh -DSTACKHOUSE_WERROR=ON
cd build
ctest -j "$(nproc)" --output-on-failure --timeout 600
