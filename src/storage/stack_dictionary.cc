#include "storage/stack_dictionary.h"

#include <algorithm>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "stackhouse/records.pb.h"
#include "storage/key_codec.h"
#include "storage/stable_hash.h"

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

uint64_t StackHash(const std::vector<std::string>& frames) {
  StableHash hash;
  for (const std::string& frame : frames) hash.AddLengthPrefixed(frame);
  return hash.value();
}

}  // namespace

absl::StatusOr<std::vector<uint64_t>> StackDictionary::Resolve(
    const std::vector<const std::vector<std::string>*>& stacks, int64_t now_ms) {
  std::vector<uint64_t> ids;
  ids.reserve(stacks.size());
  absl::MutexLock lock(&mu_);
  WriteBatch batch;
  for (const std::vector<std::string>* frames : stacks) {
    SH_ASSIGN_OR_RETURN(uint64_t id, ResolveOne(*frames, now_ms, &batch));
    ids.push_back(id);
  }
  // Entries are durable before any record that refers to them is written.
  if (batch.Count() > 0) SH_RETURN_IF_ERROR(db_->Write(std::move(batch)));
  return ids;
}

absl::StatusOr<uint64_t> StackDictionary::ResolveOne(const std::vector<std::string>& frames,
                                                     int64_t now, WriteBatch* batch) {
  const uint64_t hash = StackHash(frames);
  const size_t check = absl::HashOf(frames);
  auto known = known_.find(hash);
  if (known != known_.end() && known->second.check == check) {
    auto written = written_.find(known->second.id);
    if (written != written_.end() && now >= written->second &&
        now - written->second < kDictionaryRefreshMs) {
      return known->second.id;
    }
  }
  for (int probe = 0; probe < kMaxProbes; ++probe) {
    const uint64_t id = hash + static_cast<uint64_t>(probe);
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
    known_[hash] = Known{id, check};
    written_[id] = stale ? now : stored->timestamp_ms;
    return id;
  }
  return absl::ResourceExhaustedError("stack dictionary: too many hash collisions");
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
