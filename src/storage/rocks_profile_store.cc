#include "storage/rocks_profile_store.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "stackhouse/records.pb.h"
#include "storage/key_codec.h"

namespace stackhouse::storage {
namespace {

constexpr char kTaskPrefix = 'p';
constexpr char kLogPrefix = 'l';
constexpr char kDumpPrefix = 'd';
constexpr char kProfiledPrefix = 'p';
constexpr char kGoProfilePrefix = 'g';
constexpr char kGoBlobPrefix = 'G';

std::string TaskKey(absl::string_view task_id) {
  std::string key(1, kTaskPrefix);
  AppendString(&key, task_id);
  return key;
}

std::string LogPrefix(absl::string_view task_id) {
  std::string key(1, kLogPrefix);
  AppendString(&key, task_id);
  return key;
}

std::string DumpPrefix(absl::string_view segment_id) {
  std::string key(1, kDumpPrefix);
  AppendString(&key, segment_id);
  return key;
}

std::string GoProfilePrefix(absl::string_view segment_id) {
  std::string key(1, kGoProfilePrefix);
  AppendString(&key, segment_id);
  return key;
}

std::string ProfiledPrefix(absl::string_view task_id) {
  std::string key(1, kProfiledPrefix);
  AppendString(&key, task_id);
  return key;
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("cannot decode stored ", what));
}

absl::StatusOr<model::ProfileTask> DecodeTask(const Record& record) {
  records::ProfileTaskRecord pb;
  KeyReader reader(record.key);
  model::ProfileTask task;
  if (!reader.Skip(1) || !reader.ReadString(&task.id) || !pb.ParseFromString(record.value)) {
    return Corrupt("profile task");
  }
  task.service_id = pb.service_id();
  task.endpoint_name = pb.endpoint_name();
  task.start_time_ms = pb.start_time_ms();
  task.duration_minutes = pb.duration_minutes();
  task.min_duration_threshold_ms = pb.min_duration_threshold_ms();
  task.dump_period_ms = pb.dump_period_ms();
  task.max_sampling_count = pb.max_sampling_count();
  task.create_time_ms = pb.create_time_ms();
  return task;
}

}  // namespace

absl::Status RocksProfileStore::PutTask(const model::ProfileTask& task) {
  records::ProfileTaskRecord pb;
  pb.set_service_id(task.service_id);
  pb.set_endpoint_name(task.endpoint_name);
  pb.set_start_time_ms(task.start_time_ms);
  pb.set_duration_minutes(task.duration_minutes);
  pb.set_min_duration_threshold_ms(task.min_duration_threshold_ms);
  pb.set_dump_period_ms(task.dump_period_ms);
  pb.set_max_sampling_count(task.max_sampling_count);
  pb.set_create_time_ms(task.create_time_ms);
  return db_->Put(Family::kTask, TaskKey(task.id), task.create_time_ms, pb.SerializeAsString());
}

absl::StatusOr<std::vector<model::ProfileTask>> RocksProfileStore::ListTasks() const {
  std::vector<model::ProfileTask> tasks;
  absl::Status decode_status;
  SH_RETURN_IF_ERROR(
      db_->ScanPrefix(Family::kTask, std::string(1, kTaskPrefix), [&](const Record& record) {
        auto task = DecodeTask(record);
        if (!task.ok()) {
          decode_status = task.status();
          return false;
        }
        tasks.push_back(std::move(*task));
        return true;
      }));
  SH_RETURN_IF_ERROR(decode_status);
  return tasks;
}

absl::Status RocksProfileStore::AddLog(const model::ProfileTaskLog& log, int64_t task_end_ms) {
  std::string key = LogPrefix(log.task_id);
  AppendInt64(&key, log.operation_time_ms);
  AppendString(&key, log.instance_id);
  AppendInt64(&key, static_cast<int64_t>(log.operation));
  records::ProfileTaskLogRecord pb;
  pb.set_instance_id(log.instance_id);
  pb.set_operation(static_cast<int32_t>(log.operation));
  return db_->Put(Family::kTaskLog, key, task_end_ms, pb.SerializeAsString());
}

