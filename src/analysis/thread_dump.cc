#include "analysis/thread_dump.h"

namespace stackhouse::analysis {

uint32_t FrameTable::Intern(absl::string_view signature) {
  auto [it, inserted] = ids_.try_emplace(signature, static_cast<uint32_t>(signatures_.size()));
  if (inserted) signatures_.emplace_back(signature);
  return it->second;
}

uint32_t StackTable::Add(absl::Span<const uint32_t> frame_ids) {
  frame_ids_.insert(frame_ids_.end(), frame_ids.begin(), frame_ids.end());
  offsets_.push_back(frame_ids_.size());
  return static_cast<uint32_t>(offsets_.size() - 2);
}

}  // namespace stackhouse::analysis
