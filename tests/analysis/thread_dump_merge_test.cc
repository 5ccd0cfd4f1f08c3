#include "analysis/thread_dump_merge.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "analysis_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::analysis {
namespace {

using ::stackhouse::analysis::testing::AnalyzeCase;
using ::stackhouse::analysis::testing::ReferenceDump;
using ::stackhouse::analysis::testing::ReferenceTrees;
using ::stackhouse::analysis::testing::RenderTrees;
using ::stackhouse::analysis::testing::RunCase;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;

// Spec §10.2 case F: one window over sequences 0..12099; only 0..11999 are analysed.
TEST(AnalyzeThreadDumpsTest, SpecCaseFAnalysesTheFirst12000Sequences) {
  AnalyzeCase test_case;
  test_case.segments.push_back({"s1", {}});
  for (int32_t sequence = 0; sequence < 12100; ++sequence) {
    // Sequences beyond the limit would add a C under A and a second tree X.
    std::vector<std::string> frames = {"A", sequence < 12000 ? "B" : "C"};
    if (sequence == 12050) frames = {"X"};
    test_case.segments[0].snapshots.push_back({sequence, int64_t{sequence} * 10, frames});
  }
  test_case.queries.push_back({"s1", 0, 121000});
  std::string expected = "ranges:";
  for (int start = 0; start < 12000; start += 500) {
    absl::StrAppend(&expected, " s1[", start, ",", start + 500, ")");
  }
  absl::StrAppend(&expected,
                  "\ntip: Out of snapshot analyze limit, 12100 snapshots found, but analysis "
                  "first 12000 snapshots only.\n",
                  "tree 1\n", "1 A (p0) 12000/119990/0\n", "2 B (p1) 12000/119990/119990\n");
  absl::StatusOr<std::string> actual = RunCase(test_case);
  ASSERT_TRUE(actual.ok()) << actual.status();
  EXPECT_EQ(*actual, expected);
}

TEST(AnalyzeThreadDumpsTest, NoDumpsKeepsTheTip) {
  absl::StatusOr<ProfileAnalysis> analysis = AnalyzeThreadDumps({}, {}, {}, "a tip");
  ASSERT_TRUE(analysis.ok()) << analysis.status();
  EXPECT_THAT(analysis->tip, Optional(std::string("a tip")));
  EXPECT_THAT(analysis->trees, IsEmpty());
}

TEST(AnalyzeThreadDumpsTest, ElementsCarryFrameIds) {
  FrameTable frames;
  StackTable stacks;
  const uint32_t a = frames.Intern("A");
  const uint32_t b = frames.Intern("B");
  const std::vector<uint32_t> path = {a, b};
  const uint32_t stack = stacks.Add(path);
  const std::vector<ThreadDump> dumps = {{0, 0, 100, stack}, {0, 1, 150, stack}};
  absl::StatusOr<ProfileAnalysis> analysis = AnalyzeThreadDumps(dumps, stacks, frames, {});
  ASSERT_TRUE(analysis.ok()) << analysis.status();
  EXPECT_EQ(analysis->tip, std::nullopt);
  ASSERT_EQ(analysis->trees.size(), 1u);
  EXPECT_THAT(analysis->trees[0].elements,
              ElementsAre(ProfileElement{1, 0, a, 2, 50, 0}, ProfileElement{2, 1, b, 2, 50, 50}));
}

TEST(AnalyzeThreadDumpsTest, RejectsUnknownStacksAndFrames) {
  FrameTable frames;
  StackTable stacks;
  const std::vector<uint32_t> known = {frames.Intern("A")};
  const std::vector<uint32_t> unknown = {0, 1};
  stacks.Add(known);
  stacks.Add(unknown);
  const std::vector<ThreadDump> bad_stack = {{0, 0, 0, 0}, {0, 1, 0, 2}};
  EXPECT_EQ(AnalyzeThreadDumps(bad_stack, stacks, frames, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<ThreadDump> bad_frame = {{0, 1, 0, 0}, {0, 0, 0, 1}};  // unordered path
  EXPECT_EQ(AnalyzeThreadDumps(bad_frame, stacks, frames, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RemoveDuplicateDumpsTest, KeepsTheFirstOfEachSegmentAndSequence) {
  std::vector<ThreadDump> in_order = {{0, 0, 1, 0}, {0, 1, 2, 0}, {0, 1, 3, 0}, {1, 1, 4, 0}};
  RemoveDuplicateDumps(&in_order);
  std::vector<int64_t> times;
  for (const ThreadDump& dump : in_order) times.push_back(dump.dump_time_ms);
  EXPECT_THAT(times, ElementsAre(1, 2, 4));

  std::vector<ThreadDump> unordered = {{0, 2, 1, 0}, {0, 3, 2, 0}, {0, 0, 3, 0}, {1, 2, 4, 0},
                                       {0, 2, 5, 0}, {0, 3, 6, 0}, {0, -1, 7, 0}};
  RemoveDuplicateDumps(&unordered);
  times.clear();
  for (const ThreadDump& dump : unordered) times.push_back(dump.dump_time_ms);
  EXPECT_THAT(times, ElementsAre(1, 2, 3, 4, 7));
}

// Random scenarios (several segments, gaps, duplicates, empty stacks, recursion, dump times
// going backwards, any fetch order, stacks interned or not) against a plain transcription of the
// spec with hit lists per node.
TEST(AnalyzeThreadDumpsTest, MatchesTheReferenceOnRandomInput) {
  const std::vector<std::string> names = {"A", "B", "C", "D"};
  for (uint32_t seed = 0; seed < 3000; ++seed) {
    std::mt19937 rng(seed);
    auto uniform = [&](int n) { return static_cast<int>(rng() % n); };

    std::vector<ReferenceDump> stored;  // per segment ascending sequence
    const int segments = 1 + uniform(3);
    for (int segment = 0; segment < segments; ++segment) {
      int32_t sequence = uniform(3);
      int64_t time = uniform(1000);
      std::vector<std::string> frames;
      for (int n = uniform(14); n > 0; --n) {
        if (uniform(10) < 4 || frames.empty()) {
          frames.resize(uniform(6));
          for (std::string& frame : frames) frame = names[uniform(4)];
        } else if (uniform(2) == 0) {
          frames.resize(1 + uniform(static_cast<int>(frames.size())));
          frames.push_back(names[uniform(4)]);
        }
        stored.push_back({static_cast<uint32_t>(segment), sequence, time, frames});
        sequence += uniform(5) == 0 ? 2 : 1;
        time += uniform(8) == 0 ? -uniform(30) : uniform(30);
      }
    }
    // Fetch: ranges of stored dumps (ascending within a range), possibly overlapping, in any
    // order; sometimes fully shuffled.
    std::vector<ReferenceDump> fetched;
    if (uniform(4) == 0) {
      fetched = stored;
    } else {
      for (int ranges = 1 + uniform(4); ranges > 0 && !stored.empty(); --ranges) {
        const int from = uniform(static_cast<int>(stored.size()));
        const int to = from + uniform(static_cast<int>(stored.size()) - from + 1);
        fetched.insert(fetched.end(), stored.begin() + from, stored.begin() + to);
      }
      if (uniform(5) == 0) std::shuffle(fetched.begin(), fetched.end(), rng);
    }

    FrameTable frames;
    StackTable stacks;
    const bool intern_stacks = uniform(2) == 0;
    std::map<std::vector<uint32_t>, uint32_t> stack_ids;
    std::vector<ThreadDump> dumps;
    for (const ReferenceDump& dump : fetched) {
      std::vector<uint32_t> frame_ids;
      for (const std::string& frame : dump.frames) frame_ids.push_back(frames.Intern(frame));
      uint32_t stack_id;
      if (intern_stacks) {
        auto [it, inserted] = stack_ids.try_emplace(frame_ids, 0);
        if (inserted) it->second = stacks.Add(frame_ids);
        stack_id = it->second;
      } else {
        stack_id = stacks.Add(frame_ids);
      }
      dumps.push_back({dump.segment_index, dump.sequence, dump.dump_time_ms, stack_id});
    }

    absl::StatusOr<ProfileAnalysis> analysis = AnalyzeThreadDumps(dumps, stacks, frames, {});
    ASSERT_TRUE(analysis.ok()) << analysis.status();
    ASSERT_EQ(RenderTrees(*analysis, frames), ReferenceTrees(fetched)) << "seed " << seed;

    std::vector<ThreadDump> unique = dumps;
    RemoveDuplicateDumps(&unique);
    std::vector<ThreadDump> expected_unique;
    for (const ThreadDump& dump : dumps) {
      if (std::none_of(expected_unique.begin(), expected_unique.end(), [&](const auto& kept) {
            return kept.segment_index == dump.segment_index && kept.sequence == dump.sequence;
          })) {
        expected_unique.push_back(dump);
      }
    }
    ASSERT_EQ(unique.size(), expected_unique.size()) << "seed " << seed;
    for (size_t i = 0; i < unique.size(); ++i) {
      ASSERT_EQ(unique[i].dump_time_ms, expected_unique[i].dump_time_ms) << "seed " << seed;
      ASSERT_EQ(unique[i].stack_id, expected_unique[i].stack_id) << "seed " << seed;
    }
  }
}

}  // namespace
}  // namespace stackhouse::analysis
