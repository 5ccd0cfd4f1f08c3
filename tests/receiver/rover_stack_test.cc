#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "receiver/ebpf_services.h"

namespace stackhouse::receiver {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

using Frame = std::pair<char, std::string>;

void AddStack(skywalking::v3::EBPFProfilingStackMetadata* stack,
              skywalking::v3::EBPFProfilingStackType type, std::vector<std::string> symbols) {
  stack->set_stacktype(type);
  for (auto& s : symbols) stack->add_stacksymbols(std::move(s));
}

std::vector<Frame> RootFirst(const RoverStack& stack) {
  std::vector<Frame> frames;
  stack.ForEachRootFirst([&](model::StackType space, const std::string& symbol) {
    frames.emplace_back(space == model::StackType::kKernel ? 'k' : 'u', symbol);
  });
  return frames;
}

// graphql-protocol.md §10.3 case J.
TEST(RoverStackTest, SpecCaseJUserOutermostFirstThenKernel) {
  skywalking::v3::EBPFOnCPUProfiling on;
  AddStack(on.add_stacks(), skywalking::v3::PROCESS_KERNEL_SPACE, {"k_leaf", "k_entry"});
  AddStack(on.add_stacks(), skywalking::v3::PROCESS_USER_SPACE, {"u_leaf", "main"});
  RoverStack stack(on.stacks());
  EXPECT_EQ(stack.size(), 4u);
  EXPECT_THAT(RootFirst(stack), ElementsAre(Frame{'u', "main"}, Frame{'u', "u_leaf"},
                                            Frame{'k', "k_entry"}, Frame{'k', "k_leaf"}));
}

TEST(RoverStackTest, TheLastStackOfATypeWinsAndEitherMayBeMissing) {
  skywalking::v3::EBPFOffCPUProfiling off;
  AddStack(off.add_stacks(), skywalking::v3::PROCESS_USER_SPACE, {"old"});
  AddStack(off.add_stacks(), skywalking::v3::PROCESS_USER_SPACE, {"leaf", "", "root"});
  RoverStack user_only(off.stacks());
  EXPECT_EQ(user_only.size(), 3u);
  EXPECT_THAT(RootFirst(user_only),
              ElementsAre(Frame{'u', "root"}, Frame{'u', ""}, Frame{'u', "leaf"}));

  skywalking::v3::EBPFOffCPUProfiling none;
  RoverStack empty(none.stacks());
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_THAT(RootFirst(empty), IsEmpty());
}

}  // namespace
}  // namespace stackhouse::receiver
