// StreamStackIds: slots by fingerprint, frames built once per stack, resolved in one batch,
// forgotten after a failure or beyond the bound.
#include "storage/stream_stack_ids.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace stackhouse::storage {
namespace {

class StreamStackIdsTest : public ::testing::Test {
 protected:
  uint32_t Slot(const std::vector<std::string>& frames) {
    return ids_.Slot(StackHasher::Of(frames), [&](std::vector<std::string>* out) {
      ++built_;
      out->insert(out->end(), frames.begin(), frames.end());
    });
  }
  // Resolves with a dictionary that numbers stacks from 100 in the order asked.
  absl::Status Resolve() {
    return ids_.Resolve([this](absl::Span<const PendingStack> stacks) {
      ++calls_;
      std::vector<uint64_t> out;
      for (const PendingStack& stack : stacks) {
        EXPECT_EQ(stack.fingerprint, StackHasher::Of(*stack.frames));
        out.push_back(next_++);
      }
      return absl::StatusOr<std::vector<uint64_t>>(out);
    });
  }

  StreamStackIds ids_;
  int built_ = 0;
  int calls_ = 0;
  uint64_t next_ = 100;
};

TEST_F(StreamStackIdsTest, ARepeatedStackIsBuiltAndResolvedOnce) {
  const uint32_t a = Slot({"ua", "ub"});
  const uint32_t b = Slot({"uc"});
  EXPECT_EQ(Slot({"ua", "ub"}), a);
  EXPECT_NE(a, b);
  EXPECT_GT(ids_.pending_bytes(), 0u);
  ASSERT_TRUE(Resolve().ok());
  EXPECT_EQ(ids_.id(a), 100u);
  EXPECT_EQ(ids_.id(b), 101u);
  EXPECT_EQ(ids_.pending_bytes(), 0u);
  EXPECT_EQ(Slot({"uc"}), b);
  ASSERT_TRUE(Resolve().ok());  // nothing pending: the dictionary is not asked
  EXPECT_EQ(built_, 2);
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(ids_.resolved(), 2u);
}

TEST_F(StreamStackIdsTest, AFailedResolveForgetsEverySlot) {
  Slot({"ua"});
  ASSERT_TRUE(Resolve().ok());
  Slot({"ub"});
  EXPECT_EQ(
      ids_.Resolve([](absl::Span<const PendingStack>) -> absl::StatusOr<std::vector<uint64_t>> {
            return absl::UnavailableError("down");
          })
          .code(),
      absl::StatusCode::kUnavailable);
  EXPECT_EQ(ids_.pending_bytes(), 0u);
  Slot({"ua"});  // forgotten too: built and resolved again
  EXPECT_EQ(built_, 3);
  ASSERT_TRUE(Resolve().ok());
  EXPECT_EQ(ids_.resolved(), 2u);
}

TEST_F(StreamStackIdsTest, AnAnswerOfTheWrongLengthIsAnError) {
  Slot({"ua"});
  Slot({"ub"});
  EXPECT_EQ(
      ids_.Resolve([](absl::Span<const PendingStack>) -> absl::StatusOr<std::vector<uint64_t>> {
            return std::vector<uint64_t>{7};
          })
          .code(),
      absl::StatusCode::kInternal);
}

TEST_F(StreamStackIdsTest, AFailedWriteOrTooManyStacksForgetTheSlots) {
  const uint32_t a = Slot({"ua"});
  ASSERT_TRUE(Resolve().ok());
  ids_.Forget(false);
  EXPECT_EQ(Slot({"ua"}), a);  // remembered
  ids_.Forget(true);
  Slot({"ua"});
  EXPECT_EQ(built_, 2);  // forgotten after a failed write
  ASSERT_TRUE(Resolve().ok());
  for (size_t i = 0; i <= StreamStackIds::kMaxRemembered; ++i) Slot({std::to_string(i)});
  ASSERT_TRUE(Resolve().ok());
  const int before = built_;
  ids_.Forget(false);
  Slot({"0"});
  EXPECT_EQ(built_, before + 1);  // over the bound: forgotten
}

}  // namespace
}  // namespace stackhouse::storage
