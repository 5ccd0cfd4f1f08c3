#!/usr/bin/env bash
# Installs the Debian packages Stackhouse needs to build and test (Debian 12 "bookworm").
# Idempotent and quiet when everything is already there. Run as root or with sudo available.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  librocksdb-dev libyaml-cpp-dev libspdlog-dev libssl-dev
  libcpp-httplib-dev nlohmann-json3-dev rapidjson-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  curl ca-certificates
)
# Node.js runs the GraphQL client tests. A machine may already have it from elsewhere (e.g.
# NodeSource, which bundles npm); only install Debian's when the commands are missing.
if [[ "${1:-}" == "--test" ]]; then
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
  # `go tool pprof` reads the pprof exports back in tests/export.
  packages+=(golang-go)
  # The browser test of the web page (tests/web): headless Chromium driven by playwright-core,
  # and a font for the page's text.
  packages+=(chromium fonts-dejavu-core)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi
