#include "analysis/ebpf_stack_merge.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "analysis/ebpf_stack.h"
#include "analysis/thread_dump.h"
#include "ebpf_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::analysis {
namespace {

using ::stackhouse::analysis::testing::AggregateSamples;
using ::stackhouse::analysis::testing::EbpfSample;
using ::stackhouse::analysis::testing::MergeEbpfSamples;
using ::stackhouse::analysis::testing::NamedFrame;
using ::stackhouse::analysis::testing::ReferenceEbpfSample;
using ::stackhouse::analysis::testing::ReferenceEbpfTrees;
using ::stackhouse::analysis::testing::RenderEbpfTrees;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr StackType kKernel = StackType::kKernelSpace;
constexpr StackType kUser = StackType::kUserSpace;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

EbpfAnalysis Merge(const std::vector<EbpfSample>& samples, const EbpfStackTable& stacks,
                   const FrameTable& symbols) {
  absl::StatusOr<EbpfAnalysis> analysis = MergeEbpfSamples(samples, stacks, symbols);
  EXPECT_TRUE(analysis.ok()) << analysis.status();
  return analysis.ok() ? *std::move(analysis) : EbpfAnalysis{};
}

// Spec §10.3 case G, checking every field of the elements.
TEST(MergeEbpfSamplesTest, SpecCaseGElements) {
  FrameTable symbols;
  EbpfStackTable stacks;
  const uint32_t a = symbols.Intern("A");
  const uint32_t b = symbols.Intern("B");
  const uint32_t c = symbols.Intern("C");
  const std::vector<EbpfFrame> abc = {{a, kUser}, {b, kUser}, {c, kUser}};
  const std::vector<EbpfFrame> ab = {{a, kUser}, {b, kUser}};
  const uint32_t abc_id = stacks.Add(abc);
  const uint32_t ab_id = stacks.Add(ab);
  const EbpfAnalysis analysis = Merge({{abc_id, 3}, {ab_id, 5}, {ab_id, 3}}, stacks, symbols);
  ASSERT_EQ(analysis.trees.size(), 1u);
  EXPECT_THAT(analysis.trees[0].elements,
              ElementsAre(EbpfElement{1, 0, a, kUser, 11}, EbpfElement{2, 1, b, kUser, 11},
                          EbpfElement{3, 2, c, kUser, 3}));
}

// Spec §10.3 case J from the stored (innermost-first) lists to the tree.
TEST(MergeEbpfSamplesTest, SpecCaseJKernelFramesHangBelowUserFrames) {
  FrameTable symbols;
  EbpfStackTable stacks;
  const std::vector<uint32_t> kernel = {symbols.Intern("k_leaf"), symbols.Intern("k_entry")};
  const std::vector<uint32_t> user = {symbols.Intern("u_leaf"), symbols.Intern("main")};
  const uint32_t stack = stacks.Add(RootFirstStack<uint32_t>(kernel, user));
  const EbpfAnalysis analysis = Merge({{stack, 2}}, stacks, symbols);
  EXPECT_EQ(RenderEbpfTrees(analysis, symbols),
            "tree 1\n"
            "1 main (p0) 2\n"
            "2 u_leaf (p1) 2\n"
            "3 k:k_entry (p2) 2\n"
            "4 k:k_leaf (p3) 2\n");
}

TEST(MergeEbpfSamplesTest, NoSamplesNoTrees) {
  EXPECT_THAT(Merge({}, {}, {}).trees, IsEmpty());
  EbpfStackTable stacks;
  const uint32_t empty = stacks.Add({});
  EXPECT_THAT(Merge({{empty, 4}, {empty, 1}}, stacks, {}).trees, IsEmpty());
}

TEST(MergeEbpfSamplesTest, ZeroValuesStillMakeNodes) {
  FrameTable symbols;
  EbpfStackTable stacks;
  const std::vector<EbpfFrame> a = {{symbols.Intern("A"), kUser}};
  const uint32_t stack = stacks.Add(a);
  EXPECT_EQ(RenderEbpfTrees(Merge({{stack, 0}}, stacks, symbols), symbols), "tree 1\n1 A (p0) 0\n");
}

TEST(MergeEbpfSamplesTest, SumsSaturateWhateverTheOrder) {
  FrameTable symbols;
  EbpfStackTable stacks;
  const std::vector<EbpfFrame> ab = {{symbols.Intern("A"), kUser}, {symbols.Intern("B"), kUser}};
  const std::vector<EbpfFrame> ac = {ab[0], {symbols.Intern("C"), kUser}};
  const uint32_t ab_id = stacks.Add(ab);
  const uint32_t ac_id = stacks.Add(ac);
  // Exactly: B = 2·MAX + 5, C = 2·MIN + MAX = MIN − 1, A = B + C = MAX + 3. Adding with
  // saturation sample by sample would give A = 4 in the first order and MAX in the second.
  const std::vector<EbpfSample> b_first = {{ab_id, kMax}, {ab_id, kMax}, {ac_id, kMin},
                                           {ac_id, kMin}, {ab_id, 5},    {ac_id, kMax}};
  const std::vector<EbpfSample> c_first = {{ac_id, kMin}, {ab_id, 5},    {ac_id, kMin},
                                           {ac_id, kMax}, {ab_id, kMax}, {ab_id, kMax}};
  EXPECT_EQ(RenderEbpfTrees(Merge(b_first, stacks, symbols), symbols),
            "tree 1\n"
            "1 A (p0) 9223372036854775807\n"
            "2 B (p1) 9223372036854775807\n"
            "3 C (p1) -9223372036854775808\n");
  EXPECT_EQ(RenderEbpfTrees(Merge(c_first, stacks, symbols), symbols),
            "tree 1\n"
            "1 A (p0) 9223372036854775807\n"
            "2 C (p1) -9223372036854775808\n"
            "3 B (p1) 9223372036854775807\n");
}

TEST(MergeEbpfSamplesTest, RejectsUnknownStacksAndSymbols) {
  FrameTable symbols;
  EbpfStackTable stacks;
  const std::vector<EbpfFrame> known = {{symbols.Intern("A"), kUser}};
  const std::vector<EbpfFrame> unknown = {{0, kUser}, {1, kKernel}};
  stacks.Add(known);
  stacks.Add(unknown);
  EXPECT_EQ(MergeEbpfSamples({{0, 1}, {2, 1}}, stacks, symbols).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MergeEbpfSamples({{0, 1}, {1, 1}}, stacks, symbols).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AggregateSamples({{0, 1}, {1, 1}}, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<StackTotal> bad_total = {{5, 1}};
  EXPECT_EQ(BuildEbpfTrees(bad_total, stacks, symbols).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AggregateSamplesTest, SumsPerStackInOrderOfFirstAppearance) {
  absl::StatusOr<std::vector<StackTotal>> totals =
      AggregateSamples({{4, 1}, {2, 0}, {4, 10}, {0, -3}, {2, 7}}, 5);
  ASSERT_TRUE(totals.ok()) << totals.status();
  EXPECT_THAT(*totals, ElementsAre(StackTotal{4, 11}, StackTotal{2, 7}, StackTotal{0, -3}));
  EXPECT_THAT(*AggregateSamples({}, 0), IsEmpty());
}

// Random scenarios (shared prefixes, recursion, both stack types, empty names and stacks,
// negative and extreme values, stacks interned or not) against a plain
// transcription of the spec that builds the tree sample by sample.
TEST(MergeEbpfSamplesTest, MatchesTheReferenceOnRandomInput) {
  const std::vector<std::string> names = {"A", "B", "C", ""};
  for (uint32_t seed = 0; seed < 3000; ++seed) {
    std::mt19937 rng(seed);
    auto uniform = [&](int n) { return static_cast<int>(rng() % n); };
    auto random_frame = [&]() -> NamedFrame {
      return {names[uniform(4)], uniform(3) == 0 ? kKernel : kUser};
    };

    std::vector<std::vector<NamedFrame>> distinct;
    for (int n = 1 + uniform(8); n > 0; --n) {
      std::vector<NamedFrame> stack;
      if (!distinct.empty() && uniform(2) == 0) {  // a prefix of an earlier stack, extended
        stack = distinct[uniform(static_cast<int>(distinct.size()))];
        stack.resize(uniform(static_cast<int>(stack.size()) + 1));
      }
      for (int depth = uniform(5); depth > 0; --depth) stack.push_back(random_frame());
      distinct.push_back(stack);
    }
    std::vector<ReferenceEbpfSample> read;
    for (int n = uniform(25); n > 0; --n) {
      int64_t value = uniform(10) - 2;
      if (uniform(20) == 0) value = uniform(2) == 0 ? kMax : kMin;
      read.push_back({distinct[uniform(static_cast<int>(distinct.size()))], value});
    }

    // Stack ids in random order (not the order of first appearance), with unused ones.
    FrameTable symbols;
    std::vector<std::vector<EbpfFrame>> encoded;  // per read sample
    for (const ReferenceEbpfSample& sample : read) {
      std::vector<EbpfFrame>& frames = encoded.emplace_back();
      for (const NamedFrame& frame : sample.stack) {
        frames.push_back({symbols.Intern(frame.symbol), frame.type});
      }
    }
    const bool intern_stacks = uniform(2) == 0;
    std::vector<std::vector<EbpfFrame>> table;  // one per stack id
    std::map<std::vector<EbpfFrame>, uint32_t> interned;
    std::vector<uint32_t> slot_of_sample;
    for (const std::vector<EbpfFrame>& frames : encoded) {
      auto [it, inserted] = interned.try_emplace(frames, static_cast<uint32_t>(table.size()));
      if (inserted || !intern_stacks) table.push_back(frames);
      slot_of_sample.push_back(intern_stacks ? it->second
                                             : static_cast<uint32_t>(table.size() - 1));
    }
    for (int unused = uniform(3); unused > 0; --unused) table.push_back({{0, kKernel}});
    std::vector<uint32_t> id_of_slot(table.size());
    std::iota(id_of_slot.begin(), id_of_slot.end(), 0);
    std::shuffle(id_of_slot.begin(), id_of_slot.end(), rng);
    std::vector<std::vector<EbpfFrame>> by_id(table.size());
    for (size_t slot = 0; slot < table.size(); ++slot) by_id[id_of_slot[slot]] = table[slot];
    EbpfStackTable stacks;
    for (const std::vector<EbpfFrame>& frames : by_id) stacks.Add(frames);
    std::vector<EbpfSample> samples;
    for (size_t i = 0; i < read.size(); ++i) {
      samples.push_back({id_of_slot[slot_of_sample[i]], read[i].value});
    }
    ASSERT_EQ(RenderEbpfTrees(Merge(samples, stacks, symbols), symbols), ReferenceEbpfTrees(read))
        << "seed " << seed;
  }
}

}  // namespace
}  // namespace stackhouse::analysis
