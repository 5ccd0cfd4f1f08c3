#include "storage/stack_visitor.h"

#include "absl/container/flat_hash_map.h"

namespace stackhouse::storage {

absl::Status VisitStacksOneByOne(
    absl::Span<const uint64_t> ids,
    absl::FunctionRef<absl::StatusOr<std::vector<std::string>>(uint64_t)> get,
    StackVisitor& visitor) {
  absl::flat_hash_map<std::string, uint32_t> numbers;
  std::vector<uint32_t> stack;
  for (size_t i = 0; i < ids.size(); ++i) {
    absl::StatusOr<std::vector<std::string>> frames = get(ids[i]);
    if (absl::IsNotFound(frames.status())) continue;
    if (!frames.ok()) return frames.status();
    stack.clear();
    for (std::string& frame : *frames) {
      auto [it, inserted] = numbers.try_emplace(frame, static_cast<uint32_t>(numbers.size()));
      if (inserted) visitor.Frame(it->first);
      stack.push_back(it->second);
    }
    visitor.Stack(i, stack);
  }
  return absl::OkStatus();
}

}  // namespace stackhouse::storage
