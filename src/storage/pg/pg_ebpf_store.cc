#include "storage/pg/pg_ebpf_store.h"

#include <limits>
#include <map>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/saturating.h"
#include "common/status_macros.h"
#include "storage/store_records.h"

namespace stackhouse::storage::pg {
namespace {

constexpr char kPutProcesses[] = R"sql(
INSERT INTO sh_ebpf_process (id, last_ping_ms, body)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bytea[])
ON CONFLICT (id) DO UPDATE SET last_ping_ms = EXCLUDED.last_ping_ms, body = EXCLUDED.body
)sql";

constexpr char kPutTask[] = R"sql(
INSERT INTO sh_ebpf_task (logical_id, create_time_ms, body) VALUES ($1, $2, $3)
ON CONFLICT (logical_id, create_time_ms) DO UPDATE SET body = EXCLUDED.body
)sql";

constexpr char kPutSchedule[] = R"sql(
INSERT INTO sh_ebpf_schedule (schedule_id, task_id, process_id, start_time_ms, end_time_ms)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (schedule_id) DO UPDATE SET
  task_id = EXCLUDED.task_id, process_id = EXCLUDED.process_id,
  start_time_ms = EXCLUDED.start_time_ms,
  end_time_ms = GREATEST(sh_ebpf_schedule.end_time_ms, EXCLUDED.end_time_ms)
)sql";

constexpr char kScheduleColumns[] =
    "SELECT schedule_id, task_id, process_id, start_time_ms, end_time_ms FROM sh_ebpf_schedule ";

// The blocks of one upload, stored only if every stack they refer to ($6) is in the dictionary;
// if they are, the roll-up of their minute ($7) goes and the minute is pending with a new
// generation. Answers the number of blocks stored.
constexpr char kAddBlocks[] = R"sql(
WITH b AS (
  INSERT INTO sh_ebpf_block (schedule_id, upload_time_ms, target_type, sample_count, samples)
  SELECT $1::text, $2::bigint, t, c, b FROM unnest($3::int[], $4::int[], $5::bytea[]) AS x(t, c, b)
  WHERE NOT EXISTS (SELECT 1 FROM unnest($6::bigint[]) AS k(id)
                    WHERE NOT EXISTS (SELECT 1 FROM sh_ebpf_stack s WHERE s.id = k.id))
  RETURNING 1),
r AS (
  DELETE FROM sh_ebpf_rollup WHERE schedule_id = $1 AND minute_ms = $7 AND EXISTS (SELECT 1 FROM b)),
p AS (
  INSERT INTO sh_ebpf_pending (minute_ms, schedule_id, generation)
  SELECT $7, $1, nextval('sh_ebpf_generation') WHERE EXISTS (SELECT 1 FROM b)
  ON CONFLICT (minute_ms, schedule_id) DO UPDATE SET generation = EXCLUDED.generation)
SELECT count(*) FROM b
)sql";

// A minute's roll-up ($4–$7, written when $3; else the minute stays raw and loses any
// roll-up), committed only if its pending row still has the generation RollUp read ($8).
// Answers 1 when it was, 0 when an upload came in meanwhile (or another node committed it).
constexpr char kCommitRollup[] = R"sql(
WITH d AS (
  DELETE FROM sh_ebpf_pending WHERE minute_ms = $2 AND schedule_id = $1 AND generation = $8
  RETURNING 1),
gone AS (
  DELETE FROM sh_ebpf_rollup WHERE schedule_id = $1 AND minute_ms = $2 AND NOT $3::boolean
    AND EXISTS (SELECT 1 FROM d)),
w AS (
  INSERT INTO sh_ebpf_rollup (schedule_id, minute_ms, has_on_cpu, has_off_cpu, stack_count, stacks)
  SELECT $1, $2, $4, $5, $6::bigint::int, $7 WHERE $3::boolean AND EXISTS (SELECT 1 FROM d)
  ON CONFLICT (schedule_id, minute_ms) DO UPDATE SET has_on_cpu = EXCLUDED.has_on_cpu,
    has_off_cpu = EXCLUDED.has_off_cpu, stack_count = EXCLUDED.stack_count,
    stacks = EXCLUDED.stacks)
SELECT count(*) FROM d
)sql";

