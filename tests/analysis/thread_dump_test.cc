#include "analysis/thread_dump.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::analysis {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(FrameTableTest, InternsEqualSignaturesOnce) {
  FrameTable frames;
  EXPECT_EQ(frames.Intern("java.lang.Thread.run: 840"), 0u);
  EXPECT_EQ(frames.Intern("org.foo.Bar.baz: 12"), 1u);
  EXPECT_EQ(frames.Intern("java.lang.Thread.run: 840"), 0u);
  EXPECT_EQ(frames.Intern(""), 2u);
  EXPECT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames.Signature(1), "org.foo.Bar.baz: 12");
  EXPECT_EQ(frames.Signature(2), "");
}

TEST(StackTableTest, KeepsStacksInOrderOfAddition) {
  StackTable stacks;
  EXPECT_EQ(stacks.size(), 0u);
  const std::vector<uint32_t> first = {3, 1, 4};
  EXPECT_EQ(stacks.Add(first), 0u);
  EXPECT_EQ(stacks.Add({}), 1u);
  EXPECT_EQ(stacks.Add(first), 2u);  // not de-duplicated
  EXPECT_EQ(stacks.size(), 3u);
  EXPECT_THAT(stacks.Frames(0), ElementsAre(3, 1, 4));
  EXPECT_THAT(stacks.Frames(1), IsEmpty());
  EXPECT_THAT(stacks.Frames(2), ElementsAre(3, 1, 4));
}

}  // namespace
}  // namespace stackhouse::analysis
