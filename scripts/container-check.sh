#!/usr/bin/env bash
# The container check (part of scripts/test.sh): builds docker/Dockerfile and proves the image
# works as an operator runs it.
#   scripts/container-check.sh [BUILD_DIR]     BUILD_DIR holds the simulator (default: build)
#
# 1. builds the image with ../shared/tools/container (buildah; cached base and layers, ccache
#    mount), and checks its size (<= 80 MB), user (10001, not root), health check, and that it
#    holds no shell or package manager;
# 2. runs it on a host data folder and free ports, waits for /healthz, registers a service with a
#    real gRPC client (the simulator playing a Java agent), reads it back through /graphql, runs
#    the image's health-check command, checks the server's uid and the data files' owner;
# 3. stops it with SIGTERM (exit code 0), starts it again on the same folder and finds the data.
# Prints the figures (build time, size and split, time to healthy, RSS, stop time) and writes them
# to BUILD_DIR/container-check.txt.
#
# This machine has no Docker engine: the image is built by the shared tool and run with buildah
# directly (chroot isolation, host network), because the tool's `run` needs a shell in the image
# and this image has none. With a Docker engine the same check is `docker build` + `docker run`
# (docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=$(cd "${1:-build}" && pwd)
tool=../shared/tools/container
tag=localhost/stackhouse:check
sim=$build_dir/bench/simulator/stackhouse-sim
max_image_mb=80
uid=10001
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
bah() { buildah --storage-driver vfs "$@"; }
pod() { podman --storage-driver vfs "$@"; }

fail() { echo "container-check: FAIL: $*" >&2; exit 1; }
[[ -x $tool ]] || fail "$tool not found (the workplace's buildah wrapper); with a Docker engine see docs/operations.md"
[[ -x $sim ]] || fail "$sim not built (ninja -C $build_dir stackhouse-sim)"

now_ms() { date +%s%3N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

work=$(mktemp -d /tmp/stackhouse-container-check.XXXXXX)
containers=()
cleanup() {
  for c in "${containers[@]}"; do bah rm "$c" >/dev/null 2>&1 || true; done
  [[ -n ${server_pid:-} ]] && kill -KILL "$server_pid" 2>/dev/null || true
  rm -rf "$work"
  # Each build leaves its intermediate layers and the previous image untagged, each a full copy
  # with vfs (one check: 24 images, 7.4 GB); dangling ones older than two hours are no longer
  # anyone's cache.
  pod image prune -f --filter until=2h >/dev/null 2>&1 || true
}
trap cleanup EXIT

# --- 1. build and inspect --------------------------------------------------------------------
start=$(now_ms)
"$tool" build docker/Dockerfile "$tag" > "$work/build.log" 2>&1 || { tail -n 40 "$work/build.log"; fail "image build"; }
build_s=$(( ($(now_ms) - start) / 1000 ))

size_bytes=$(pod image inspect --format '{{.Size}}' "$tag")
size_mb=$(( size_bytes / 1000000 ))
(( size_mb <= max_image_mb )) || fail "image is $size_mb MB, more than $max_image_mb MB"

user=$(bah inspect --type image --format '{{.Docker.Config.User}}' "$tag")
[[ $user == "$uid:$uid" ]] || fail "image user is '$user', want $uid:$uid"
health=$(bah inspect --type image --format '{{.Docker.Config.Healthcheck.Test}}' "$tag")
[[ $health == *"--health-check"* ]] || fail "image has no HEALTHCHECK running --health-check ($health)"

inspect=$(bah from --pull-never "$tag"); containers+=("$inspect")
root=$(bah mount "$inspect")
for f in bin/sh usr/bin/sh bin/bash usr/bin/apt usr/bin/dpkg usr/bin/perl; do
  [[ ! -e $root/$f ]] || fail "image holds /$f"
done
binary_mb=$(( $(stat -c %s "$root/usr/local/bin/stackhouse") / 1000000 ))
libs=$(find "$root/usr/lib" -name '*.so*' -type f | wc -l)
libs_mb=$(find "$root/usr/lib" -name '*.so*' -type f -printf '%s\n' | awk '{ s += $1 } END { print int(s / 1000000) }')
bah umount "$inspect" >/dev/null

# --- 2. run on a host folder -----------------------------------------------------------------
data=$work/data
mkdir -p "$data" && chown "$uid:$uid" "$data"
grpc_port=$(free_port); http_port=$(free_port)
[[ $grpc_port != "$http_port" ]] || http_port=$(free_port)
envs=(--env "SW_CORE_GRPC_PORT=$grpc_port" --env "SW_CORE_REST_PORT=$http_port"
      --env SW_CORE_GRPC_HOST=127.0.0.1 --env SW_CORE_REST_HOST=127.0.0.1)

server_pid=
start_server() {  # starts the image's entrypoint in the background; sets server_pid
  local c; c=$(bah from --pull-never "$tag"); containers+=("$c")
  bah run --isolation chroot --network host --user "$uid:$uid" "${envs[@]}" \
    --volume "$data:/var/lib/stackhouse" --workingdir /var/lib/stackhouse "$c" -- \
    /usr/local/bin/stackhouse --config /etc/stackhouse/application.yml >> "$work/server.log" 2>&1 &
  server_pid=$!
}
wait_healthy() {  # sets healthy_ms: ms until /healthz answered 200
  local begin; begin=$(now_ms)
  for _ in $(seq 1 300); do
    if curl -fsS "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1; then
      healthy_ms=$(( $(now_ms) - begin )); return
    fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; fail "server exited before /healthz"; }
    sleep 0.1
  done
  cat "$work/server.log"; fail "no /healthz within 30 s"
}
stackhouse_pid() {  # the server process itself (a descendant of buildah run)
  pgrep -u "$uid" -x stackhouse | head -n 1
}
stop_server() {  # SIGTERM; checks exit code 0; sets stop_ms: ms to exit
  local pid begin code=0; pid=$(stackhouse_pid); begin=$(now_ms)
  [[ -n $pid ]] || fail "no stackhouse process running as uid $uid"
  kill -TERM "$pid"
  wait "$server_pid" || code=$?
  server_pid=
  (( code == 0 )) || { cat "$work/server.log"; fail "server exited with $code after SIGTERM"; }
  stop_ms=$(( $(now_ms) - begin ))
}
graphql() {
  curl -fsS "http://127.0.0.1:$http_port/graphql" -H 'content-type: application/json' -d "$1"
}
services() { graphql '{"query":"{ listServices(layer: \"GENERAL\") { name } }"}'; }