// Far from int64's ends, where minute arithmetic cannot overflow.
constexpr int64_t kMinRollupTime = std::numeric_limits<int64_t>::min() + 2 * kEbpfRollupMinuteMs;
constexpr int64_t kMaxRollupTime = std::numeric_limits<int64_t>::max() - 2 * kEbpfRollupMinuteMs;

std::vector<model::EbpfSchedule> Schedules(const Result& r) {
  std::vector<model::EbpfSchedule> schedules(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    model::EbpfSchedule& s = schedules[static_cast<size_t>(row)];
    s.schedule_id = r.String(row, 0);
    s.task_id = r.String(row, 1);
    s.process_id = r.String(row, 2);
    s.start_time_ms = r.Int64(row, 3);
    s.end_time_ms = r.Int64(row, 4);
  }
  return schedules;
}

}  // namespace

absl::Status PgEbpfStore::PutProcesses(const std::vector<model::Process>& processes) {
  if (processes.empty()) return absl::OkStatus();
  // One row per id, the last copy winning (a statement may not update a row twice), in id
  // order, so that two nodes writing the same processes lock them in one order; a deadlock
  // (rows inserted in between) is retried.
  std::map<absl::string_view, const model::Process*> last;
  for (const model::Process& p : processes) last[p.id] = &p;
  std::vector<std::string> ids, bodies;
  std::vector<int64_t> pings;
  for (const auto& [id, p] : last) {
    ids.emplace_back(id);
    pings.push_back(p->last_ping_ms);
    bodies.push_back(EncodeProcess(*p));
  }
  Params params;
  params.TextArray(ids).Int64Array(pings).BytesArray(bodies);
  return pool_->ExecPreparedRetried("sh_put_ebpf_processes", kPutProcesses, params).status();
}

absl::StatusOr<std::vector<model::Process>> PgEbpfStore::ListProcesses() const {
  SH_ASSIGN_OR_RETURN(Result r, pool_->ExecPrepared("sh_list_ebpf_processes",
                                                    "SELECT id, last_ping_ms, body "
                                                    "FROM sh_ebpf_process WHERE last_ping_ms > $1 "
                                                    "ORDER BY id",
                                                    Params().Int64(MetricsCutoff())));
  std::vector<model::Process> processes;
  processes.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    SH_ASSIGN_OR_RETURN(model::Process p, DecodeProcess(r.Bytes(row, 2)));
    p.id = r.String(row, 0);
    p.last_ping_ms = r.Int64(row, 1);
    processes.push_back(std::move(p));
  }
  return processes;
}

absl::Status PgEbpfStore::PutTask(const model::EbpfTask& task) {
  Params params;
  params.Text(task.logical_id).Int64(task.create_time_ms).Bytes(EncodeEbpfTask(task));
  return pool_->ExecPrepared("sh_put_ebpf_task", kPutTask, params).status();
}

absl::StatusOr<bool> PgEbpfStore::PutNewTask(const model::EbpfTask& task) {
  bool stored = false;
  const absl::Status written = pool_->Transaction([&](Connection& conn) -> absl::Status {
    stored = false;
    SH_RETURN_IF_ERROR(conn.ExecPrepared("sh_lock_ebpf_task_id",
                                         "SELECT pg_advisory_xact_lock(hashtextextended("
                                         "'sh_ebpf_task ' || $1, 0))",
                                         Params().Text(task.logical_id))
                           .status());
    SH_ASSIGN_OR_RETURN(Result found,
                        conn.ExecPrepared("sh_find_ebpf_task_id",
                                          "SELECT count(*) FROM sh_ebpf_task WHERE logical_id = $1",
                                          Params().Text(task.logical_id)));
    if (found.Int64(0, 0) > 0) return absl::OkStatus();
    Params params;
    params.Text(task.logical_id).Int64(task.create_time_ms).Bytes(EncodeEbpfTask(task));
    SH_RETURN_IF_ERROR(conn.ExecPrepared("sh_put_ebpf_task", kPutTask, params).status());
    stored = true;
    return absl::OkStatus();
  });
  if (!written.ok()) return written;
  return stored;
}

