#include "storage/rocks_ebpf_store.h"

#include <algorithm>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "stackhouse/records.pb.h"
#include "storage/key_codec.h"
#include "storage/store_records.h"
#include "storage/varint.h"

namespace stackhouse::storage {
namespace {

constexpr char kProcessPrefix = 'r';
constexpr char kTaskPrefix = 'e';
constexpr char kSchedulePrefix = 'S';
constexpr char kTaskSchedulePrefix = 'T';
constexpr char kBlockPrefix = 'b';
constexpr char kRollupPrefix = 'm';
constexpr char kPendingPrefix = 'd';
constexpr uint8_t kBlockVersion = 1;
constexpr uint8_t kRollupVersion = 1;
constexpr uint8_t kRollupOnCpu = 1;
constexpr uint8_t kRollupOffCpu = 2;
// Roll-ups committed per exclusive hold of the roll-up lock.
constexpr size_t kRollupCommitBatch = 64;

std::string Key(char prefix, absl::string_view id) {
  std::string key(1, prefix);
  AppendString(&key, id);
  return key;
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("cannot decode stored ", what));
}

std::string RollupKey(absl::string_view schedule_id, int64_t minute) {
  std::string key = Key(kRollupPrefix, schedule_id);
  AppendInt64(&key, minute);
  return key;
}

std::string PendingKey(int64_t minute, absl::string_view schedule_id) {
  std::string key(1, kPendingPrefix);
  AppendInt64(&key, minute);
  AppendString(&key, schedule_id);
  return key;
}

}  // namespace

absl::Status RocksEbpfStore::PutProcesses(const std::vector<model::Process>& processes) {
  WriteBatch batch;
  for (const model::Process& p : processes) {
    batch.Put(Family::kMetadata, Key(kProcessPrefix, p.id), p.last_ping_ms, EncodeProcess(p));
  }
  return db_->Write(std::move(batch));
}

absl::StatusOr<std::vector<model::Process>> RocksEbpfStore::ListProcesses() const {
  std::vector<model::Process> processes;
  absl::Status status;
  SH_RETURN_IF_ERROR(
      db_->ScanPrefix(Family::kMetadata, std::string(1, kProcessPrefix), [&](const Record& record) {
        KeyReader reader(record.key);
        std::string id;
        absl::StatusOr<model::Process> p = DecodeProcess(record.value);
        if (!reader.Skip(1) || !reader.ReadString(&id) || !p.ok()) {
          status = Corrupt("process");
          return false;
        }
        p->id = std::move(id);
        p->last_ping_ms = record.timestamp_ms;
        processes.push_back(std::move(*p));
        return true;
      }));
  SH_RETURN_IF_ERROR(status);
  return processes;
}

absl::Status RocksEbpfStore::PutTask(const model::EbpfTask& task) {
  std::string key = Key(kTaskPrefix, task.logical_id);
  AppendInt64(&key, task.create_time_ms);
  return db_->Put(Family::kTask, key, task.create_time_ms, EncodeEbpfTask(task));
}

absl::StatusOr<std::vector<model::EbpfTask>> RocksEbpfStore::ListTasks() const {
  std::vector<model::EbpfTask> tasks;
  absl::Status status;
  SH_RETURN_IF_ERROR(
      db_->ScanPrefix(Family::kTask, std::string(1, kTaskPrefix), [&](const Record& record) {
        KeyReader reader(record.key);
        std::string logical_id;
        int64_t create_time_ms = 0;
        absl::StatusOr<model::EbpfTask> t = DecodeEbpfTask(record.value);
        if (!reader.Skip(1) || !reader.ReadString(&logical_id) ||
            !reader.ReadInt64(&create_time_ms) || !t.ok()) {
          status = Corrupt("eBPF task");
          return false;
        }
        t->logical_id = std::move(logical_id);
        t->create_time_ms = create_time_ms;
        tasks.push_back(std::move(*t));
        return true;
      }));
  SH_RETURN_IF_ERROR(status);
  return tasks;
}

