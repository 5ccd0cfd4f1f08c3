#include "storage/pg/pg_schema.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace stackhouse::storage::pg {
namespace {

// The advisory lock every migrator takes ("Stckhse1"): one database, one migration at a time.
constexpr int64_t kMigrationLock = 0x537463686b736531;

// Migration n (1-based) is kMigrations[n - 1]; append, never edit a released one. Text keys
// sort as bytes (COLLATE "C"), like RocksDB's keys, whatever the database's locale.
const std::vector<const char*>& Migrations() {
  static const auto* migrations = new std::vector<const char*>{
      // 1: services, instances, endpoints; segments; trace-profiling tasks, logs, thread dumps
      // over a stack dictionary (one row per distinct stack, by the SHA-256 of its frames) and
      // Go profiles.
      R"sql(
CREATE TABLE sh_service (
  id text COLLATE "C" PRIMARY KEY,
  name text NOT NULL,
  layers text[] COLLATE "C" NOT NULL,
  normal boolean NOT NULL,
  first_seen_ms bigint NOT NULL,
  last_seen_ms bigint NOT NULL);
CREATE TABLE sh_instance (
  id text COLLATE "C" PRIMARY KEY,
  service_id text COLLATE "C" NOT NULL,
  name text NOT NULL,
  layer text NOT NULL,
  properties bytea NOT NULL,
  first_seen_ms bigint NOT NULL,
  last_heartbeat_ms bigint NOT NULL);
CREATE INDEX sh_instance_by_service ON sh_instance (service_id, id);
CREATE TABLE sh_endpoint (
  id text COLLATE "C" PRIMARY KEY,
  service_id text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  first_seen_ms bigint NOT NULL,
  last_seen_ms bigint NOT NULL);
CREATE INDEX sh_endpoint_by_service ON sh_endpoint (service_id, first_seen_ms DESC, name);
CREATE TABLE sh_segment (
  segment_id text COLLATE "C" PRIMARY KEY,
  trace_id text COLLATE "C" NOT NULL,
  instance_id text COLLATE "C" NOT NULL,
  service_id text NOT NULL,
  endpoint_id text NOT NULL,
  endpoint_name text NOT NULL,
  start_time_ms bigint NOT NULL,
  latency_ms integer NOT NULL,
  is_error boolean NOT NULL,
  body bytea NOT NULL);
CREATE INDEX sh_segment_by_trace ON sh_segment (trace_id, instance_id, segment_id);
CREATE TABLE sh_profile_task (
  id text COLLATE "C" PRIMARY KEY,
  service_id text NOT NULL,
  endpoint_name text NOT NULL,
  start_time_ms bigint NOT NULL,
  duration_minutes integer NOT NULL,
  min_duration_threshold_ms integer NOT NULL,
  dump_period_ms integer NOT NULL,
  max_sampling_count integer NOT NULL,
  create_time_ms bigint NOT NULL);
CREATE TABLE sh_profile_task_log (
  task_id text COLLATE "C" NOT NULL,
  operation_time_ms bigint NOT NULL,
  instance_id text COLLATE "C" NOT NULL,
  operation integer NOT NULL,
  task_end_ms bigint NOT NULL,
  PRIMARY KEY (task_id, operation_time_ms, instance_id, operation));
CREATE TABLE sh_profile_stack (
  id bigserial PRIMARY KEY,
  digest bytea NOT NULL UNIQUE,
  frames bytea NOT NULL,
  stamp_ms bigint NOT NULL);
CREATE TABLE sh_profile_dump (
  segment_id text COLLATE "C" NOT NULL,
  sequence integer NOT NULL,
  dump_time_ms bigint NOT NULL,
  stack_id bigint NOT NULL,
  language smallint NOT NULL,
  PRIMARY KEY (segment_id, sequence));
CREATE TABLE sh_profiled_segment (
  task_id text COLLATE "C" NOT NULL,
  dump_time_ms bigint NOT NULL,
  segment_id text COLLATE "C" NOT NULL,
  PRIMARY KEY (task_id, dump_time_ms, segment_id));
CREATE TABLE sh_go_profile (
  id bigserial PRIMARY KEY,
  dump_time_ms bigint NOT NULL,
  pprof bytea NOT NULL);
CREATE TABLE sh_go_segment_profile (
  segment_id text COLLATE "C" NOT NULL,
  dump_time_ms bigint NOT NULL,
  profile_id bigint NOT NULL,
  task_id text NOT NULL,
  PRIMARY KEY (segment_id, dump_time_ms, profile_id));
)sql",
      // 2: eBPF processes, tasks, schedules, the eBPF stack dictionary and sample blocks (one row
      // per upload and target type).
      R"sql(
CREATE TABLE sh_ebpf_process (
  id text COLLATE "C" PRIMARY KEY,
  last_ping_ms bigint NOT NULL,
  body bytea NOT NULL);
CREATE TABLE sh_ebpf_task (
  logical_id text COLLATE "C" NOT NULL,
  create_time_ms bigint NOT NULL,
  body bytea NOT NULL,
  PRIMARY KEY (logical_id, create_time_ms));
CREATE TABLE sh_ebpf_schedule (
  schedule_id text COLLATE "C" PRIMARY KEY,
  task_id text COLLATE "C" NOT NULL,
  process_id text NOT NULL,
  start_time_ms bigint NOT NULL,
  end_time_ms bigint NOT NULL);
CREATE INDEX sh_ebpf_schedule_by_task ON sh_ebpf_schedule (task_id);
CREATE TABLE sh_ebpf_stack (
  id bigserial PRIMARY KEY,
  digest bytea NOT NULL UNIQUE,
  frames bytea NOT NULL,
  stamp_ms bigint NOT NULL);
CREATE TABLE sh_ebpf_block (
  schedule_id text COLLATE "C" NOT NULL,
  upload_time_ms bigint NOT NULL,
  id bigserial NOT NULL,
  target_type smallint NOT NULL,
  sample_count integer NOT NULL,
  samples bytea NOT NULL,
  PRIMARY KEY (schedule_id, upload_time_ms, id));
)sql",
      // 3: UI templates, continuous-profiling policies, span events.
      R"sql(
CREATE TABLE sh_ui_template (
  id text COLLATE "C" PRIMARY KEY,
  configuration bytea NOT NULL,
  disabled boolean NOT NULL,
  update_time_ms bigint NOT NULL);
CREATE TABLE sh_continuous_policy (
  service_id text COLLATE "C" PRIMARY KEY,
  update_time_ms bigint NOT NULL,
  body bytea NOT NULL);
CREATE TABLE sh_span_event (
  id bigserial PRIMARY KEY,
  trace_id text COLLATE "C" NOT NULL,
  start_seconds bigint NOT NULL,
  start_nanos integer NOT NULL,
  stored_ms bigint NOT NULL,
  body bytea NOT NULL);
CREATE INDEX sh_span_event_by_trace ON sh_span_event (trace_id, start_seconds, start_nanos, id);
)sql",
      // 4: metric rows accumulated in place (sums, counts, histogram buckets) at minute, hour and
      // day granularity, process-relation rows, sampled records.
      R"sql(
