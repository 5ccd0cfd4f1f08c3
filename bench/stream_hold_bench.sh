#!/usr/bin/env bash
# Many agents at once (issue 14 item 5): starts stackhouse with a fresh temporary data directory
# on free loopback ports, runs `stackhouse-sim stream-hold` against it (--streams client streams
# held open at once over --connections connections, the server's threads and resident memory,
# and the latency of sequential unary calls while they are open), stops it. Prints the
# simulator's line and the server's threads once more after the streams closed.
#
#   bench/stream_hold_bench.sh [--build DIR] [--stackhouse BIN] [--config FILE]
#                              [--streams N] [--connections C] [--unary-calls U]
#
# --stackhouse and --config let an older binary (and its configuration) be measured with the
# same client. Everything binds 127.0.0.1; temporary files are removed at exit.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$repo/build
stackhouse=""
config=$repo/config/application.yml
streams=5000
connections=500
unary_calls=200

while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --stackhouse) stackhouse=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --streams) streams=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --unary-calls) unary_calls=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "stream_hold_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
stackhouse=${stackhouse:-$build/src/stackhouse}
sim=$build/bench/simulator/stackhouse-sim
for binary in "$sim" "$stackhouse"; do
  [[ -x $binary ]] || { echo "stream_hold_bench.sh: $binary not built" >&2; exit 1; }
done

work=$(mktemp -d /tmp/stream_hold_bench.XXXXXX)
server_pid=""
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

SW_CORE_GRPC_HOST=127.0.0.1 SW_CORE_GRPC_PORT=0 SW_CORE_REST_HOST=127.0.0.1 \
  SW_CORE_REST_PORT=0 SW_STORAGE_DATA_DIR=$work/data \
  "$stackhouse" --config "$config" >"$work/stackhouse.log" 2>&1 &
server_pid=$!
address=""
for _ in $(seq 1 200); do
  if grep -q 'ready: gRPC on' "$work/stackhouse.log"; then
    address=$(grep -m1 'ready: gRPC on' "$work/stackhouse.log" |
      sed -E 's/.*gRPC on ([0-9.]+:[0-9]+).*/\1/')
    break
  fi
  sleep 0.05
done
[[ -n $address ]] || { echo "stream_hold_bench.sh: server did not start:" >&2; cat "$work/stackhouse.log" >&2; exit 1; }

echo "stream-hold: $streams streams over $connections connections, $unary_calls unary calls;" \
  "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
timeout 900 "$sim" stream-hold --target "$address" --streams "$streams" \
  --connections "$connections" --unary-calls "$unary_calls" --server-pid "$server_pid" \
  --log-level warn || status=$?
kill -TERM "$server_pid"
timeout 60 tail --pid="$server_pid" -f /dev/null || kill -KILL "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
exit "$status"