absl::Status RocksEbpfStore::PutSchedule(const model::EbpfSchedule& schedule) {
  absl::MutexLock lock(&schedule_mu_);
  SH_ASSIGN_OR_RETURN(std::optional<model::EbpfSchedule> stored, GetSchedule(schedule.schedule_id));
  const int64_t end_time_ms =
      stored ? std::max(stored->end_time_ms, schedule.end_time_ms) : schedule.end_time_ms;
  records::EbpfScheduleRecord pb;
  pb.set_task_id(schedule.task_id);
  pb.set_process_id(schedule.process_id);
  pb.set_start_time_ms(schedule.start_time_ms);
  pb.set_end_time_ms(end_time_ms);
  std::string index = Key(kTaskSchedulePrefix, schedule.task_id);
  AppendString(&index, schedule.schedule_id);
  WriteBatch batch;
  batch.Put(Family::kEbpfSchedule, Key(kSchedulePrefix, schedule.schedule_id), end_time_ms,
            pb.SerializeAsString());
  batch.Put(Family::kEbpfSchedule, index, end_time_ms, "");
  return db_->Write(std::move(batch));
}

absl::StatusOr<std::optional<model::EbpfSchedule>> RocksEbpfStore::GetSchedule(
    const std::string& schedule_id) const {
  SH_ASSIGN_OR_RETURN(auto record,
                      db_->Get(Family::kEbpfSchedule, Key(kSchedulePrefix, schedule_id)));
  if (!record) return std::nullopt;
  records::EbpfScheduleRecord pb;
  if (!pb.ParseFromString(record->value)) return Corrupt("eBPF schedule");
  model::EbpfSchedule s;
  s.schedule_id = schedule_id;
  s.task_id = pb.task_id();
  s.process_id = pb.process_id();
  s.start_time_ms = pb.start_time_ms();
  s.end_time_ms = pb.end_time_ms();
  return s;
}

absl::StatusOr<std::vector<model::EbpfSchedule>> RocksEbpfStore::ListSchedules(
    const std::string& task_id) const {
  const std::string prefix = Key(kTaskSchedulePrefix, task_id);
  std::vector<std::string> ids;
  SH_RETURN_IF_ERROR(db_->ScanPrefix(Family::kEbpfSchedule, prefix, [&](const Record& record) {
    KeyReader reader(absl::string_view(record.key).substr(prefix.size()));
    std::string id;
    if (reader.ReadString(&id)) ids.push_back(std::move(id));
    return true;
  }));
  std::vector<model::EbpfSchedule> schedules;
  for (const std::string& id : ids) {
    SH_ASSIGN_OR_RETURN(auto schedule, GetSchedule(id));
    if (schedule) schedules.push_back(std::move(*schedule));
  }
  return schedules;
}

absl::StatusOr<std::vector<uint64_t>> RocksEbpfStore::ResolveStacks(
    absl::Span<const PendingStack> stacks) {
  return stacks_.Resolve(stacks, clock_->NowMillis());
}

absl::Status RocksEbpfStore::AddSampleBlock(const std::string& schedule_id, int64_t upload_time_ms,
                                            absl::Span<const StoredEbpfSample> samples) {
  if (samples.empty()) return absl::OkStatus();
  {
    // Each distinct stack once (blocks repeat few stacks many times).
    absl::flat_hash_set<uint64_t> distinct;
    for (const StoredEbpfSample& s : samples) distinct.insert(s.stack_id);
    std::vector<uint64_t> ids(distinct.begin(), distinct.end());
    SH_RETURN_IF_ERROR(stacks_.Retain(ids, clock_->NowMillis(), upload_time_ms));
  }
  // One block per target type present (Rover sends one type per task, but be exact).
  WriteBatch batch;
  thread_local absl::BitGen gen;
  for (model::EbpfTargetType type :
       {model::EbpfTargetType::kOnCpu, model::EbpfTargetType::kOffCpu}) {
    std::string block;
    uint64_t count = 0;
    for (const StoredEbpfSample& s : samples) count += s.target_type == type;
    if (count == 0) continue;
    block.reserve(16 + count * (type == model::EbpfTargetType::kOnCpu ? 10 : 14));
    block.push_back(static_cast<char>(kBlockVersion));
    block.push_back(static_cast<char>(type));
    PutVarint64(&block, count);
    EncodeSampleBlock(samples, type, &block);
    std::string key = Key(kBlockPrefix, schedule_id);
    AppendInt64(&key, upload_time_ms);
    AppendUint64(&key, absl::Uniform<uint64_t>(gen));  // two uploads never share a key
    batch.Put(Family::kEbpfSample, key, upload_time_ms, block);
  }
  // The minute's roll-up goes and the minute is pending, in the same write; unless it is pending
  // already (then the records say so: only a roll-up's commit, excluded here, changes that).
  MinuteKey minute{EbpfRollupMinuteOf(upload_time_ms), schedule_id};
  absl::ReaderMutexLock lock(&rollup_mu_);
  bool pending;
  {
    absl::MutexLock pending_lock(&pending_mu_);
    pending = pending_.contains(minute);
  }
  if (!pending) {
    batch.Delete(Family::kEbpfSample, RollupKey(schedule_id, minute.first));
    batch.Put(Family::kEbpfSample, PendingKey(minute.first, schedule_id), minute.first, "");
  }
  SH_RETURN_IF_ERROR(db_->Write(std::move(batch)));
  absl::MutexLock pending_lock(&pending_mu_);
  pending_[std::move(minute)] = next_generation_++;
  return absl::OkStatus();
}

