#include "storage/stack_dictionary.h"

#include <algorithm>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "common/saturating.h"
#include "common/status_macros.h"
#include "stackhouse/records.pb.h"
#include "storage/key_codec.h"

namespace stackhouse::storage {
namespace {

constexpr char kStackPrefix = 'k';
constexpr size_t kMaxCached = 1 << 20;
constexpr int kMaxProbes = 64;

std::string StackKey(uint64_t id) {
  std::string key(1, kStackPrefix);
  AppendUint64(&key, id);
  return key;
}

}  // namespace

// What one Resolve or Retain call has claimed and will write, and the cache entries that
// become true once the write succeeds (a failed write must leave the caches as they were).
class StackDictionary::Call {
 public:
  explicit Call(StackDictionary* dictionary) : dictionary_(dictionary) {}
  // Gives back the claims of a call that ended early (an error).
  ~Call() {
    if (claims.empty()) return;
    absl::MutexLock lock(&dictionary_->mu_);
    dictionary_->ReleaseLocked(this);
  }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  WriteBatch batch;
  // Ids put in this batch → their frames (two new stacks may probe the same free slot).
  absl::flat_hash_map<uint64_t, const std::vector<std::string>*> put;
  absl::flat_hash_set<uint64_t> claims;
  std::vector<std::pair<StackFingerprint, Known>> known;
  std::vector<std::pair<uint64_t, int64_t>> written;

 private:
  StackDictionary* const dictionary_;
};

absl::StatusOr<std::vector<uint64_t>> StackDictionary::Resolve(
    absl::Span<const PendingStack> stacks, int64_t now_ms) {
  // The fingerprint is public and stable, so a crafted stack could share it: a hit also needs
  // this process's seeded hash of the frames to match.
  std::vector<size_t> checks;
  checks.reserve(stacks.size());
  for (const PendingStack& stack : stacks) checks.push_back(absl::HashOf(*stack.frames));
  std::vector<uint64_t> ids(stacks.size());
  std::vector<size_t> misses;
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < stacks.size(); ++i) {
      auto known = known_.find(stacks[i].fingerprint);
      if (known != known_.end() && known->second.check == checks[i] &&
          FreshLocked(known->second.id, now_ms)) {
        ids[i] = known->second.id;
      } else {
        misses.push_back(i);
      }
    }
  }
  if (misses.empty()) return ids;
  Call call(this);
  {
    // Claims the first slot of every miss at once where it is free (one lock, not one each).
    absl::MutexLock lock(&mu_);
    for (size_t i : misses) {
      const uint64_t id = stacks[i].fingerprint.slot;
      if (claimed_.insert(id).second) call.claims.insert(id);
    }
  }
  for (size_t i : misses) {
    SH_ASSIGN_OR_RETURN(ids[i], ResolveMiss(stacks[i], checks[i], now_ms, &call));
  }
  // Entries are durable before any record that refers to them is written.
  SH_RETURN_IF_ERROR(Commit(&call));
  return ids;
}

absl::StatusOr<std::vector<uint64_t>> StackDictionary::Resolve(
    const std::vector<const std::vector<std::string>*>& stacks, int64_t now_ms) {
  std::vector<PendingStack> pending;
  pending.reserve(stacks.size());
  for (const std::vector<std::string>* frames : stacks) {
    pending.push_back({StackHasher::Of(*frames), frames});
  }
  return Resolve(pending, now_ms);
}

bool StackDictionary::FreshAt(int64_t stamp_ms, int64_t time) const {
  // An entry stamped further ahead than any accepted record (written before agents' times
  // were checked) is re-stamped too, so that it expires some day.
  return stamp_ms <= SaturatingAdd(time, max_future_skew_ms_) &&
         SaturatingSub(time, stamp_ms) < kDictionaryRefreshMs;
}

bool StackDictionary::FreshLocked(uint64_t id, int64_t time) const {
  auto written = written_.find(id);
  return written != written_.end() && FreshAt(written->second, time);
}

