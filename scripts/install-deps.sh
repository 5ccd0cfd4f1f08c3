#!/usr/bin/env bash
# Installs the Debian packages Stackhouse needs (Debian 12 "bookworm"). The lists live in
# scripts/packages/, one package a line, and are the only place packages are named:
#   install-deps.sh               build.txt + dev.txt      (scripts/run.sh)
#   install-deps.sh --test        build.txt + dev.txt + test.txt, and Node.js (scripts/test.sh)
#   install-deps.sh --build-only  build.txt                (the image's build stage)
# Idempotent and quiet when everything is already there. Run as root or with sudo available.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)/packages"

lists=(build dev)
case "${1:-}" in
  "") ;;
  --test) lists+=(test) ;;
  --build-only) lists=(build) ;;
  *) echo "usage: $0 [--test | --build-only]" >&2; exit 2 ;;
esac

packages=()
for list in "${lists[@]}"; do
  while read -r name _; do
    [[ -z $name || $name == \#* ]] || packages+=("$name")
  done < "$dir/$list.txt"
done
# Node.js runs the GraphQL client and browser tests. A machine may already have it from elsewhere
# (e.g. NodeSource, which bundles npm); only install Debian's when the commands are missing.
if [[ " ${lists[*]} " == *" test "* ]]; then
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
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