absl::StatusOr<std::vector<model::EbpfTask>> PgEbpfStore::ListTasks() const {
  SH_ASSIGN_OR_RETURN(Result r, pool_->ExecPrepared("sh_list_ebpf_tasks",
                                                    "SELECT logical_id, create_time_ms, body "
                                                    "FROM sh_ebpf_task "
                                                    "ORDER BY logical_id, create_time_ms"));
  std::vector<model::EbpfTask> tasks;
  tasks.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    SH_ASSIGN_OR_RETURN(model::EbpfTask t, DecodeEbpfTask(r.Bytes(row, 2)));
    t.logical_id = r.String(row, 0);
    t.create_time_ms = r.Int64(row, 1);
    tasks.push_back(std::move(t));
  }
  return tasks;
}

absl::Status PgEbpfStore::PutSchedule(const model::EbpfSchedule& schedule) {
  Params params;
  params.Text(schedule.schedule_id)
      .Text(schedule.task_id)
      .Text(schedule.process_id)
      .Int64(schedule.start_time_ms)
      .Int64(schedule.end_time_ms);
  return pool_->ExecPrepared("sh_put_ebpf_schedule", kPutSchedule, params).status();
}

absl::StatusOr<std::optional<model::EbpfSchedule>> PgEbpfStore::GetSchedule(
    const std::string& schedule_id) const {
  SH_ASSIGN_OR_RETURN(
      Result r, pool_->ExecPrepared(
                    "sh_get_ebpf_schedule",
                    absl::StrCat(kScheduleColumns, "WHERE schedule_id = $1 AND end_time_ms > $2"),
                    Params().Text(schedule_id).Int64(MetricsCutoff())));
  std::vector<model::EbpfSchedule> schedules = Schedules(r);
  if (schedules.empty()) return std::nullopt;
  return std::move(schedules[0]);
}

absl::StatusOr<std::vector<model::EbpfSchedule>> PgEbpfStore::ListSchedules(
    const std::string& task_id) const {
  SH_ASSIGN_OR_RETURN(
      Result r,
      pool_->ExecPrepared("sh_list_ebpf_schedules",
                          absl::StrCat(kScheduleColumns, "WHERE task_id = $1 AND end_time_ms > $2"),
                          Params().Text(task_id).Int64(MetricsCutoff())));
  return Schedules(r);
}

absl::StatusOr<std::vector<uint64_t>> PgEbpfStore::ResolveStacks(
    absl::Span<const PendingStack> stacks) {
  return stacks_.Resolve(stacks, clock_->NowMillis());
}

absl::Status PgEbpfStore::AddSampleBlock(const std::string& schedule_id, int64_t upload_time_ms,
                                         absl::Span<const StoredEbpfSample> samples) {
  if (samples.empty()) return absl::OkStatus();
  std::vector<int32_t> types, counts;
  std::vector<std::string> blocks;
  for (model::EbpfTargetType type :
       {model::EbpfTargetType::kOnCpu, model::EbpfTargetType::kOffCpu}) {
    std::string block;
    block.reserve(samples.size() * (type == model::EbpfTargetType::kOnCpu ? 10 : 14));
    const uint64_t count = EncodeSampleBlock(samples, type, &block);
    if (count == 0) continue;
    types.push_back(static_cast<int32_t>(type));
    counts.push_back(static_cast<int32_t>(count));
    blocks.push_back(std::move(block));
  }
  if (blocks.empty()) return absl::OkStatus();  // no On-CPU or Off-CPU samples
  // Each distinct stack once (blocks repeat few stacks many times).
  absl::flat_hash_set<uint64_t> distinct;
  for (const StoredEbpfSample& s : samples) distinct.insert(s.stack_id);
  std::vector<uint64_t> retained(distinct.begin(), distinct.end());
  SH_RETURN_IF_ERROR(stacks_.Retain(retained, clock_->NowMillis(), upload_time_ms));
  std::vector<int64_t> ids;
  ids.reserve(distinct.size());
  for (uint64_t id : distinct) ids.push_back(static_cast<int64_t>(id));
  Params params;
  params.Text(schedule_id)
      .Int64(upload_time_ms)
      .Int32Array(types)
      .Int32Array(counts)
      .BytesArray(blocks)
      .Int64Array(ids)
      .Int64(EbpfRollupMinuteOf(upload_time_ms));
  // A deadlock on the pending row between nodes is retried (the statement is all or nothing).
  SH_ASSIGN_OR_RETURN(Result r,
                      pool_->ExecPreparedRetried("sh_add_ebpf_blocks", kAddBlocks, params));
  if (r.Int64(0, 0) == 0) {
    return absl::NotFoundError(absl::StrCat("a sample of schedule ", schedule_id,
                                            " refers to a stack that is not in the dictionary"));
  }
  return absl::OkStatus();
}

