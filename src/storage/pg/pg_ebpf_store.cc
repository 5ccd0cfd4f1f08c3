#include "storage/pg/pg_ebpf_store.h"

#include <map>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
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

// The blocks of one upload, stored only if every stack they refer to ($6) is in the dictionary.
constexpr char kAddBlocks[] = R"sql(
INSERT INTO sh_ebpf_block (schedule_id, upload_time_ms, target_type, sample_count, samples)
SELECT $1::text, $2::bigint, t, c, b FROM unnest($3::int[], $4::int[], $5::bytea[]) AS x(t, c, b)
WHERE NOT EXISTS (SELECT 1 FROM unnest($6::bigint[]) AS k(id)
                  WHERE NOT EXISTS (SELECT 1 FROM sh_ebpf_stack s WHERE s.id = k.id))
)sql";

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
      .Int64Array(ids);
  SH_ASSIGN_OR_RETURN(Result r, pool_->ExecPrepared("sh_add_ebpf_blocks", kAddBlocks, params));
  if (r.affected() == 0) {
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