absl::StatusOr<std::vector<model::ProfileTaskLog>> RocksProfileStore::ListLogs(
    const std::string& task_id) const {
  std::vector<model::ProfileTaskLog> logs;
  absl::Status decode_status;
  SH_RETURN_IF_ERROR(
      db_->ScanPrefix(Family::kTaskLog, LogPrefix(task_id), [&](const Record& record) {
        KeyReader reader(record.key);
        std::string stored_task;
        model::ProfileTaskLog log;
        records::ProfileTaskLogRecord pb;
        if (!reader.Skip(1) || !reader.ReadString(&stored_task) ||
            !reader.ReadInt64(&log.operation_time_ms) || !pb.ParseFromString(record.value)) {
          decode_status = Corrupt("profile task log");
          return false;
        }
        log.task_id = task_id;
        log.instance_id = pb.instance_id();
        log.operation = pb.operation() == 2 ? model::ProfileTaskOperation::kExecutionFinished
                                            : model::ProfileTaskOperation::kNotified;
        logs.push_back(std::move(log));
        return true;
      }));
  SH_RETURN_IF_ERROR(decode_status);
  std::reverse(logs.begin(), logs.end());  // newest first
  return logs;
}

absl::StatusOr<std::vector<uint64_t>> RocksProfileStore::ResolveStacks(
    absl::Span<const PendingStack> stacks) {
  return stacks_.Resolve(stacks, clock_->NowMillis());
}