absl::Status PgEbpfStore::ScanSampleBlocks(
    const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
    const std::function<void(EbpfSampleBlock&)>& visit) const {
  if (from_ms >= to_ms) return absl::OkStatus();
  SH_ASSIGN_OR_RETURN(
      Result r, pool_->ExecPrepared(
                    "sh_scan_ebpf_blocks",
                    "SELECT upload_time_ms, target_type, sample_count, samples "
                    "FROM sh_ebpf_block WHERE schedule_id = $1 "
                    "AND upload_time_ms >= $2 AND upload_time_ms < $3 "
                    "AND upload_time_ms > $4 ORDER BY upload_time_ms, id",
                    Params().Text(schedule_id).Int64(from_ms).Int64(to_ms).Int64(RecordCutoff())));
  for (int row = 0; row < r.rows(); ++row) {
    const auto type = r.Int64(row, 1) == static_cast<int64_t>(model::EbpfTargetType::kOffCpu)
                          ? model::EbpfTargetType::kOffCpu
                          : model::EbpfTargetType::kOnCpu;
    const int64_t count = r.Int64(row, 2);
    EbpfSampleBlock block(r.Int64(row, 0), type, count < 0 ? 0 : static_cast<uint64_t>(count),
                          r.Bytes(row, 3));
    visit(block);
    if (block.corrupt()) return absl::DataLossError("cannot decode stored eBPF sample block");
  }
  return absl::OkStatus();
}

absl::Status PgEbpfStore::ScanSamples(
    const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
    const std::function<void(const StoredEbpfSample&)>& visit) const {
  return ScanSampleBlocks(schedule_id, from_ms, to_ms, [&](EbpfSampleBlock& block) {
    StoredEbpfSample sample;
    while (block.Next(&sample)) visit(sample);
  });
}

absl::Status PgEbpfStore::ScanAggregated(const std::string& schedule_id, int64_t from_ms,
                                         int64_t to_ms, EbpfSampleVisitor& visitor) const {
  if (from_ms >= to_ms) return absl::OkStatus();
  bool go = true;
  const auto raw = [&](int64_t from, int64_t to) {
    return ScanSampleBlocks(schedule_id, from, to, [&](EbpfSampleBlock& block) {
      if (go) go = visitor.Block(block);
    });
  };
  int64_t cursor = from_ms;  // samples before it have been visited
  if (from_ms > kMinRollupTime && to_ms < kMaxRollupTime) {
    // The whole minutes inside [from, to): [first, last). Their roll-ups and the pending check
    // are one statement (one snapshot); a minute without a usable roll-up is read raw.
    const int64_t first = EbpfRollupMinuteOf(from_ms + kEbpfRollupMinuteMs - 1);
    const int64_t last = EbpfRollupMinuteOf(to_ms);
    if (first < last) {
      SH_ASSIGN_OR_RETURN(
          Result r, pool_->ExecPrepared(
                        "sh_scan_ebpf_rollups",
                        "SELECT r.minute_ms, r.has_on_cpu, r.has_off_cpu, r.stack_count, r.stacks "
                        "FROM sh_ebpf_rollup r WHERE r.schedule_id = $1 AND r.minute_ms >= $2 "
                        "AND r.minute_ms < $3 AND r.minute_ms > $4 AND NOT EXISTS (SELECT 1 "
                        "FROM sh_ebpf_pending p WHERE p.minute_ms = r.minute_ms "
                        "AND p.schedule_id = r.schedule_id) ORDER BY r.minute_ms",
                        Params().Text(schedule_id).Int64(first).Int64(last).Int64(RecordCutoff())));
      for (int row = 0; row < r.rows() && go; ++row) {
        const int64_t minute = r.Int64(row, 0);
        const int64_t count = r.Int64(row, 3);
        if (count < 0) return absl::DataLossError("cannot decode stored eBPF roll-up");
        if (cursor < minute) SH_RETURN_IF_ERROR(raw(cursor, minute));
        if (!go) return absl::OkStatus();
        cursor = minute + kEbpfRollupMinuteMs;
        EbpfRollup rollup(minute, r.Bool(row, 1), r.Bool(row, 2), static_cast<uint64_t>(count),
                          r.Bytes(row, 4));
        go = visitor.Rollup(rollup);
        if (rollup.corrupt()) return absl::DataLossError("cannot decode stored eBPF roll-up");
      }
      if (!go) return absl::OkStatus();
    }
  }
  return raw(cursor, to_ms);
}

