#include "analysis/thread_dump.h"

#include "absl/hash/hash.h"

namespace stackhouse::analysis {

uint32_t FrameTable::Intern(absl::string_view signature) {
  const Key key{signature, absl::HashOf(signature)};
  if (auto it = ids_.find(key); it != ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(signatures_.size());
  const std::string& stored = signatures_.emplace_back(signature);
  ids_.emplace(Key{stored, key.hash}, id);
  return id;
}

uint32_t StackTable::Add(absl::Span<const uint32_t> frame_ids) {
  frame_ids_.insert(frame_ids_.end(), frame_ids.begin(), frame_ids.end());
  offsets_.push_back(frame_ids_.size());
  return static_cast<uint32_t>(offsets_.size() - 2);
}

}  // namespace stackhouse::analysis