CREATE FUNCTION sh_sat_add(a bigint, b bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS
  'SELECT least(greatest(a::numeric + b, -9223372036854775808), 9223372036854775807)::bigint';
CREATE FUNCTION sh_component_priority(c integer) RETURNS integer LANGUAGE sql IMMUTABLE AS
  'SELECT CASE c WHEN 110 THEN 10 WHEN 130 THEN 11 WHEN 49 THEN 45 WHEN 129 THEN 46 ELSE 50 END';
CREATE TABLE sh_metric (
  metric text COLLATE "C" NOT NULL,
  entity text COLLATE "C" NOT NULL,
  step integer NOT NULL,
  bucket_ms bigint NOT NULL,
  label bytea NOT NULL,
  sum bigint NOT NULL,
  count bigint NOT NULL,
  stamp_ms bigint NOT NULL,
  PRIMARY KEY (metric, entity, step, bucket_ms, label));
CREATE TABLE sh_metric_bucket (
  metric text COLLATE "C" NOT NULL,
  entity text COLLATE "C" NOT NULL,
  step integer NOT NULL,
  bucket_ms bigint NOT NULL,
  label bytea NOT NULL,
  key bigint NOT NULL,
  n bigint NOT NULL,
  stamp_ms bigint NOT NULL,
  PRIMARY KEY (metric, entity, step, bucket_ms, label, key));
CREATE TABLE sh_metric_relation (
  instance_id text COLLATE "C" NOT NULL,
  minute_ms bigint NOT NULL,
  server_side integer NOT NULL,
  client_id text COLLATE "C" NOT NULL,
  server_id text COLLATE "C" NOT NULL,
  component integer NOT NULL,
  PRIMARY KEY (instance_id, minute_ms, server_side, client_id, server_id));
CREATE TABLE sh_sampled_record (
  record text COLLATE "C" NOT NULL,
  entity text COLLATE "C" NOT NULL,
  timestamp_ms bigint NOT NULL,
  trace_id bytea NOT NULL,
  latency_ms bigint NOT NULL,
  uri bytea NOT NULL,
  PRIMARY KEY (record, entity, timestamp_ms, trace_id));
)sql",
      // 5: a metric row keeps its histogram buckets (ascending keys, interleaved with their
      // counts) in an array of its own, instead of a row per bucket; the meter intake log, one
      // record per report, entity and minute (the updates as metric_codec's intake-log bytes),
      // folded by its node into the metric rows once the minute closed.
      R"sql(
