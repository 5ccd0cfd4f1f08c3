#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

// The input of the eBPF On-CPU / Off-CPU merge (graphql-protocol.md §5.7): samples whose stacks
// are dictionary-encoded, as the eBPF store keeps them. Symbol names are interned in a FrameTable
// (analysis/thread_dump.h).
namespace stackhouse::analysis {

// Where a symbol of an eBPF stack runs; the GraphQL enum EBPFProfilingStackType.
enum class StackType : uint8_t { kKernelSpace = 0, kUserSpace = 1 };

// "KERNEL_SPACE" or "USER_SPACE", the GraphQL enum value.
absl::string_view StackTypeName(StackType type);

// One frame of an eBPF stack: a symbol and the space it runs in. Two frames are the same tree
// node only if both fields are equal (spec §5.7 step 6). `Symbol` is a FrameTable id in the
// merge (EbpfFrame); RootFirstStack also works on names.
template <typename Symbol>
struct BasicEbpfFrame {
  Symbol symbol{};
  StackType type = StackType::kUserSpace;

  friend auto operator<=>(const BasicEbpfFrame&, const BasicEbpfFrame&) = default;
};

using EbpfFrame = BasicEbpfFrame<uint32_t>;

// Spec §5.7 step 3: the root-first path of one Rover sample, given the symbols of its kernel
// stack and of its user stack as stored, each innermost first. The result is the outermost user
// frame … the innermost user frame, then the outermost kernel frame … the innermost kernel frame.
// Either list may be empty. Call with an explicit `Symbol` when passing containers, e.g.
// `RootFirstStack<std::string>(kernel, user)`. Pure; thread-safe.
template <typename Symbol>
std::vector<BasicEbpfFrame<Symbol>> RootFirstStack(
    absl::Span<const Symbol> kernel_symbols_innermost_first,
    absl::Span<const Symbol> user_symbols_innermost_first) {
  std::vector<BasicEbpfFrame<Symbol>> frames;
  frames.reserve(kernel_symbols_innermost_first.size() + user_symbols_innermost_first.size());
  for (auto it = user_symbols_innermost_first.rbegin(); it != user_symbols_innermost_first.rend();
       ++it) {
    frames.push_back({*it, StackType::kUserSpace});
  }
  for (auto it = kernel_symbols_innermost_first.rbegin();
       it != kernel_symbols_innermost_first.rend(); ++it) {
    frames.push_back({*it, StackType::kKernelSpace});
  }
  return frames;
}

// Distinct eBPF stacks as sequences of frames, root first (RootFirstStack's order); ids are dense
// from 0 in order of addition. Stacks are not de-duplicated here: the caller (the store's stack
// dictionary) is expected to add each distinct stack once, because the merge walks each stack id
// once. Thread-compatible: const methods may be called concurrently.
class EbpfStackTable {
 public:
  // Appends a stack (possibly empty) and returns its id.
  uint32_t Add(absl::Span<const EbpfFrame> frames);

  // The frames of `stack_id`, root first. Requires stack_id < size(). The span is valid until the
  // next Add.
  absl::Span<const EbpfFrame> Frames(uint32_t stack_id) const {
    return absl::MakeConstSpan(frames_.data() + offsets_[stack_id],
                               offsets_[stack_id + 1] - offsets_[stack_id]);
  }

  size_t size() const { return offsets_.size() - 1; }

 private:
  std::vector<EbpfFrame> frames_;      // all stacks, concatenated
  std::vector<size_t> offsets_ = {0};  // stack i is frames_[offsets_[i], offsets_[i + 1])
};

}  // namespace stackhouse::analysis