absl::Status RocksProfileStore::AddDumps(absl::Span<const ResolvedDump> dumps) {
  if (dumps.empty()) return absl::OkStatus();
  const int64_t now = clock_->NowMillis();
  // The ids may have been resolved long ago (a stream keeps them): make sure the entries are
  // still stored and fresh for the dumps, whose times (an agent's clock ahead) keep their
  // stacks alive as long. One check per distinct stack.
  std::vector<uint64_t> ids;
  ids.reserve(dumps.size());
  int64_t latest = now;
  for (const ResolvedDump& dump : dumps) {
    ids.push_back(dump.stack_id);
    latest = std::max(latest, dump.dump_time_ms);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  SH_RETURN_IF_ERROR(stacks_.Retain(ids, now, latest));
  struct Put {
    std::string key;
    int64_t time;
    std::string value;
  };
  std::vector<Put> puts;
  puts.reserve(dumps.size() + 1);
  for (const ResolvedDump& dump : dumps) {
    Put& put = puts.emplace_back(Put{DumpPrefix(dump.segment_id), dump.dump_time_ms, {}});
    AppendInt64(&put.key, dump.sequence);
    AppendUint64(&put.value, dump.stack_id);
    put.value.push_back(static_cast<char>(model::SnapshotLanguage::kJava));
    if (dump.sequence == 0) {
      std::string index = ProfiledPrefix(dump.task_id);
      AppendInt64(&index, dump.dump_time_ms);
      AppendString(&index, dump.segment_id);
      puts.push_back({std::move(index), dump.dump_time_ms, ""});
    }
  }
  // RocksDB's memtable inserts a batch fastest in key order (its skip list starts each search
  // where the previous insert ended); a batch interleaves many segments. Stable: of equal keys
  // the last still wins.
  std::stable_sort(puts.begin(), puts.end(),
                   [](const Put& a, const Put& b) { return a.key < b.key; });
  WriteBatch batch;
  for (const Put& put : puts) batch.Put(Family::kSnapshot, put.key, put.time, put.value);
  return db_->Write(std::move(batch));
}

absl::StatusOr<std::vector<std::string>> RocksProfileStore::ListProfiledSegments(
    const std::string& task_id) const {
  std::vector<std::string> segments;
  absl::flat_hash_set<std::string> seen;
  absl::Status decode_status;
  SH_RETURN_IF_ERROR(
      db_->ScanPrefix(Family::kSnapshot, ProfiledPrefix(task_id), [&](const Record& record) {
        KeyReader reader(record.key);
        std::string task, segment;
        int64_t time;
        if (!reader.Skip(1) || !reader.ReadString(&task) || !reader.ReadInt64(&time) ||
            !reader.ReadString(&segment)) {
          decode_status = Corrupt("profiled segment index");
          return false;
        }
        if (seen.insert(segment).second) segments.push_back(std::move(segment));
        return true;
      }));
  SH_RETURN_IF_ERROR(decode_status);
  return segments;
}

absl::Status RocksProfileStore::ScanDumps(
    const std::string& segment_id, const std::function<void(const StoredDump&)>& visit) const {
  const std::string prefix = DumpPrefix(segment_id);
  absl::Status decode_status;
  SH_RETURN_IF_ERROR(db_->ScanPrefix(Family::kSnapshot, prefix, [&](const Record& record) {
    KeyReader key(absl::string_view(record.key).substr(prefix.size()));
    KeyReader value(record.value);
    int64_t sequence;
    StoredDump dump;
    if (!key.ReadInt64(&sequence) || !value.ReadUint64(&dump.stack_id) || record.value.size() < 9) {
      decode_status = Corrupt("thread dump");
      return false;
    }
    dump.sequence = static_cast<int32_t>(sequence);
    dump.dump_time_ms = record.timestamp_ms;
    dump.language =
        record.value[8] == 1 ? model::SnapshotLanguage::kGo : model::SnapshotLanguage::kJava;
    visit(dump);
    return true;
  }));
  return decode_status;
}

absl::Status RocksProfileStore::AddGoProfile(const model::GoProfile& profile) {
  if (profile.segment_ids.empty()) return absl::OkStatus();
  thread_local absl::BitGen gen;
  // The profile once; each segment refers to it.
  std::string suffix;
  AppendInt64(&suffix, profile.dump_time_ms);
  AppendUint64(&suffix, absl::Uniform<uint64_t>(gen));  // two uploads never share a key
  const std::string profile_key = std::string(1, kGoBlobPrefix) + suffix;
  WriteBatch batch;
  batch.Put(Family::kSnapshot, profile_key, profile.dump_time_ms, profile.pprof);
  records::GoProfileRecord ref;
  ref.set_task_id(profile.task_id);
  ref.set_profile_key(profile_key);
  const std::string ref_value = ref.SerializeAsString();
  for (const std::string& segment_id : profile.segment_ids) {
    batch.Put(Family::kSnapshot, GoProfilePrefix(segment_id) + suffix, profile.dump_time_ms,
              ref_value);
    std::string index = ProfiledPrefix(profile.task_id);
    AppendInt64(&index, profile.dump_time_ms);
    AppendString(&index, segment_id);
    batch.Put(Family::kSnapshot, index, profile.dump_time_ms, "");
  }
  return db_->Write(std::move(batch));
}

absl::StatusOr<std::vector<model::GoSegmentProfile>> RocksProfileStore::ListGoProfiles(
    const std::string& segment_id) const {
  std::vector<model::GoSegmentProfile> profiles;
  absl::Status decode_status;
  SH_RETURN_IF_ERROR(
      db_->ScanPrefix(Family::kSnapshot, GoProfilePrefix(segment_id), [&](const Record& record) {
        records::GoProfileRecord ref;
        if (!ref.ParseFromString(record.value)) {
          decode_status = Corrupt("Go profile reference");
          return false;
        }
        model::GoSegmentProfile& profile = profiles.emplace_back();
        profile.task_id = ref.task_id();
        profile.segment_id = segment_id;
        profile.dump_time_ms = record.timestamp_ms;
        profile.profile_key = ref.profile_key();
        return true;
      }));
  SH_RETURN_IF_ERROR(decode_status);
  return profiles;
}

absl::StatusOr<std::optional<std::string>> RocksProfileStore::GetGoProfile(
    const std::string& profile_key) const {
  if (profile_key.empty() || profile_key[0] != kGoBlobPrefix) {
    return absl::InvalidArgumentError("not a Go profile key");
  }
  SH_ASSIGN_OR_RETURN(auto record, db_->Get(Family::kSnapshot, profile_key));
  if (!record) return std::nullopt;
  return std::move(record->value);
}

absl::StatusOr<std::vector<std::string>> RocksProfileStore::GetStack(uint64_t stack_id) const {
  return stacks_.Get(stack_id);
}

absl::Status RocksProfileStore::ReadStacks(absl::Span<const uint64_t> stack_ids,
                                           StackVisitor& visitor) const {
  return stacks_.Read(stack_ids, visitor);
}

}  // namespace stackhouse::storage