absl::StatusOr<uint64_t> StackDictionary::ResolveMiss(const PendingStack& stack, size_t check,
                                                      int64_t now, Call* call) {
  const std::vector<std::string>& frames = *stack.frames;
  for (int probe = 0; probe < kMaxProbes; ++probe) {
    const uint64_t id = stack.fingerprint.slot + static_cast<uint64_t>(probe);
    if (auto put = call->put.find(id); put != call->put.end()) {
      if (*put->second == frames) return id;  // the same stack twice in one call
      continue;                               // taken by another new stack of this call
    }
    SH_RETURN_IF_ERROR(Claim(id, call));
    SH_ASSIGN_OR_RETURN(auto stored, db_->Get(family_, StackKey(id)));
    if (stored) {
      records::StackRecord pb;
      if (!pb.ParseFromString(stored->value)) {
        return absl::DataLossError("cannot decode a stored stack");
      }
      bool same = static_cast<size_t>(pb.frames_size()) == frames.size() &&
                  std::equal(frames.begin(), frames.end(), pb.frames().begin());
      if (!same) continue;  // a collision: another stack holds this slot
    }
    const bool stale = !stored || !FreshAt(stored->timestamp_ms, now);
    if (stale) {
      records::StackRecord pb;
      for (const std::string& frame : frames) pb.add_frames(frame);
      call->batch.Put(family_, StackKey(id), now, pb.SerializeAsString());
      call->put.emplace(id, &frames);
    }
    call->known.push_back({stack.fingerprint, Known{id, check}});
    call->written.push_back({id, stale ? now : stored->timestamp_ms});
    return id;
  }
  return absl::ResourceExhaustedError("stack dictionary: too many hash collisions");
}

absl::Status StackDictionary::Claim(uint64_t id, Call* call) {
  if (call->claims.contains(id)) return absl::OkStatus();
  {
    absl::MutexLock lock(&mu_);
    if (claimed_.insert(id).second) {
      call->claims.insert(id);
      return absl::OkStatus();
    }
  }
  // Another call holds the slot. Waiting while holding claims could deadlock two calls that
  // wait for each other's slots, so this call first writes what it has.
  SH_RETURN_IF_ERROR(Commit(call));
  absl::MutexLock lock(&mu_);
  while (claimed_.contains(id)) released_.Wait(&mu_);
  claimed_.insert(id);
  call->claims.insert(id);
  return absl::OkStatus();
}

absl::Status StackDictionary::Commit(Call* call) {
  absl::Status status;
  if (call->batch.Count() > 0) {
    status = db_->Write(std::move(call->batch));
    call->batch = WriteBatch();
  }
  {
    absl::MutexLock lock(&mu_);
    if (status.ok()) {
      if (known_.size() + call->known.size() > kMaxCached ||
          written_.size() + call->written.size() > kMaxCached) {
        known_.clear();
        written_.clear();
      }
      for (const auto& [fingerprint, known] : call->known) known_[fingerprint] = known;
      for (const auto& [id, time] : call->written) written_[id] = time;
    }
    ReleaseLocked(call);
  }
  call->put.clear();
  call->known.clear();
  call->written.clear();
  return status;
}

void StackDictionary::ReleaseLocked(Call* call) {
  if (call->claims.empty()) return;
  for (uint64_t id : call->claims) claimed_.erase(id);
  call->claims.clear();
  released_.SignalAll();
}

absl::Status StackDictionary::Retain(absl::Span<const uint64_t> ids, int64_t now_ms,
                                     int64_t records_time_ms) {
  // Records are never stamped further ahead than the skew the receivers accept; a shared entry
  // is never stamped further ahead either, whatever a caller says.
  const int64_t time =
      std::clamp(records_time_ms, now_ms, SaturatingAdd(now_ms, max_future_skew_ms_));
  std::vector<uint64_t> unsure;
  {
    absl::MutexLock lock(&mu_);
    for (uint64_t id : ids) {
      if (!FreshLocked(id, time)) unsure.push_back(id);
    }
  }
  if (unsure.empty()) return absl::OkStatus();
  Call call(this);
  for (uint64_t id : unsure) {
    if (call.claims.contains(id)) continue;  // listed twice
    SH_RETURN_IF_ERROR(Claim(id, &call));
    SH_ASSIGN_OR_RETURN(auto stored, db_->Get(family_, StackKey(id)));
    if (!stored) {
      return absl::NotFoundError(absl::StrCat("stack ", id, " is not in the dictionary"));
    }
    const bool stale = !FreshAt(stored->timestamp_ms, time);
    if (stale) call.batch.Put(family_, StackKey(id), time, stored->value);
    call.written.push_back({id, stale ? time : stored->timestamp_ms});
  }
  return Commit(&call);
}

absl::StatusOr<std::vector<std::string>> StackDictionary::Get(uint64_t id) const {
  SH_ASSIGN_OR_RETURN(auto stored, db_->Get(family_, StackKey(id)));
  if (!stored) {
    return absl::NotFoundError(absl::StrCat("stack ", id, " is not stored (expired?)"));
  }
  records::StackRecord pb;
  if (!pb.ParseFromString(stored->value)) return absl::DataLossError("cannot decode a stack");
  return std::vector<std::string>(pb.frames().begin(), pb.frames().end());
}

}  // namespace stackhouse::storage
