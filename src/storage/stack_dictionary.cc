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

// What one Resolve or Retain call will write, and the cache entries that become true once the
// write succeeds (a failed write must leave the caches as they were).
struct StackDictionary::Staged {
  WriteBatch batch;
  // Ids put in this batch → their frames (two new stacks may probe the same free slot).
  absl::flat_hash_map<uint64_t, const std::vector<std::string>*> claimed;
  std::vector<std::pair<StackFingerprint, Known>> known;
  std::vector<std::pair<uint64_t, int64_t>> written;
};

absl::StatusOr<std::vector<uint64_t>> StackDictionary::Resolve(
    absl::Span<const PendingStack> stacks, int64_t now_ms) {
  std::vector<uint64_t> ids;
  ids.reserve(stacks.size());
  absl::MutexLock lock(&mu_);
  Staged staged;
  for (const PendingStack& stack : stacks) {
    SH_ASSIGN_OR_RETURN(uint64_t id, ResolveOne(stack, now_ms, &staged));
    ids.push_back(id);
  }
  // Entries are durable before any record that refers to them is written.
  if (staged.batch.Count() > 0) SH_RETURN_IF_ERROR(db_->Write(std::move(staged.batch)));
  Apply(staged);
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
  return stamp_ms <= SaturatingAdd(time, db_->max_future_skew_ms()) &&
         SaturatingSub(time, stamp_ms) < kDictionaryRefreshMs;
}

bool StackDictionary::FreshLocked(uint64_t id, int64_t time) const {
  auto written = written_.find(id);
  return written != written_.end() && FreshAt(written->second, time);
}

absl::StatusOr<uint64_t> StackDictionary::ResolveOne(const PendingStack& stack, int64_t now,
                                                     Staged* staged) {
  const std::vector<std::string>& frames = *stack.frames;
  // The fingerprint is public and stable, so a crafted stack could share it: a hit also needs
  // this process's seeded hash of the frames to match.
  const size_t check = absl::HashOf(frames);
  auto known = known_.find(stack.fingerprint);
  if (known != known_.end() && known->second.check == check && FreshLocked(known->second.id, now)) {
    return known->second.id;
  }
  for (int probe = 0; probe < kMaxProbes; ++probe) {
    const uint64_t id = stack.fingerprint.slot + static_cast<uint64_t>(probe);
    if (auto claimed = staged->claimed.find(id); claimed != staged->claimed.end()) {
      if (*claimed->second == frames) return id;  // the same stack twice in one call
      continue;                                   // taken by another new stack of this call
    }
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
      staged->batch.Put(family_, StackKey(id), now, pb.SerializeAsString());
      staged->claimed.emplace(id, &frames);
    }
    staged->known.push_back({stack.fingerprint, Known{id, check}});
    staged->written.push_back({id, stale ? now : stored->timestamp_ms});
    return id;
  }
  return absl::ResourceExhaustedError("stack dictionary: too many hash collisions");
}

void StackDictionary::Apply(const Staged& staged) {
  if (known_.size() + staged.known.size() > kMaxCached ||
      written_.size() + staged.written.size() > kMaxCached) {
    known_.clear();
    written_.clear();
  }
  for (const auto& [fingerprint, known] : staged.known) known_[fingerprint] = known;
  for (const auto& [id, time] : staged.written) written_[id] = time;
}

absl::Status StackDictionary::Retain(absl::Span<const uint64_t> ids, int64_t now_ms,
                                     int64_t records_time_ms) {
  // Records are never stamped further ahead than the skew the receivers accept; a shared entry
  // is never stamped further ahead either, whatever a caller says.
  const int64_t time =
      std::clamp(records_time_ms, now_ms, SaturatingAdd(now_ms, db_->max_future_skew_ms()));
  absl::MutexLock lock(&mu_);
  Staged staged;
  for (uint64_t id : ids) {
    if (FreshLocked(id, time)) continue;
    SH_ASSIGN_OR_RETURN(auto stored, db_->Get(family_, StackKey(id)));
    if (!stored) {
      return absl::NotFoundError(absl::StrCat("stack ", id, " is not in the dictionary"));
    }
    const bool stale = !FreshAt(stored->timestamp_ms, time);
    if (stale) staged.batch.Put(family_, StackKey(id), time, stored->value);
    staged.written.push_back({id, stale ? time : stored->timestamp_ms});
  }
  if (staged.batch.Count() > 0) SH_RETURN_IF_ERROR(db_->Write(std::move(staged.batch)));
  Apply(staged);
  return absl::OkStatus();
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
