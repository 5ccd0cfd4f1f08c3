#!/usr/bin/env bash
# HTTP load benchmark (issue 14), against a stackhouse with a fresh temporary data directory on
# free loopback ports:
#   1. booster-ui's task and schedule queries at --rate over --connections keep-alive
#      connections, alone and while eBPF ingest runs (--ingest: `rover`, a simulated Rover
#      uploading the stacks of --processes profiled processes every second; `load`, the
#      `rover-load` ingest benchmark at full speed over 2 streams; `none`);
#   2. with --slow S slow clients holding connections (half send a partial head a byte a second,
#      half send nothing): /healthz and /graphql, each request on a fresh connection as a probe
#      does, 10 per second.
# Prints one line per run (http_load's: p50, p99, max, errors).
#
#   bench/http_load.sh [--build DIR] [--binary PATH] [--config PATH] [--seconds N]
#                      [--rate R] [--connections C] [--slow S] [--ingest rover|load|none]
#                      [--processes P]
#
# Needs stackhouse, stackhouse-sim and http_load built in DIR (default: build; configure with
# -DSTACKHOUSE_BUILD_BENCH=ON). --binary runs another stackhouse (e.g. an older build) with the
# same tools; --config gives it a configuration it understands. Goal: p99 <= 5 ms at 200 req/s
# over six connections while ingest runs; /healthz and /graphql within 100 ms beside 1,000 slow
# clients.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/bench/lib.sh"
build=$repo/build
binary=""
config=$repo/config/application.yml
seconds=20
rate=200
connections=6
slow=1000
ingest=rover
processes=50

while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --slow) slow=$2; shift 2 ;;
    --ingest) ingest=$2; shift 2 ;;
    --processes) processes=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "http_load.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
binary=${binary:-$build/src/stackhouse}
sim=$build/bench/simulator/stackhouse-sim
load=$build/bench/http_load
for tool in "$binary" "$sim" "$load"; do
  [[ -x $tool ]] || { echo "http_load.sh: $tool is not built" >&2; exit 2; }
done

work=$(mktemp -d)
server_pid=""
ingest_pid=""
cleanup() {
  [[ -n $ingest_pid ]] && kill "$ingest_pid" 2>/dev/null || true
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

start_stackhouse "$binary" "$config" "$work"

run() { timeout $((seconds + 120)) "$load" --port "$http_port" "$@" || true; }

echo "# booster-ui queries, no ingest"
run --connections "$connections" --rate "$rate" --seconds "$seconds"

if [[ $ingest != none ]]; then
  case $ingest in
    rover)
      "$sim" rover --target "127.0.0.1:$grpc_port" --processes "$processes" --fake-task ON_CPU \
        --flush-interval 1000 --check-interval 1000 >"$work/ingest.log" 2>&1 &
      ;;
    load)
      "$sim" rover-load --target "127.0.0.1:$grpc_port" --messages 100000000 --streams 2 \
        >"$work/ingest.log" 2>&1 &
      ;;
    *) echo "http_load.sh: --ingest rover|load|none" >&2; exit 2 ;;
  esac
  ingest_pid=$!
  sleep 3
  echo "# booster-ui queries while ingest ($ingest) runs"
  run --connections "$connections" --rate "$rate" --seconds "$seconds"
  kill "$ingest_pid" 2>/dev/null || true
  wait "$ingest_pid" 2>/dev/null || true
  ingest_pid=""
fi

if [[ $slow -gt 0 ]]; then
  echo "# beside $slow slow clients (trickle), probes on fresh connections"
  run --path /healthz --fresh --connections 1 --rate 10 --seconds "$seconds" --slow "$slow" \
    --slow-mode trickle
  run --path /graphql --fresh --connections 1 --rate 10 --seconds "$seconds" --slow "$slow" \
    --slow-mode trickle
  echo "# beside $slow idle clients, probes on fresh connections"
  run --path /healthz --fresh --connections 1 --rate 10 --seconds "$seconds" --slow "$slow" \
    --slow-mode idle
fi
