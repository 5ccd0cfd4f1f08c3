#include "storage/pg/pg_profile_store.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace stackhouse::storage::pg {
namespace {

constexpr char kGoProfileKeyPrefix = 'G';

constexpr char kPutTask[] = R"sql(
INSERT INTO sh_profile_task (id, service_id, endpoint_name, start_time_ms, duration_minutes,
                             min_duration_threshold_ms, dump_period_ms, max_sampling_count,
                             create_time_ms)
VALUES ($1, $2, $3, $4, $5::int, $6::int, $7::int, $8::int, $9)
ON CONFLICT (id) DO UPDATE SET
  service_id = EXCLUDED.service_id, endpoint_name = EXCLUDED.endpoint_name,
  start_time_ms = EXCLUDED.start_time_ms, duration_minutes = EXCLUDED.duration_minutes,
  min_duration_threshold_ms = EXCLUDED.min_duration_threshold_ms,
  dump_period_ms = EXCLUDED.dump_period_ms, max_sampling_count = EXCLUDED.max_sampling_count,
  create_time_ms = EXCLUDED.create_time_ms
)sql";

constexpr char kAddLog[] = R"sql(
INSERT INTO sh_profile_task_log (task_id, operation_time_ms, instance_id, operation, task_end_ms)
VALUES ($1, $2, $3, $4::int, $5)
ON CONFLICT (task_id, operation_time_ms, instance_id, operation)
DO UPDATE SET task_end_ms = EXCLUDED.task_end_ms
)sql";

constexpr char kAddDumps[] = R"sql(
WITH d AS (
  INSERT INTO sh_profile_dump AS d (segment_id, sequence, dump_time_ms, stack_id, language)
  SELECT s, q, t, k, 0 FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[])
    AS x(s, q, t, k)
  ON CONFLICT (segment_id, sequence, dump_time_ms) DO UPDATE SET
    stack_id = EXCLUDED.stack_id, language = EXCLUDED.language)
INSERT INTO sh_profiled_segment (task_id, dump_time_ms, segment_id)
SELECT * FROM unnest($5::text[], $6::bigint[], $7::text[])
ON CONFLICT DO NOTHING
)sql";

constexpr char kAddGoProfile[] = R"sql(
WITH p AS (
  INSERT INTO sh_go_profile (dump_time_ms, pprof) VALUES ($1, $2) RETURNING id),
r AS (
  INSERT INTO sh_go_segment_profile (segment_id, dump_time_ms, profile_id, task_id)
  SELECT s, $1, p.id, $3 FROM p, unnest($4::text[]) AS s
  ON CONFLICT DO NOTHING),
x AS (
  INSERT INTO sh_profiled_segment (task_id, dump_time_ms, segment_id)
  SELECT $3, $1, s FROM unnest($4::text[]) AS s
  ON CONFLICT DO NOTHING)
SELECT id FROM p
)sql";

Params TaskParams(const model::ProfileTask& task) {
  Params params;
  params.Text(task.id)
      .Text(task.service_id)
      .Text(task.endpoint_name)
      .Int64(task.start_time_ms)
      .Int64(task.duration_minutes)
      .Int64(task.min_duration_threshold_ms)
      .Int64(task.dump_period_ms)
      .Int64(task.max_sampling_count)
      .Int64(task.create_time_ms);
  return params;
}

std::vector<model::ProfileTask> TasksOf(const Result& r) {
  std::vector<model::ProfileTask> tasks(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    model::ProfileTask& task = tasks[static_cast<size_t>(row)];
    task.id = r.String(row, 0);
    task.service_id = r.String(row, 1);
    task.endpoint_name = r.String(row, 2);
    task.start_time_ms = r.Int64(row, 3);
    task.duration_minutes = static_cast<int32_t>(r.Int64(row, 4));
    task.min_duration_threshold_ms = static_cast<int32_t>(r.Int64(row, 5));
    task.dump_period_ms = static_cast<int32_t>(r.Int64(row, 6));
    task.max_sampling_count = static_cast<int32_t>(r.Int64(row, 7));
    task.create_time_ms = r.Int64(row, 8);
  }
  return tasks;
}

constexpr char kTaskColumns[] =
    "SELECT id, service_id, endpoint_name, start_time_ms, duration_minutes, "
    "min_duration_threshold_ms, dump_period_ms, max_sampling_count, create_time_ms "
    "FROM sh_profile_task ";

}  // namespace

absl::Status PgProfileStore::PutTask(const model::ProfileTask& task) {
  return pool_->ExecPrepared("sh_put_profile_task", kPutTask, TaskParams(task)).status();
}

