#include "analysis/ebpf_stack.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::analysis {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr StackType kKernel = StackType::kKernelSpace;
constexpr StackType kUser = StackType::kUserSpace;

using NamedFrame = BasicEbpfFrame<std::string>;

TEST(StackTypeNameTest, IsTheGraphqlEnumValue) {
  EXPECT_EQ(StackTypeName(kKernel), "KERNEL_SPACE");
  EXPECT_EQ(StackTypeName(kUser), "USER_SPACE");
}

// Spec §10.3 case J: stored KERNEL [k_leaf, k_entry] and USER [u_leaf, main], innermost first.
TEST(RootFirstStackTest, SpecCaseJUserFramesThenKernelFramesOutermostFirst) {
  const std::vector<std::string> kernel = {"k_leaf", "k_entry"};
  const std::vector<std::string> user = {"u_leaf", "main"};
  EXPECT_THAT(RootFirstStack<std::string>(kernel, user),
              ElementsAre(NamedFrame{"main", kUser}, NamedFrame{"u_leaf", kUser},
                          NamedFrame{"k_entry", kKernel}, NamedFrame{"k_leaf", kKernel}));
}

TEST(RootFirstStackTest, EitherSpaceMayBeMissing) {
  const std::vector<uint32_t> none;
  const std::vector<uint32_t> three = {7, 8, 9};
  EXPECT_THAT(RootFirstStack<uint32_t>(none, three),
              ElementsAre(EbpfFrame{9, kUser}, EbpfFrame{8, kUser}, EbpfFrame{7, kUser}));
  EXPECT_THAT(RootFirstStack<uint32_t>(three, none),
              ElementsAre(EbpfFrame{9, kKernel}, EbpfFrame{8, kKernel}, EbpfFrame{7, kKernel}));
  EXPECT_THAT(RootFirstStack<uint32_t>(none, none), IsEmpty());
}

TEST(RootFirstStackTest, KeepsEmptyAndRepeatedNames) {
  const std::vector<std::string> kernel = {""};
  const std::vector<std::string> user = {"f", "", "f"};
  EXPECT_THAT(RootFirstStack<std::string>(kernel, user),
              ElementsAre(NamedFrame{"f", kUser}, NamedFrame{"", kUser}, NamedFrame{"f", kUser},
                          NamedFrame{"", kKernel}));
}

TEST(EbpfStackTableTest, KeepsStacksInOrderOfAddition) {
  EbpfStackTable stacks;
  EXPECT_EQ(stacks.size(), 0u);
  const std::vector<EbpfFrame> first = {{3, kUser}, {1, kKernel}};
  EXPECT_EQ(stacks.Add(first), 0u);
  EXPECT_EQ(stacks.Add({}), 1u);
  EXPECT_EQ(stacks.Add(first), 2u);  // not de-duplicated
  EXPECT_EQ(stacks.size(), 3u);
  EXPECT_THAT(stacks.Frames(0), ElementsAre(EbpfFrame{3, kUser}, EbpfFrame{1, kKernel}));
  EXPECT_THAT(stacks.Frames(1), IsEmpty());
  EXPECT_THAT(stacks.Frames(2), ElementsAre(EbpfFrame{3, kUser}, EbpfFrame{1, kKernel}));
}

}  // namespace
}  // namespace stackhouse::analysis