absl::StatusOr<EbpfRollupStats> PgEbpfStore::RollUp(int64_t max_minutes) {
  EbpfRollupStats stats;
  const int64_t now = clock_->NowMillis();
  if (max_minutes > 0) {
    SH_ASSIGN_OR_RETURN(
        Result pending,
        pool_->ExecPrepared("sh_pending_ebpf_minutes",
                            "SELECT minute_ms, schedule_id, generation FROM sh_ebpf_pending "
                            "WHERE minute_ms <= $1 ORDER BY minute_ms, schedule_id LIMIT $2",
                            Params()
                                .Int64(SaturatingSub(now, kEbpfRollupMinuteMs + kRollupDelayMs))
                                .Int64(max_minutes)));
    struct Candidate {
      int64_t minute;
      std::string schedule_id;
      int64_t generation;
      std::optional<EbpfMinuteSums> sums;  // nullopt: leave the minute raw
    };
    std::vector<Candidate> todo;
    for (int row = 0; row < pending.rows(); ++row) {
      Candidate& c = todo.emplace_back();
      c.minute = pending.Int64(row, 0);
      c.schedule_id = pending.String(row, 1);
      c.generation = pending.Int64(row, 2);
      // Expired (its first samples are gone, or about to be): read raw, as the raw path would.
      if (c.minute <= RecordCutoff()) continue;
      SH_ASSIGN_OR_RETURN(EbpfMinuteSums sums, SumMinute(c.schedule_id, c.minute));
      if (!sums.WorthARollup()) continue;
      std::vector<uint64_t> ids;
      ids.reserve(sums.stacks.size());
      for (const EbpfRollupStack& stack : sums.stacks) ids.push_back(stack.stack_id);
      absl::Status retained = stacks_.Retain(ids, now, c.minute);
      // A stack gone from the dictionary: readers skip it either way; leave the minute raw.
      if (absl::IsNotFound(retained)) continue;
      SH_RETURN_IF_ERROR(retained);
      c.sums = std::move(sums);
    }
    if (rollup_hook_) rollup_hook_();
    for (const Candidate& c : todo) {
      Params params;
      params.Text(c.schedule_id).Int64(c.minute).Bool(c.sums.has_value());
      if (c.sums) {
        params.Bool(c.sums->has_on_cpu)
            .Bool(c.sums->has_off_cpu)
            .Int64(static_cast<int64_t>(c.sums->stacks.size()))
            .Bytes(EncodeRollupStacks(c.sums->stacks, c.minute, c.sums->has_on_cpu,
                                      c.sums->has_off_cpu));
      } else {
        params.Bool(false).Bool(false).Int64(0).Bytes("");
      }
      params.Int64(c.generation);
      SH_ASSIGN_OR_RETURN(
          Result r, pool_->ExecPreparedRetried("sh_commit_ebpf_rollup", kCommitRollup, params));
      if (r.Int64(0, 0) == 0) {
        ++stats.retried;  // an upload came in since it was read (or another node wrote it)
      } else {
        ++(c.sums ? stats.rolled_up : stats.left_raw);
      }
    }
  }
  SH_ASSIGN_OR_RETURN(Result left, pool_->Exec("SELECT count(*) FROM sh_ebpf_pending"));
  stats.pending = left.Int64(0, 0);
  return stats;
}

absl::StatusOr<std::vector<model::EbpfSymbol>> PgEbpfStore::GetStack(uint64_t stack_id) const {
  SH_ASSIGN_OR_RETURN(std::vector<std::string> frames, stacks_.Get(stack_id));
  std::vector<model::EbpfSymbol> symbols;
  symbols.reserve(frames.size());
  for (const std::string& frame : frames) {
    if (frame.empty()) return absl::DataLossError("cannot decode stored eBPF stack frame");
    symbols.push_back({frame.substr(1), frame[0] == kKernelFrameTag ? model::StackType::kKernel
                                                                    : model::StackType::kUser});
  }
  return symbols;
}

}  // namespace stackhouse::storage::pg
