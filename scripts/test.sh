#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: installs what is missing (Debian and npm
# packages), builds everything with warnings as errors, runs every test, then builds the
# container image and checks it (scripts/container-check.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
# The npm dependencies of the tests that run real JavaScript consumers (lockfiles committed).
for dir in tests/graphql/js tests/export/js tests/web; do
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
done
# ccache hits across clones of the repository in different folders.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(cd .. && pwd)}" CCACHE_NOHASHDIR=1
cmake -G Ninja -S . -B build -DSTACKHOUSE_WERROR=ON -DSTACKHOUSE_BUILD_TESTS=ON >/dev/null
ninja -C build -j "$(nproc)"
(cd build && ctest -j "$(nproc)" --output-on-failure --timeout 600)
scripts/container-check.sh build
