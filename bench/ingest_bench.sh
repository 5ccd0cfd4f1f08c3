#!/usr/bin/env bash
# Ingest benchmarks over gRPC: the rate at which Stackhouse takes eBPF stacks (issue 5,
# `--load rover`: EBPFProfilingData messages), Rover's meters (`--load meter`: MeterData
# samples in collectBatch messages) or trace-profiling thread dumps (issue 15, `--load java`:
# ThreadSnapshot messages of one task over collectSnapshot), against the rate a do-nothing server
# built from the same proto and gRPC settings (bench/ebpf_null_server.cc) reaches with the same
# client in the same run.
#
# For every stream count K and repeat: start ebpf_null_server on a free loopback port, run
# `stackhouse-sim rover-load` (or `meter-load --register=false`, or `java-load
# --send-segments=false`) against it, stop it; start stackhouse with a fresh temporary data
# directory on free loopback ports, run the same load (`meter-load` registers its processes
# first, `java-load` reports the snapshots' segments first, untimed), stop it. Prints each run
# (rate, client and server CPU seconds), then per K the median rates and their ratio.
# Everything binds 127.0.0.1 and every step is bounded by a timeout; temporary files are removed
# at exit. --nodes N (with --storage postgresql; rover and meter loads) starts N Stackhouse nodes
# over one database, and N clients at once, one per node (client i of 1..N seeded i, 1/N of
# the messages): the rate is all clients' messages over the slowest client's time, the server
# CPU the nodes' sum; the null run has N null servers and clients alike.
#
#   bench/ingest_bench.sh [--build DIR] [--load rover|meter|java] [--messages N] [--streams "2 4 8"]
#                         [--repeat R] [--warmup N] [--depth D] [--stacks P]
#                         [--target-type ON_CPU|OFF_CPU] [--samples N] [--per-message S]
#                         [--processes P] [--coalesce true|false] [--stackhouse BIN] [--keep]
#                         [--storage rocksdb|postgresql] [--nodes N]
#
# Needs the targets stackhouse, stackhouse-sim and ebpf_null_server built in DIR (default:
# build); --stackhouse measures another stackhouse binary (e.g. main's, for a before figure) with
# this checkout's client, null server and config. --storage postgresql runs Stackhouse on a
# throw-away PostgreSQL 15 cluster on the same machine (initdb into the work directory, as user
# nobody when run as root; a unix socket only; PostgreSQL's default durability settings: fsync
# and synchronous_commit on), a fresh database per run. Goals: rover >= 200,000 msg/s, meter >= 500,000
# samples/s, java >= 100,000 msg/s (depth 60, 4 streams), and >= 80% of the null server's rate.
# With --load meter, --messages and --warmup count samples (default 2,000,000 and 100,000;
# --samples is the same as --messages); with --load java they count snapshots (default 1,000,000
# and 20,000; --depth defaults to 60).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$repo/build
load=rover
messages=""
warmup=""
per_message=100
processes=100
streams="2 4 8"
repeat=3
depth=""
stacks=500
target=ON_CPU
coalesce=true
keep=false
stackhouse=""
storage=rocksdb
nodes=1
step_timeout=600

while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --load) load=$2; shift 2 ;;
    --messages|--samples) messages=$2; shift 2 ;;
    --per-message) per_message=$2; shift 2 ;;
    --processes) processes=$2; shift 2 ;;
    --streams) streams=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --depth) depth=$2; shift 2 ;;
    --stacks) stacks=$2; shift 2 ;;
    --target-type) target=$2; shift 2 ;;
    --coalesce) coalesce=$2; shift 2 ;;
    --stackhouse) stackhouse=$2; shift 2 ;;
    --keep) keep=true; shift ;;
    --storage) storage=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "ingest_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case $load in
  rover) messages=${messages:-1000000}; warmup=${warmup:-20000}; depth=${depth:-30}; unit=msg/s ;;
  meter) messages=${messages:-2000000}; warmup=${warmup:-100000}; unit=samples/s ;;
  java) messages=${messages:-1000000}; warmup=${warmup:-20000}; depth=${depth:-60}; unit=msg/s ;;
  *) echo "ingest_bench.sh: --load must be rover, meter or java" >&2; exit 2 ;;
esac

