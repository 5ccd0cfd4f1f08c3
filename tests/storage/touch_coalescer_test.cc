#include "storage/touch_coalescer.h"

#include "gtest/gtest.h"

namespace stackhouse::storage {
namespace {

constexpr int64_t kT = 1'700'000'000'000;

TEST(TouchCoalescerTest, WritesAKeyOncePerPeriod) {
  TouchCoalescer touches(10'000);
  EXPECT_TRUE(touches.ShouldTouch("a", kT));
  EXPECT_FALSE(touches.ShouldTouch("a", kT + 9'999));
  EXPECT_TRUE(touches.ShouldTouch("b", kT + 9'999));  // keys are apart
  EXPECT_TRUE(touches.ShouldTouch("a", kT + 10'000));
  EXPECT_FALSE(touches.ShouldTouch("a", kT + 10'001));
}

TEST(TouchCoalescerTest, AClockThatWentBackwardsIsDue) {
  TouchCoalescer touches(10'000);
  EXPECT_TRUE(touches.ShouldTouch("a", kT));
  EXPECT_TRUE(touches.ShouldTouch("a", kT - 1));
  EXPECT_FALSE(touches.ShouldTouch("a", kT));  // recorded kT - 1
}

TEST(TouchCoalescerTest, AForcedWriteStartsThePeriodAndAFailedOneIsForgotten) {
  TouchCoalescer touches(10'000);
  touches.Record("a", kT);
  EXPECT_FALSE(touches.ShouldTouch("a", kT + 1));
  // A write that failed must not hold back the retry for a whole period.
  EXPECT_TRUE(touches.ShouldTouch("b", kT));
  touches.Forget("b");
  EXPECT_TRUE(touches.ShouldTouch("b", kT + 1));
  EXPECT_FALSE(touches.ShouldTouch("b", kT + 2));
}

}  // namespace
}  // namespace stackhouse::storage