start_server
wait_healthy
first_healthy_ms=$healthy_ms
pid=$(stackhouse_pid)
[[ -n $pid ]] || fail "the server does not run as uid $uid"
rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")

"$sim" java --target "127.0.0.1:$grpc_port" --agents 1 --service container-check \
  --poll-interval 500 --run-for 2000 > "$work/sim.log" 2>&1 || { cat "$work/sim.log"; fail "simulator"; }
grep -q 'errors=0' "$work/sim.log" || { cat "$work/sim.log"; fail "the simulator's gRPC calls failed"; }
[[ $(services) == *'"container-check"'* ]] || fail "registered service not listed: $(services)"

probe=$(bah from --pull-never "$tag"); containers+=("$probe")
bah run --isolation chroot --network host --user "$uid:$uid" "${envs[@]}" "$probe" -- \
  /usr/local/bin/stackhouse --config /etc/stackhouse/application.yml --health-check \
  || fail "the health-check command failed against a running server"
owner=$(stat -c %u "$data/db")
[[ $owner == "$uid" ]] || fail "data written as uid $owner, want $uid"

stop_server
if bah run --isolation chroot --network host --user "$uid:$uid" "${envs[@]}" "$probe" -- \
    /usr/local/bin/stackhouse --config /etc/stackhouse/application.yml --health-check 2>/dev/null; then
  fail "the health-check command passed with no server running"
fi

# --- 3. restart on the same folder -----------------------------------------------------------
start_server
wait_healthy
restart_healthy_ms=$healthy_ms
[[ $(services) == *'"container-check"'* ]] || fail "data lost across a restart: $(services)"
first_stop_ms=$stop_ms
stop_server

report="image: $size_mb MB ($tag; binary $binary_mb MB, $libs shared libraries $libs_mb MB)
build: ${build_s} s
healthy after start: ${first_healthy_ms} ms (restart on the same data: ${restart_healthy_ms} ms)
RSS when healthy: $(( rss_kb / 1024 )) MB
SIGTERM to exit: ${first_stop_ms} ms
user: $uid; health check: ok; no shell or package manager"
echo "$report" > "$build_dir/container-check.txt"
echo "$report"
"$tool" size "$tag"
echo "container check: ok"