bool EbpfSampleBlock::Next(StoredEbpfSample* sample) {
  if (remaining_ == 0 || corrupt_) return false;
  uint64_t a = 0, b = 0;
  bool ok = GetFixed64(&encoded_, &sample->stack_id) && GetVarint64(&encoded_, &a);
  if (ok && target_type_ == model::EbpfTargetType::kOffCpu) ok = GetVarint64(&encoded_, &b);
  if (!ok) {
    corrupt_ = true;
    return false;
  }
  --remaining_;
  sample->upload_time_ms = upload_time_ms_;
  sample->target_type = target_type_;
  if (target_type_ == model::EbpfTargetType::kOnCpu) {
    sample->dump_count = static_cast<int64_t>(a);
  } else {
    sample->switch_count = static_cast<int64_t>(a);
    sample->duration_ns = static_cast<int64_t>(b);
  }
  return true;
}

absl::Status RocksEbpfStore::ScanSampleBlocks(
    const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
    const std::function<void(EbpfSampleBlock&)>& visit) const {
  return ScanBlocks(schedule_id, from_ms, to_ms, [&](EbpfSampleBlock& block) {
    visit(block);
    return true;
  });
}

absl::Status RocksEbpfStore::ScanBlocks(const std::string& schedule_id, int64_t from_ms,
                                        int64_t to_ms,
                                        const std::function<bool(EbpfSampleBlock&)>& visit) const {
  if (from_ms >= to_ms) return absl::OkStatus();
  const std::string prefix = Key(kBlockPrefix, schedule_id);
  std::string begin = prefix;
  AppendInt64(&begin, from_ms);
  std::string end = prefix;
  AppendInt64(&end, to_ms);
  absl::Status status;
  SH_RETURN_IF_ERROR(db_->Scan(Family::kEbpfSample, begin, end, [&](const Record& record) {
    absl::string_view in(record.value);
    uint64_t count = 0;
    if (in.size() < 2 || static_cast<uint8_t>(in[0]) != kBlockVersion) {
      status = Corrupt("eBPF sample block");
      return false;
    }
    auto type = static_cast<uint8_t>(in[1]) == static_cast<uint8_t>(model::EbpfTargetType::kOffCpu)
                    ? model::EbpfTargetType::kOffCpu
                    : model::EbpfTargetType::kOnCpu;
    in.remove_prefix(2);
    if (!GetVarint64(&in, &count)) {
      status = Corrupt("eBPF sample block");
      return false;
    }
    EbpfSampleBlock block(record.timestamp_ms, type, count, in);
    const bool go = visit(block);
    if (block.corrupt()) {
      status = Corrupt("eBPF sample block");
      return false;
    }
    return go;
  }));
  return status;
}