absl::Status PgProfileStore::PutNewTask(const model::ProfileTask& task,
                                        const TaskConflict& conflicts) {
  return pool_->Transaction([&](Connection& conn) -> absl::Status {
    SH_RETURN_IF_ERROR(conn.ExecPrepared("sh_lock_profile_service",
                                         "SELECT pg_advisory_xact_lock(hashtextextended("
                                         "'sh_profile_task ' || $1, 0))",
                                         Params().Text(task.service_id))
                           .status());
    SH_ASSIGN_OR_RETURN(
        Result r, conn.ExecPrepared("sh_list_service_profile_tasks",
                                    absl::StrCat(kTaskColumns, "WHERE service_id = $1 ORDER BY id"),
                                    Params().Text(task.service_id)));
    if (conflicts(TasksOf(r))) {
      return absl::FailedPreconditionError(
          absl::StrCat("trace-profiling task ", task.id, " conflicts with a stored task"));
    }
    return conn.ExecPrepared("sh_put_profile_task", kPutTask, TaskParams(task)).status();
  });
}

absl::StatusOr<std::vector<model::ProfileTask>> PgProfileStore::ListTasks() const {
  SH_ASSIGN_OR_RETURN(Result r, pool_->ExecPrepared("sh_list_profile_tasks",
                                                    absl::StrCat(kTaskColumns, "ORDER BY id")));
  return TasksOf(r);
}

absl::Status PgProfileStore::AddLog(const model::ProfileTaskLog& log, int64_t task_end_ms) {
  Params params;
  params.Text(log.task_id)
      .Int64(log.operation_time_ms)
      .Text(log.instance_id)
      .Int64(static_cast<int64_t>(log.operation))
      .Int64(task_end_ms);
  return pool_->ExecPrepared("sh_add_profile_log", kAddLog, params).status();
}

absl::StatusOr<std::vector<model::ProfileTaskLog>> PgProfileStore::ListLogs(
    const std::string& task_id) const {
  SH_ASSIGN_OR_RETURN(Result r,
                      pool_->ExecPrepared("sh_list_profile_logs",
                                          "SELECT operation_time_ms, instance_id, operation "
                                          "FROM sh_profile_task_log WHERE task_id = $1 "
                                          "AND task_end_ms > $2 ORDER BY operation_time_ms DESC, "
                                          "instance_id DESC, operation DESC",
                                          Params().Text(task_id).Int64(RecordCutoff())));
  std::vector<model::ProfileTaskLog> logs(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    model::ProfileTaskLog& log = logs[static_cast<size_t>(row)];
    log.task_id = task_id;
    log.operation_time_ms = r.Int64(row, 0);
    log.instance_id = r.String(row, 1);
    log.operation = r.Int64(row, 2) == 2 ? model::ProfileTaskOperation::kExecutionFinished
                                         : model::ProfileTaskOperation::kNotified;
  }
  return logs;
}

absl::StatusOr<std::vector<uint64_t>> PgProfileStore::ResolveStacks(
    absl::Span<const PendingStack> stacks) {
  return stacks_.Resolve(stacks, clock_->NowMillis());
}

absl::Status PgProfileStore::AddDumps(absl::Span<const ResolvedDump> dumps) {
  if (dumps.empty()) return absl::OkStatus();
  // One row per (segment, sequence), the last copy winning (as a later write would).
  absl::flat_hash_map<std::pair<std::string, int32_t>, size_t> last;
  for (size_t i = 0; i < dumps.size(); ++i) last[{dumps[i].segment_id, dumps[i].sequence}] = i;
  std::vector<std::string> segments, profiled_tasks, profiled_segments;
  std::vector<int32_t> sequences;
  std::vector<int64_t> times, ids, profiled_times;
  for (size_t i = 0; i < dumps.size(); ++i) {
    const ResolvedDump& s = dumps[i];
    if (last[{s.segment_id, s.sequence}] != i) continue;
    segments.push_back(s.segment_id);
    sequences.push_back(s.sequence);
    times.push_back(s.dump_time_ms);
    ids.push_back(static_cast<int64_t>(s.stack_id));
    if (s.sequence == 0) {
      profiled_tasks.push_back(s.task_id);
      profiled_times.push_back(s.dump_time_ms);
      profiled_segments.push_back(s.segment_id);
    }
  }
  std::vector<uint64_t> retained(ids.begin(), ids.end());
  SH_RETURN_IF_ERROR(
      stacks_.Retain(retained, clock_->NowMillis(), *std::max_element(times.begin(), times.end())));
  Params params;
  params.TextArray(segments)
      .Int32Array(sequences)
      .Int64Array(times)
      .Int64Array(ids)
      .TextArray(profiled_tasks)
      .Int64Array(profiled_times)
      .TextArray(profiled_segments);
  return pool_->ExecPrepared("sh_add_profile_dumps", kAddDumps, params).status();
}