CREATE FUNCTION sh_merge_buckets(a bigint[], b bigint[]) RETURNS bigint[] LANGUAGE plpgsql
IMMUTABLE AS $$
DECLARE
  merged bigint[] := '{}';
  i integer := 1;
  j integer := 1;
  na integer := coalesce(array_length(a, 1), 0);
  nb integer := coalesce(array_length(b, 1), 0);
BEGIN
  IF nb = 0 THEN RETURN a; END IF;
  IF na = 0 THEN RETURN b; END IF;
  WHILE i <= na OR j <= nb LOOP
    IF j > nb OR (i <= na AND a[i] < b[j]) THEN
      merged := merged || a[i] || a[i + 1];
      i := i + 2;
    ELSIF i > na OR b[j] < a[i] THEN
      merged := merged || b[j] || b[j + 1];
      j := j + 2;
    ELSE
      merged := merged || a[i] || sh_sat_add(a[i + 1], b[j + 1]);
      i := i + 2;
      j := j + 2;
    END IF;
  END LOOP;
  RETURN merged;
END $$;
ALTER TABLE sh_metric ADD COLUMN buckets bigint[] NOT NULL DEFAULT '{}';
UPDATE sh_metric m SET buckets = b.buckets FROM (
  SELECT metric, entity, step, bucket_ms, label, array_agg(v ORDER BY key, o) AS buckets
  FROM sh_metric_bucket, unnest(ARRAY[key, n]) WITH ORDINALITY AS u(v, o)
  GROUP BY metric, entity, step, bucket_ms, label) b
WHERE m.metric = b.metric AND m.entity = b.entity AND m.step = b.step
  AND m.bucket_ms = b.bucket_ms AND m.label = b.label;
DROP TABLE sh_metric_bucket;
CREATE TABLE sh_metric_intake (
  seq bigserial PRIMARY KEY,
  entity text COLLATE "C" NOT NULL,
  minute_ms bigint NOT NULL,
  written_ms bigint NOT NULL,
  updates bytea NOT NULL);
CREATE INDEX sh_metric_intake_by_entity ON sh_metric_intake (entity, minute_ms);
)sql",
      // 6: the time-series tables become partitioned by range of their time column (one
      // partition per UTC day, pg_partitions.h keeps them, and a default partition for rows
      // outside them), so that retention drops whole partitions. A primary key now includes the
      // time column; rows are copied (into the default partition, whence the partition keeper
      // moves the live ones into their days) and serial columns keep their sequences. The stack
      // dictionaries' stamps are indexed, for their expiry.
      R"sql(
CREATE FUNCTION sh_repartition(t text, col text, pk text, serial_col text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS) PARTITION BY RANGE (%I)',
                 t || '_next', t, col);
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (%s)', t || '_next', t || '_pk',
                 pk);
  EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', t || '_pdefault', t || '_next');
  EXECUTE format('INSERT INTO %I SELECT * FROM %I', t || '_next', t);
  IF serial_col IS NOT NULL THEN
    EXECUTE format('ALTER SEQUENCE %s OWNED BY %I.%I', pg_get_serial_sequence(t, serial_col),
                   t || '_next', serial_col);
  END IF;
  EXECUTE format('DROP TABLE %I', t);
  EXECUTE format('ALTER TABLE %I RENAME TO %I', t || '_next', t);
END $$;
SELECT sh_repartition('sh_segment', 'start_time_ms', 'segment_id, start_time_ms', NULL);
CREATE INDEX sh_segment_by_trace ON sh_segment (trace_id, instance_id, segment_id);
SELECT sh_repartition('sh_profile_dump', 'dump_time_ms', 'segment_id, sequence, dump_time_ms',
                      NULL);
