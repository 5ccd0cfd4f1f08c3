#include "analysis/ebpf_stack.h"

namespace stackhouse::analysis {

absl::string_view StackTypeName(StackType type) {
  return type == StackType::kKernelSpace ? "KERNEL_SPACE" : "USER_SPACE";
}

uint32_t EbpfStackTable::Add(absl::Span<const EbpfFrame> frames) {
  frames_.insert(frames_.end(), frames.begin(), frames.end());
  offsets_.push_back(frames_.size());
  return static_cast<uint32_t>(offsets_.size() - 2);
}

}  // namespace stackhouse::analysis
