#include "storage/stack_dictionary.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
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

absl::StatusOr<std::vector<uint64_t>> StackDictionary::Resolve(
    absl::Span<const PendingStack> stacks, int64_t now_ms) {
  std::vector<uint64_t> ids;
  ids.reserve(stacks.size());
  absl::MutexLock lock(&mu_);
  WriteBatch batch;
  for (const PendingStack& stack : stacks) {
    SH_ASSIGN_OR_RETURN(uint64_t id, ResolveOne(stack, now_ms, &batch));
    ids.push_back(id);
  }
  // Entries are durable before any record that refers to them is written.
  if (batch.Count() > 0) SH_RETURN_IF_ERROR(db_->Write(std::move(batch)));
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

absl::StatusOr<uint64_t> StackDictionary::ResolveOne(const PendingStack& stack, int64_t now,
                                                     WriteBatch* batch) {
  const std::vector<std::string>& frames = *stack.frames;
  auto known = known_.find(stack.fingerprint);
  if (known != known_.end()) {
    auto written = written_.find(known->second);
    if (written != written_.end() && now >= written->second &&
        now - written->second < kDictionaryRefreshMs) {
      return known->second;
    }
  }
  for (int probe = 0; probe < kMaxProbes; ++probe) {
    const uint64_t id = stack.fingerprint.slot + static_cast<uint64_t>(probe);
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
    const bool stale = !stored || now - stored->timestamp_ms >= kDictionaryRefreshMs;
    if (stale) {
      records::StackRecord pb;
      for (const std::string& frame : frames) pb.add_frames(frame);
      batch->Put(family_, StackKey(id), now, pb.SerializeAsString());
    }
    if (known_.size() >= kMaxCached) {
      known_.clear();
      written_.clear();
    }
    known_[stack.fingerprint] = id;
    written_[id] = stale ? now : stored->timestamp_ms;
    return id;
  }
  return absl::ResourceExhaustedError("stack dictionary: too many hash collisions");
}

absl::Status StackDictionary::Retain(absl::Span<const uint64_t> ids, int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  WriteBatch batch;
  for (uint64_t id : ids) {
    auto written = written_.find(id);
    if (written != written_.end() && now_ms >= written->second &&
        now_ms - written->second < kDictionaryRefreshMs) {
      continue;
    }
    SH_ASSIGN_OR_RETURN(auto stored, db_->Get(family_, StackKey(id)));
    if (!stored) {
      return absl::NotFoundError(absl::StrCat("stack ", id, " is not in the dictionary"));
    }
    const bool stale = now_ms - stored->timestamp_ms >= kDictionaryRefreshMs;
    if (stale) batch.Put(family_, StackKey(id), now_ms, stored->value);
    if (written_.size() >= kMaxCached) {
      known_.clear();
      written_.clear();
    }
    written_[id] = stale ? now_ms : stored->timestamp_ms;
  }
  if (batch.Count() > 0) SH_RETURN_IF_ERROR(db_->Write(std::move(batch)));
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