case $storage in
  rocksdb|postgresql) ;;
  *) echo "ingest_bench.sh: --storage must be rocksdb or postgresql" >&2; exit 2 ;;
esac
if ! [[ $nodes =~ ^[1-9]$ ]]; then
  echo "ingest_bench.sh: --nodes must be within [1, 9]" >&2; exit 2
fi
if [[ $nodes -gt 1 && ( $storage != postgresql || $load == java ) ]]; then
  echo "ingest_bench.sh: --nodes > 1 needs --storage postgresql and --load rover or meter" >&2
  exit 2
fi

sim=$build/bench/simulator/stackhouse-sim
null_server=$build/bench/ebpf_null_server
stackhouse=${stackhouse:-$build/src/stackhouse}
for binary in "$sim" "$null_server" "$stackhouse"; do
  [[ -x $binary ]] || { echo "ingest_bench.sh: $binary not built" >&2; exit 1; }
done

work=$(mktemp -d /tmp/ingest_bench.XXXXXX)
server_pids=()
addresses=()
pg_bin=/usr/lib/postgresql/15/bin
pg_pid=""
pg_databases=0
cleanup() {
  local pid
  for pid in "${server_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [[ -n $pg_pid ]] && kill -0 "$pg_pid" 2>/dev/null; then
    kill -INT "$pg_pid" 2>/dev/null || true  # the postmaster's fast shutdown
    timeout 30 tail --pid="$pg_pid" -f /dev/null || kill -QUIT "$pg_pid" 2>/dev/null || true
  fi
  if [[ $keep == true ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Waits until `file` has a line matching `pattern` (10 s at most) while server `pid` runs;
# prints that line.
wait_for_line() {
  local file=$1 pattern=$2 pid=$3
  for _ in $(seq 1 200); do
    if grep -q -m1 "$pattern" "$file" 2>/dev/null; then grep -m1 "$pattern" "$file"; return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "ingest_bench.sh: server did not start; its output:" >&2
  cat "$file" >&2
  return 1
}

# CPU seconds (user + system) the server processes have used so far.
server_cpu() {
  local total=0 pid
  for pid in "${server_pids[@]}"; do
    total=$(awk -v t="$total" -v hz="$(getconf CLK_TCK)" \
      '{ printf "%.2f", t + ($14 + $15) / hz }' "/proc/$pid/stat")
  done
  echo "$total"
}

# Bytes of the current run's database.
database_size() {
  "$pg_bin/psql" -h "$work/pg" -p 5432 -U postgres -d "bench$pg_databases" -Atc \
    "select pg_database_size(current_database())"
}

# CPU seconds the PostgreSQL cluster (postmaster and its backends) has used so far; 0 without.
db_cpu() {
  [[ -n $pg_pid ]] || { echo 0; return; }
  local total=0 pid
  for pid in $pg_pid $(pgrep -P "$pg_pid"); do
    total=$(awk -v t="$total" -v hz="$(getconf CLK_TCK)" \
      '{ printf "%.2f", t + ($14 + $15) / hz }' "/proc/$pid/stat" 2>/dev/null || echo "$total")
  done
  echo "$total"
}

stop_server() {
  local pid
  for pid in "${server_pids[@]}"; do kill -TERM "$pid"; done
  for pid in "${server_pids[@]}"; do
    timeout 30 tail --pid="$pid" -f /dev/null || kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
  done
  server_pids=()
  addresses=()
}

# Both start $nodes servers in this shell (in server_pids) and put their gRPC addresses in
# `addresses`.
start_null() {
  local i
  for i in $(seq 1 "$nodes"); do
    "$null_server" --address 127.0.0.1:0 >"$work/null-$i.out" 2>&1 &
    server_pids+=($!)
    addresses+=("$(wait_for_line "$work/null-$i.out" '^listening on' $! | awk '{ print $3 }')")
  done
}

# Runs `command...` as the cluster's owner (nobody when this script runs as root).
as_pg_user() {
  if [[ $(id -u) == 0 ]]; then runuser -u nobody -- "$@"; else "$@"; fi
}

# Starts the throw-away PostgreSQL cluster in $work/pg (sets pg_pid).
start_postgresql() {
  [[ -x $pg_bin/initdb ]] || {
    echo "ingest_bench.sh: $pg_bin/initdb missing: install Debian's postgresql" >&2; exit 1; }
  mkdir -p "$work/pg"
  [[ $(id -u) == 0 ]] && chown nobody "$work" "$work/pg"
  chmod 755 "$work"
  as_pg_user "$pg_bin/initdb" -D "$work/pg/data" -A trust -U postgres -E UTF8 --locale=C \
    --no-instructions >"$work/pg/initdb.log" 2>&1 ||
    { cat "$work/pg/initdb.log" >&2; exit 1; }
  as_pg_user "$pg_bin/postgres" -D "$work/pg/data" -k "$work/pg" -p 5432 -c listen_addresses= \
    -c max_connections=200 >"$work/pg/server.log" 2>&1 &
  for _ in $(seq 1 300); do
    if "$pg_bin/pg_isready" -q -h "$work/pg" -p 5432; then
      pg_pid=$(head -1 "$work/pg/data/postmaster.pid")  # not runuser's pid
      return 0
    fi
    sleep 0.1
  done
  echo "ingest_bench.sh: PostgreSQL did not start:" >&2; cat "$work/pg/server.log" >&2; exit 1
}

start_stackhouse() {
  local data=$1
  local storage_env=()
  if [[ $storage == postgresql ]]; then
    pg_databases=$((pg_databases + 1))
    "$pg_bin/createdb" -h "$work/pg" -p 5432 -U postgres "bench$pg_databases"
    pg_size_before=$(database_size)
    storage_env=(SW_STORAGE=postgresql SW_STORAGE_POSTGRESQL_HOST="$work/pg"
                 SW_STORAGE_POSTGRESQL_PORT=5432 SW_STORAGE_POSTGRESQL_USER=postgres
                 SW_STORAGE_POSTGRESQL_DATABASE="bench$pg_databases")
  fi
  local i
  for i in $(seq 1 "$nodes"); do
    env "${storage_env[@]}" SW_CORE_GRPC_HOST=127.0.0.1 SW_CORE_GRPC_PORT=0 \
      SW_CORE_REST_HOST=127.0.0.1 SW_CORE_REST_PORT=0 SW_STORAGE_DATA_DIR=$data-$i \
      "$stackhouse" --config "$repo/config/application.yml" >"$work/stackhouse-$i.log" 2>&1 &
    server_pids+=($!)
  done
  for i in $(seq 1 "$nodes"); do
    addresses+=("$(wait_for_line "$work/stackhouse-$i.log" 'ready: gRPC on' \
      "${server_pids[$((i - 1))]}" | sed -E 's/.*gRPC on ([0-9.]+:[0-9]+).*/\1/')")
  done
}

# Runs the load against the servers in `addresses`, one client each (`real` true for
# stackhouse); prints "<rate> <client cpu s> <server cpu s>".
run_load() {
  local k=$1 real=$2 mode count
  local flags=(--streams "$k" --coalesce="$coalesce" --log-level warn)
  if [[ $load == rover ]]; then
    mode=rover-load count=--messages
    flags+=(--depth "$depth" --stacks "$stacks" --target-type "$target")
  elif [[ $load == java ]]; then
    mode=java-load count=--snapshots
    flags+=(--depth "$depth" --send-segments="$real")
  else
    mode=meter-load count=--samples
    flags+=(--per-message "$per_message" --processes "$processes" --register="$real")
  fi
  local i pids=()
  if [[ $warmup -gt 0 ]]; then
    for i in $(seq 1 "$nodes"); do
      timeout "$step_timeout" "$sim" "$mode" "${flags[@]}" --target "${addresses[$((i - 1))]}" \
        --seed "$i" "$count" $((warmup / nodes)) >/dev/null &
      pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
    pids=()
  fi
  local cpu_before; cpu_before=$(server_cpu)
  for i in $(seq 1 "$nodes"); do
    timeout "$step_timeout" "$sim" "$mode" "${flags[@]}" --target "${addresses[$((i - 1))]}" \
      --seed "$i" "$count" $((messages / nodes)) >"$work/load-$i.out" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  local cpu_after; cpu_after=$(server_cpu)
  local total=0 slowest=0 client=0 out
  for i in $(seq 1 "$nodes"); do
    out=$(cat "$work/load-$i.out")
    echo "  $out" >&2
    [[ $out == *" errors=0" ]] || { echo "ingest_bench.sh: the load had errors" >&2; exit 1; }
    read -r total slowest client < <(awk -v t="$total" -v s="$slowest" -v c="$client" '{
      for (f = 1; f <= NF; ++f) {
        split($f, kv, "=")
        if (kv[1] == "rate") rate = kv[2]
        if (kv[1] == "seconds") seconds = kv[2]
        if (kv[1] == "client_cpu") cpu = kv[2]
      }
      printf "%.0f %.3f %.2f\n", t + rate * seconds, (seconds > s ? seconds : s), c + cpu
    }' <<<"$out")
  done
  echo "$(awk -v t="$total" -v s="$slowest" 'BEGIN { printf "%.0f", t / s }') $client" \
    "$(awk -v a="$cpu_before" -v b="$cpu_after" 'BEGIN { printf "%.2f", b - a }')"
}

# The median of the numbers on stdin (space-separated).
median() {
  tr ' ' '\n' | sort -n |
    awk '{ v[NR] = $1 }
         END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

if [[ $load == rover ]]; then
  echo "ingest benchmark: $messages messages (+$warmup warm-up) of $depth symbols from" \
    "$stacks stacks, target $target, coalesce $coalesce, streams: $streams," \
    "$repeat repeat(s); $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
elif [[ $load == java ]]; then
  echo "snapshot ingest benchmark: $messages thread dumps (+$warmup warm-up) of depth $depth," \
    "coalesce $coalesce, streams: $streams, $repeat repeat(s); $(nproc) cores, load average" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
else
  echo "meter intake benchmark: $messages samples (+$warmup warm-up) in messages of" \
    "$per_message from $processes processes, coalesce $coalesce, streams: $streams," \
    "$repeat repeat(s); $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
fi
if [[ $storage == postgresql ]]; then
  start_postgresql
  echo "storage: PostgreSQL $("$pg_bin/postgres" --version | awk '{ print $3 }') in $work/pg" \
    "(default durability: fsync on, synchronous_commit on); $nodes node(s) over one database"
fi
summary=()
for k in $streams; do
  null_rates=()
  real_rates=()
  for r in $(seq 1 "$repeat"); do
    start_null
    echo "K=$k run $r: null server on ${addresses[*]}" >&2
    run_load "$k" false >"$work/result"
    read -r rate client server <"$work/result"
    stop_server
    null_rates+=("$rate")
    printf 'K=%s run %s null       rate=%8s %s  client_cpu=%5ss  server_cpu=%5ss\n' \
      "$k" "$r" "$rate" "$unit" "$client" "$server"

    start_stackhouse "$work/data-$k-$r"
    echo "K=$k run $r: stackhouse on ${addresses[*]}" >&2
    db_before=$(db_cpu)
    run_load "$k" true >"$work/result"
    db_after=$(db_cpu)
    read -r rate client server <"$work/result"
    stop_server
    if [[ $storage == postgresql ]]; then
      grown=$(($(database_size) - pg_size_before))
      echo "  database: cpu=$(awk -v a="$db_before" -v b="$db_after" \
        'BEGIN { printf "%.2f", b - a }')s grew by $((grown / 1024)) KiB (schema included)" >&2
    fi
    if [[ $keep == true ]]; then
      echo "  data directories: $(du -shc "$work/data-$k-$r"-* | tail -1 | cut -f1)" >&2
    else
      rm -rf "$work/data-$k-$r"-*
    fi
    real_rates+=("$rate")
    printf 'K=%s run %s stackhouse rate=%8s %s  client_cpu=%5ss  server_cpu=%5ss\n' \
      "$k" "$r" "$rate" "$unit" "$client" "$server"
  done
  null_median=$(echo "${null_rates[*]}" | median)
  real_median=$(echo "${real_rates[*]}" | median)
  ratio=$(awk -v a="$real_median" -v b="$null_median" 'BEGIN { printf "%.1f", 100 * a / b }')
  summary+=("$(printf 'K=%-3s null=%8s %s  stackhouse=%8s %s  ratio=%5s%%' \
    "$k" "$null_median" "$unit" "$real_median" "$unit" "$ratio")")
done
echo "medians:"
printf '  %s\n' "${summary[@]}"