absl::Status RocksEbpfStore::ScanAggregated(const std::string& schedule_id, int64_t from_ms,
                                            int64_t to_ms, EbpfSampleVisitor& visitor) const {
  if (from_ms >= to_ms) return absl::OkStatus();
  const auto block = [&visitor](EbpfSampleBlock& b) { return visitor.Block(b); };
  int64_t cursor = from_ms;  // samples before it have been visited
  bool go = true;
  absl::Status status;
  // The whole minutes inside [from, to): [first, last). Far from int64's ends only.
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min() + 2 * kEbpfRollupMinuteMs;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max() - 2 * kEbpfRollupMinuteMs;
  if (from_ms > kMin && to_ms < kMax) {
    const int64_t first = EbpfRollupMinuteOf(from_ms + kEbpfRollupMinuteMs - 1);
    const int64_t last = EbpfRollupMinuteOf(to_ms);
    if (first < last) {
      // One iterator, one consistent view of the minutes' roll-ups; a minute without one is read
      // raw (an add removes the roll-up in the write that adds the block).
      const std::string prefix = Key(kRollupPrefix, schedule_id);
      SH_RETURN_IF_ERROR(db_->Scan(Family::kEbpfSample, RollupKey(schedule_id, first),
                                   RollupKey(schedule_id, last), [&](const Record& record) {
                                     KeyReader reader(
                                         absl::string_view(record.key).substr(prefix.size()));
                                     int64_t minute = 0;
                                     absl::string_view in(record.value);
                                     uint64_t count = 0;
                                     if (!reader.ReadInt64(&minute) || in.size() < 2 ||
                                         static_cast<uint8_t>(in[0]) != kRollupVersion) {
                                       status = Corrupt("eBPF roll-up");
                                       return false;
                                     }
                                     const auto flags = static_cast<uint8_t>(in[1]);
                                     in.remove_prefix(2);
                                     if (!GetVarint64(&in, &count)) {
                                       status = Corrupt("eBPF roll-up");
                                       return false;
                                     }
                                     if (cursor < minute) {
                                       status = ScanBlocks(schedule_id, cursor, minute, block);
                                       if (!status.ok()) return false;
                                     }
                                     cursor = minute + kEbpfRollupMinuteMs;
                                     EbpfRollup rollup(minute, (flags & kRollupOnCpu) != 0,
                                                       (flags & kRollupOffCpu) != 0, count, in);
                                     go = visitor.Rollup(rollup);
                                     if (rollup.corrupt()) {
                                       status = Corrupt("eBPF roll-up");
                                       return false;
                                     }
                                     return go;
                                   }));
      SH_RETURN_IF_ERROR(status);
      if (!go) return absl::OkStatus();
    }
  }
  return ScanBlocks(schedule_id, cursor, to_ms, block);
}

