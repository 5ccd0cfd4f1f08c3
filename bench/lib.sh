# Shared by the benchmark scripts (source it; bash).

# start_stackhouse BINARY CONFIG WORK: starts BINARY with CONFIG on free loopback ports, its
# data in WORK/data and its log in WORK/server.log, and waits until it listens. Sets
# server_pid, grpc_port and http_port; exits the script, printing the log, if it does not start.
start_stackhouse() {
  local binary=$1 config=$2 work=$3
  SW_CORE_GRPC_HOST=127.0.0.1 SW_CORE_GRPC_PORT=0 SW_CORE_REST_HOST=127.0.0.1 SW_CORE_REST_PORT=0 \
    SW_STORAGE_DATA_DIR=$work/data SW_LOG_LEVEL=warn \
    "$binary" --config "$config" --ports-file "$work/ports" >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 300); do
    [[ -s $work/ports ]] && grep -q '^http=' "$work/ports" && break
    sleep 0.1
  done
  grpc_port=$(sed -n 's/^grpc=//p' "$work/ports")
  http_port=$(sed -n 's/^http=//p' "$work/ports")
  [[ -n $http_port ]] || { echo "stackhouse did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
}
