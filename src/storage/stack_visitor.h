#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace stackhouse::storage {

// What a batched read of stacks (SnapshotStore::ReadStacks, EbpfStore::ReadStacks) hands out,
// so that a reader handles each distinct frame once, not once per stack that holds it. Frames
// are numbered 0, 1, ... in the order they are handed out; the stacks found are visited in the
// order of the ids read (a stack no longer stored is not visited), each as the numbers of its
// frames, root first, and each frame is handed out just before the first stack that holds it.
// So interning the frames in the order handed out interns them in the order of their first
// appearance in the stacks, as reading the stacks one by one would. One frame text may come
// under two numbers (entries of two formats), but a number always stands for one text.
class StackVisitor {
 public:
  virtual ~StackVisitor() = default;
  // The frame numbered by the count of earlier calls; `frame` is valid during the call only.
  virtual void Frame(absl::string_view frame) = 0;
  // The stack at `index` among the ids read; `frames` is valid during the call only.
  virtual void Stack(size_t index, absl::Span<const uint32_t> frames) = 0;
};

// ReadStacks for a store that reads one stack at a time: `get` returns a stack's frames, root
// first, or NotFound (then the stack is not visited). Errors: those of `get`.
absl::Status VisitStacksOneByOne(
    absl::Span<const uint64_t> ids,
    absl::FunctionRef<absl::StatusOr<std::vector<std::string>>(uint64_t)> get,
    StackVisitor& visitor);

// A StackVisitor that keeps what it is handed (tests, and reading one stack).
class CollectingStackVisitor final : public StackVisitor {
 public:
  void Frame(absl::string_view frame) override { frames_.emplace_back(frame); }
  void Stack(size_t index, absl::Span<const uint32_t> frames) override {
    std::vector<std::string>& stack = stacks_.emplace_back();
    indices_.push_back(index);
    for (uint32_t number : frames) stack.push_back(frames_[number]);
  }

  // The frames handed out, by number.
  const std::vector<std::string>& frames() const { return frames_; }
  // The stacks visited, in order, with their frames' texts, and their indices among the ids.
  const std::vector<std::vector<std::string>>& stacks() const { return stacks_; }
  const std::vector<size_t>& indices() const { return indices_; }

 private:
  std::vector<std::string> frames_;
  std::vector<std::vector<std::string>> stacks_;
  std::vector<size_t> indices_;
};

}  // namespace stackhouse::storage
