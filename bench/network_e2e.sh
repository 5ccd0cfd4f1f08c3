#!/usr/bin/env bash
# End-to-end cost of a network-profiling task (issue 13: ingest keeps up using <= 10 % of one
# core), against a stackhouse with a fresh temporary data directory on free loopback ports:
# a simulated Rover (`stackhouse-sim rover`) registers one pod of --processes processes (the
# application, its Envoy, further application processes), each chained to its neighbours and a
# client of --remote-peers remote addresses (half HTTP, half TCP) and served by a local peer;
# the operator's task is created through /graphql for that pod, and from the rover's next poll
# it reports the pod's network every 2 s (meters, sampled requests, their segments and attached
# events: four streams a round, as Rover does) beside its 5 s continuous-profiling meters.
# After --warmup seconds of reports, the server's CPU time (every thread: gRPC, parsing,
# metrics, RocksDB's flushes and compactions) is read from /proc over --seconds seconds.
# Prints one line:
#   network_e2e processes=P remote_peers=R seconds=S server_cpu_s=.. core_share=..% \
#     sim_cpu_s=.. network_reports=.. meters=.. errors=..
#
#   bench/network_e2e.sh [--build DIR] [--seconds N] [--warmup N] [--processes P]
#                        [--remote-peers R]
#
# Needs stackhouse and stackhouse-sim built in DIR (default: build, configured with
# -DSTACKHOUSE_BUILD_BENCH=ON), curl and python3.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/bench/lib.sh"
build=$repo/build
seconds=120
warmup=20
processes=50
remote_peers=40

while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --processes) processes=$2; shift 2 ;;
    --remote-peers) remote_peers=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "network_e2e.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
binary=$build/src/stackhouse
sim=$build/bench/simulator/stackhouse-sim
for tool in "$binary" "$sim"; do
  [[ -x $tool ]] || { echo "network_e2e.sh: $tool is not built" >&2; exit 2; }
done

work=$(mktemp -d)
server_pid=""
sim_pid=""
cleanup() {
  [[ -n $sim_pid ]] && kill "$sim_pid" 2>/dev/null || true
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_stackhouse "$binary" "$repo/config/application.yml" "$work"

"$sim" rover --target "127.0.0.1:$grpc_port" --processes "$processes" \
  --pod-processes "$processes" --remote-peers "$remote_peers" --chain --check-interval 1000 \
  --network-interval 2000 --run-for $(((warmup + seconds + 60) * 1000)) \
  >"$work/sim.out" 2>"$work/sim.log" &
sim_pid=$!

# booster-ui's documents: the pod (the only instance of reviews.default), then its task.
gql() {
  curl -sf "http://127.0.0.1:$http_port/graphql" -H 'content-type: application/json' -d "$1"
}
service_id=$(printf 'reviews.default' | base64).1
instance_id=""
for _ in $(seq 100); do
  now=$(date -u +%s)
  duration=$(python3 -c "import time; f=lambda t: time.strftime('%Y-%m-%d %H%M', time.gmtime(t)); \
print('{\"start\": \"%s\", \"end\": \"%s\", \"step\": \"MINUTE\"}' % (f($now - 600), f($now + 60)))")
  instance_id=$(gql "{\"query\": \"query q(\$s: ID!, \$d: Duration!) { listInstances(duration: \$d, serviceId: \$s) { id } }\", \"variables\": {\"s\": \"$service_id\", \"d\": $duration}}" |
    python3 -c 'import json,sys; i=json.load(sys.stdin)["data"]["listInstances"]; print(i[0]["id"] if i else "")' || true)
  [[ -n $instance_id ]] && break
  sleep 0.2
done
[[ -n $instance_id ]] || { echo "network_e2e.sh: the rover's pod never showed up" >&2; cat "$work/sim.log" >&2; exit 1; }
created=$(gql "{\"query\": \"mutation { createEBPFNetworkProfiling(request: {instanceId: \\\"$instance_id\\\", samplings: [{when4xx: false, when5xx: true, settings: {requireCompleteRequest: true, requireCompleteResponse: true}}]}) { status errorReason id } }\"}")
python3 -c 'import json,sys; r=json.loads(sys.argv[1])["data"]["createEBPFNetworkProfiling"]; sys.exit(0 if r["status"] else "task refused: %s" % r["errorReason"])' "$created"

cpu_seconds() {  # utime + stime of process $1, in seconds
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}
sleep "$warmup"
server_start=$(cpu_seconds "$server_pid")
sim_start=$(cpu_seconds "$sim_pid")
sleep "$seconds"
server_end=$(cpu_seconds "$server_pid")
sim_end=$(cpu_seconds "$sim_pid")
kill -INT "$sim_pid" 2>/dev/null || true
wait "$sim_pid" 2>/dev/null || true
sim_pid=""
summary=$(tail -n 1 "$work/sim.out")
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$summary"; }
awk -v p="$processes" -v r="$remote_peers" -v s="$seconds" -v a="$server_start" -v b="$server_end" \
  -v c="$sim_start" -v d="$sim_end" -v n="$(field network_reports)" -v m="$(field meters)" \
  -v e="$(field errors)" 'BEGIN {
    printf "network_e2e processes=%d remote_peers=%d seconds=%d server_cpu_s=%.2f core_share=%.1f%% sim_cpu_s=%.2f network_reports=%s meters=%s errors=%s\n",
      p, r, s, b - a, 100 * (b - a) / s, d - c, n, m, e }'