absl::StatusOr<std::vector<std::string>> PgProfileStore::ListProfiledSegments(
    const std::string& task_id) const {
  SH_ASSIGN_OR_RETURN(Result r, pool_->ExecPrepared("sh_list_profiled_segments",
                                                    "SELECT segment_id FROM sh_profiled_segment "
                                                    "WHERE task_id = $1 AND dump_time_ms > $2 "
                                                    "ORDER BY dump_time_ms, segment_id",
                                                    Params().Text(task_id).Int64(RecordCutoff())));
  std::vector<std::string> segments;
  absl::flat_hash_set<std::string> seen;
  for (int row = 0; row < r.rows(); ++row) {
    std::string segment = r.String(row, 0);
    if (seen.insert(segment).second) segments.push_back(std::move(segment));
  }
  return segments;
}

absl::Status PgProfileStore::ScanDumps(const std::string& segment_id,
                                       const std::function<void(const StoredDump&)>& visit) const {
  SH_ASSIGN_OR_RETURN(Result r,
                      pool_->ExecPrepared("sh_scan_profile_dumps",
                                          "SELECT DISTINCT ON (sequence) sequence, dump_time_ms, "
                                          "stack_id, language FROM sh_profile_dump "
                                          "WHERE segment_id = $1 AND dump_time_ms > $2 "
                                          "ORDER BY sequence, dump_time_ms DESC",
                                          Params().Text(segment_id).Int64(RecordCutoff())));
  for (int row = 0; row < r.rows(); ++row) {
    StoredDump dump;
    dump.sequence = static_cast<int32_t>(r.Int64(row, 0));
    dump.dump_time_ms = r.Int64(row, 1);
    dump.stack_id = static_cast<uint64_t>(r.Int64(row, 2));
    dump.language =
        r.Int64(row, 3) == 1 ? model::SnapshotLanguage::kGo : model::SnapshotLanguage::kJava;
    visit(dump);
  }
  return absl::OkStatus();
}

absl::Status PgProfileStore::AddGoProfile(const model::GoProfile& profile) {
  if (profile.segment_ids.empty()) return absl::OkStatus();
  Params params;
  params.Int64(profile.dump_time_ms)
      .Bytes(profile.pprof)
      .Text(profile.task_id)
      .TextArray(profile.segment_ids);
  return pool_->ExecPrepared("sh_add_go_profile", kAddGoProfile, params).status();
}

absl::StatusOr<std::vector<model::GoSegmentProfile>> PgProfileStore::ListGoProfiles(
    const std::string& segment_id) const {
  SH_ASSIGN_OR_RETURN(Result r,
                      pool_->ExecPrepared("sh_list_go_profiles",
                                          "SELECT task_id, dump_time_ms, profile_id "
                                          "FROM sh_go_segment_profile WHERE segment_id = $1 "
                                          "AND dump_time_ms > $2 ORDER BY dump_time_ms, profile_id",
                                          Params().Text(segment_id).Int64(RecordCutoff())));
  std::vector<model::GoSegmentProfile> profiles(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    model::GoSegmentProfile& p = profiles[static_cast<size_t>(row)];
    p.task_id = r.String(row, 0);
    p.segment_id = segment_id;
    p.dump_time_ms = r.Int64(row, 1);
    p.profile_key = absl::StrCat(std::string(1, kGoProfileKeyPrefix), r.Int64(row, 2));
  }
  return profiles;
}

absl::StatusOr<std::optional<std::string>> PgProfileStore::GetGoProfile(
    const std::string& profile_key) const {
  int64_t id = 0;
  if (profile_key.empty() || profile_key[0] != kGoProfileKeyPrefix ||
      !absl::SimpleAtoi(absl::string_view(profile_key).substr(1), &id)) {
    return absl::InvalidArgumentError("not a Go profile key");
  }
  SH_ASSIGN_OR_RETURN(Result r, pool_->ExecPrepared("sh_get_go_profile",
                                                    "SELECT pprof FROM sh_go_profile "
                                                    "WHERE id = $1 AND dump_time_ms > $2",
                                                    Params().Int64(id).Int64(RecordCutoff())));
  if (r.rows() == 0) return std::nullopt;
  return r.String(0, 0);
}

absl::StatusOr<std::vector<std::string>> PgProfileStore::GetStack(uint64_t stack_id) const {
  return stacks_.Get(stack_id);
}

}  // namespace stackhouse::storage::pg