SELECT sh_repartition('sh_profiled_segment', 'dump_time_ms', 'task_id, dump_time_ms, segment_id',
                      NULL);
SELECT sh_repartition('sh_go_profile', 'dump_time_ms', 'id, dump_time_ms', 'id');
SELECT sh_repartition('sh_go_segment_profile', 'dump_time_ms',
                      'segment_id, dump_time_ms, profile_id', NULL);
SELECT sh_repartition('sh_ebpf_block', 'upload_time_ms', 'schedule_id, upload_time_ms, id', 'id');
SELECT sh_repartition('sh_span_event', 'stored_ms', 'id, stored_ms', 'id');
CREATE INDEX sh_span_event_by_trace ON sh_span_event (trace_id, start_seconds, start_nanos, id);
SELECT sh_repartition('sh_metric', 'bucket_ms', 'metric, entity, step, bucket_ms, label', NULL);
SELECT sh_repartition('sh_metric_relation', 'minute_ms',
                      'instance_id, minute_ms, server_side, client_id, server_id', NULL);
SELECT sh_repartition('sh_sampled_record', 'timestamp_ms',
                      'record, entity, timestamp_ms, trace_id', NULL);
DROP FUNCTION sh_repartition(text, text, text, text);
CREATE INDEX sh_profile_stack_by_stamp ON sh_profile_stack (stamp_ms);
CREATE INDEX sh_ebpf_stack_by_stamp ON sh_ebpf_stack (stamp_ms);
)sql",
      // 7: eBPF roll-ups (one row per schedule and minute: the minute's samples summed per stack,
      // in EbpfStore::EncodeRollupStacks's format; day partitions) and the minutes pending one
      // (a new generation from the sequence for every upload into the minute).
      R"sql(
CREATE TABLE sh_ebpf_rollup (
  schedule_id text COLLATE "C" NOT NULL,
  minute_ms bigint NOT NULL,
  has_on_cpu boolean NOT NULL,
  has_off_cpu boolean NOT NULL,
  stack_count integer NOT NULL,
  stacks bytea NOT NULL,
  CONSTRAINT sh_ebpf_rollup_pk PRIMARY KEY (schedule_id, minute_ms)) PARTITION BY RANGE (minute_ms);
CREATE TABLE sh_ebpf_rollup_pdefault PARTITION OF sh_ebpf_rollup DEFAULT;
CREATE TABLE sh_ebpf_pending (
  minute_ms bigint NOT NULL,
  schedule_id text COLLATE "C" NOT NULL,
  generation bigint NOT NULL,
  PRIMARY KEY (minute_ms, schedule_id));
CREATE SEQUENCE sh_ebpf_generation;
)sql",
  };
  return *migrations;
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

absl::StatusOr<int> MigrateSchema(Pool& pool, int target) {
  int found = 0;
  auto migrate = [&](Connection& conn) -> absl::Status {
    SH_RETURN_IF_ERROR(
        conn.Exec("SELECT pg_advisory_xact_lock($1)", Params().Int64(kMigrationLock)).status());
    SH_RETURN_IF_ERROR(
        conn.ExecScript("CREATE TABLE IF NOT EXISTS sh_schema_version ("
                        "version integer PRIMARY KEY, applied_at timestamptz NOT NULL)"));
    SH_ASSIGN_OR_RETURN(Result current,
                        conn.Exec("SELECT coalesce(max(version), 0) FROM sh_schema_version"));
    found = static_cast<int>(current.Int64(0, 0));
    if (found > LatestSchemaVersion()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the PostgreSQL database holds Stackhouse schema version ", found,
                       ", newer than this build's ", LatestSchemaVersion(),
                       ": run a Stackhouse at least as new as the one that upgraded it"));
    }
    for (int version = found + 1; version <= std::min(target, LatestSchemaVersion()); ++version) {
      absl::Status applied = conn.ExecScript(Migrations()[version - 1]);
      if (!applied.ok()) {
        return absl::Status(applied.code(), absl::StrCat("schema migration ", version,
                                                         " failed: ", applied.message()));
      }
      SH_RETURN_IF_ERROR(conn.Exec("INSERT INTO sh_schema_version VALUES ($1::int, now())",
                                   Params().Int64(version))
                             .status());
    }
    return absl::OkStatus();
  };
  SH_RETURN_IF_ERROR(pool.Transaction(migrate));
  return found;
}

}  // namespace stackhouse::storage::pg