absl::Status RocksEbpfStore::LoadPending() {
  absl::WriterMutexLock lock(&rollup_mu_);
  if (pending_loaded_) return absl::OkStatus();
  std::vector<MinuteKey> stored;
  absl::Status status;
  SH_RETURN_IF_ERROR(db_->ScanPrefix(Family::kEbpfSample, std::string(1, kPendingPrefix),
                                     [&](const Record& record) {
                                       KeyReader reader(record.key);
                                       MinuteKey minute;
                                       if (!reader.Skip(1) || !reader.ReadInt64(&minute.first) ||
                                           !reader.ReadString(&minute.second)) {
                                         status = Corrupt("eBPF pending minute");
                                         return false;
                                       }
                                       stored.push_back(std::move(minute));
                                       return true;
                                     }));
  SH_RETURN_IF_ERROR(status);
  absl::MutexLock pending_lock(&pending_mu_);
  for (MinuteKey& minute : stored) pending_.try_emplace(std::move(minute), 0);
  pending_loaded_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> RocksEbpfStore::ComputeRollup(const MinuteKey& minute,
                                                                         int64_t now) {
  // Expired (its first samples are gone, or about to be): read raw, as the raw path would.
  if (db_->IsExpired(Family::kEbpfSample, minute.first)) return std::nullopt;
  SH_ASSIGN_OR_RETURN(EbpfMinuteSums sums, SumMinute(minute.second, minute.first));
  if (!sums.WorthARollup()) return std::nullopt;
  const std::vector<EbpfRollupStack>& stacks = sums.stacks;
  const bool on_cpu = sums.has_on_cpu, off_cpu = sums.has_off_cpu;
  std::vector<uint64_t> ids;
  ids.reserve(stacks.size());
  for (const EbpfRollupStack& stack : stacks) ids.push_back(stack.stack_id);
  absl::Status retained = stacks_.Retain(ids, now, minute.first);
  // A stack gone from the dictionary: readers skip it either way; leave the minute raw.
  if (absl::IsNotFound(retained)) return std::nullopt;
  SH_RETURN_IF_ERROR(retained);
  std::string value;
  value.push_back(static_cast<char>(kRollupVersion));
  value.push_back(static_cast<char>((on_cpu ? kRollupOnCpu : 0) | (off_cpu ? kRollupOffCpu : 0)));
  PutVarint64(&value, stacks.size());
  value += EncodeRollupStacks(stacks, minute.first, on_cpu, off_cpu);
  return value;
}

absl::StatusOr<EbpfRollupStats> RocksEbpfStore::RollUp(int64_t max_minutes) {
  SH_RETURN_IF_ERROR(LoadPending());
  const int64_t now = clock_->NowMillis();
  struct Candidate {
    MinuteKey minute;
    uint64_t generation;
    std::optional<std::string> value;
  };
  std::vector<Candidate> todo;
  {
    absl::MutexLock lock(&pending_mu_);
    for (const auto& [minute, generation] : pending_) {
      if (static_cast<int64_t>(todo.size()) >= max_minutes) break;
      // Ordered by minute: the first one not closed long enough ends the closed ones.
      if (minute.first > now - kEbpfRollupMinuteMs - kRollupDelayMs) break;
      todo.push_back({minute, generation, std::nullopt});
    }
  }
  EbpfRollupStats stats;
  for (size_t begin = 0; begin < todo.size(); begin += kRollupCommitBatch) {
    const size_t end = std::min(todo.size(), begin + kRollupCommitBatch);
    for (size_t i = begin; i < end; ++i) {
      SH_ASSIGN_OR_RETURN(todo[i].value, ComputeRollup(todo[i].minute, now));
    }
    if (rollup_hook_) rollup_hook_();
    absl::WriterMutexLock lock(&rollup_mu_);
    absl::MutexLock pending_lock(&pending_mu_);
    WriteBatch batch;
    std::vector<const Candidate*> committed;
    for (size_t i = begin; i < end; ++i) {
      const Candidate& c = todo[i];
      auto it = pending_.find(c.minute);
      if (it == pending_.end() || it->second != c.generation) {
        ++stats.retried;  // an add came in since it was read
        continue;
      }
      if (c.value) {
        batch.Put(Family::kEbpfSample, RollupKey(c.minute.second, c.minute.first), c.minute.first,
                  *c.value);
      }
      batch.Delete(Family::kEbpfSample, PendingKey(c.minute.first, c.minute.second));
      committed.push_back(&c);
    }
    if (committed.empty()) continue;
    SH_RETURN_IF_ERROR(db_->Write(std::move(batch)));
    for (const Candidate* c : committed) {
      pending_.erase(c->minute);
      ++(c->value ? stats.rolled_up : stats.left_raw);
    }
  }
  absl::MutexLock lock(&pending_mu_);
  stats.pending = static_cast<int64_t>(pending_.size());
  return stats;
}

absl::Status RocksEbpfStore::ScanSamples(
    const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
    const std::function<void(const StoredEbpfSample&)>& visit) const {
  return ScanSampleBlocks(schedule_id, from_ms, to_ms, [&](EbpfSampleBlock& block) {
    StoredEbpfSample sample;
    while (block.Next(&sample)) visit(sample);
  });
}

absl::StatusOr<std::vector<model::EbpfSymbol>> RocksEbpfStore::GetStack(uint64_t stack_id) const {
  SH_ASSIGN_OR_RETURN(std::vector<std::string> frames, stacks_.Get(stack_id));
  std::vector<model::EbpfSymbol> symbols;
  symbols.reserve(frames.size());
  for (const std::string& frame : frames) {
    if (frame.empty()) return Corrupt("eBPF stack frame");
    symbols.push_back({frame.substr(1), frame[0] == kKernelFrameTag ? model::StackType::kKernel
                                                                    : model::StackType::kUser});
  }
  return symbols;
}

absl::Status RocksEbpfStore::ReadStacks(absl::Span<const uint64_t> stack_ids,
                                        StackVisitor& visitor) const {
  return stacks_.Read(stack_ids, visitor);
}

}  // namespace stackhouse::storage
