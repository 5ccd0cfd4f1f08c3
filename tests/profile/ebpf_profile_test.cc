// LoadEbpfProfile over real stores: answers from minute roll-ups are identical to answers from raw
// blocks only (randomized), and the sample limit cuts an analysis at one upload time.
#include "profile/ebpf_profile.h"

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "fakes/failing_stores.h"
#include "fakes/fault_injector.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "stackhouse/records.pb.h"
#include "storage/key_codec.h"
#include "storage/rocks_ebpf_store.h"
#include "storage/test_dir.h"

namespace stackhouse::profile {
namespace {

constexpr int64_t kMinute = storage::kEbpfRollupMinuteMs;
constexpr int64_t kT0 = 1700000040000;  // a minute's start
static_assert(kT0 % kMinute == 0);

using Row = std::tuple<int32_t, int32_t, std::string, analysis::StackType, int64_t>;

// A profile's trees with symbol names instead of table ids.
std::vector<std::vector<Row>> Rows(const EbpfProfile& profile) {
  std::vector<std::vector<Row>> trees;
  for (const analysis::EbpfTree& tree : profile.analysis.trees) {
    std::vector<Row>& rows = trees.emplace_back();
    for (const analysis::EbpfElement& e : tree.elements) {
      rows.emplace_back(e.id, e.parent_id, profile.symbols->Signature(e.symbol_id), e.type,
                        e.dump_count);
    }
  }
  return trees;
}

class EbpfAnalysisTest : public ::testing::Test {
 protected:
  void Open(int64_t now, const std::string& subdir = "db") {
    clock_.SetMillis(now);
    storage::DatabaseOptions options;
    options.data_dir = absl::StrCat(dir_.path(), "/", subdir);
    options.record_ttl_ms = 3LL * 24 * 3600 * 1000;
    auto db = storage::Database::Open(options, &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    store_ = std::make_unique<storage::RocksEbpfStore>(db_.get(), &clock_);
    // The decorator does not override ScanAggregated: it reads raw blocks only.
    raw_ = std::make_unique<fakes::FailingEbpfStore>(store_.get(), &faults_);
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kT0};
  fakes::FaultInjector faults_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::RocksEbpfStore> store_;
  std::unique_ptr<fakes::FailingEbpfStore> raw_;
};

// Random schedules with uploads across minute boundaries, out of order and late (into minutes
// already rolled up), roll-ups at random moments, random overlapping ranges: the answer from
// roll-ups is the raw path's, tree for tree, node for node.
TEST_F(EbpfAnalysisTest, RollupsAnswerExactlyAsRawBlocks) {
  int64_t rollup_answers = 0;  // seeds where some minutes were rolled up
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937 rng(seed);
    auto uniform = [&rng](int64_t lo, int64_t hi) {
      return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    };
    Open(kT0, absl::StrCat("seed", seed));
    int64_t rolled_up = 0;
    // A pool of stacks sharing frames, so that trees merge.
    std::vector<std::vector<std::string>> frames(12);
    std::vector<storage::PendingStack> pending;
    for (auto& stack : frames) {
      const int64_t depth = uniform(1, 5);
      for (int64_t d = 0; d < depth; ++d) {
        stack.push_back(absl::StrCat(uniform(0, 3) == 0 ? "k" : "u", "f", d, "_", uniform(0, 2)));
      }
      pending.push_back({storage::StackHasher::Of(stack), &stack});
    }
    auto ids = store_->ResolveStacks(pending);
    ASSERT_TRUE(ids.ok()) << ids.status();
    const int schedules = static_cast<int>(uniform(1, 3));
    std::vector<bool> off_cpu(schedules);
    for (int s = 0; s < schedules; ++s) off_cpu[s] = uniform(0, 3) == 0;
    // Each checkpoint: uploads, roll-ups, then queries compared.
    for (int checkpoint = 0; checkpoint < 3; ++checkpoint) {
      for (int u = 0; u < 40; ++u) {
        const int s = static_cast<int>(uniform(0, schedules - 1));
        int64_t time = kT0 + uniform(0, 6 * kMinute);
        if (uniform(0, 5) == 0) time = kT0 + uniform(0, 6) * kMinute - uniform(0, 1);
        std::vector<storage::StoredEbpfSample> block;
        const int64_t n = uniform(1, 40);
        const int64_t first = uniform(0, 8);
        for (int64_t i = 0; i < n; ++i) {
          storage::StoredEbpfSample sample;
          sample.stack_id = (*ids)[static_cast<size_t>(first + uniform(0, 3))];
          sample.target_type =
              off_cpu[s] ? model::EbpfTargetType::kOffCpu : model::EbpfTargetType::kOnCpu;
          sample.dump_count = uniform(0, 100);
          sample.switch_count = uniform(0, 5);
          sample.duration_ns = uniform(0, 1'000'000);
          block.push_back(sample);
        }
        ASSERT_TRUE(store_->AddSampleBlock(absl::StrCat("s", s), time, block).ok());
        if (uniform(0, 6) == 0) {
          clock_.AdvanceMillis(uniform(0, 3 * kMinute));
          auto stats = store_->RollUp(uniform(1, 20));
          ASSERT_TRUE(stats.ok());
          rolled_up += stats->rolled_up;
        }
      }
      if (checkpoint == 2) {
        clock_.AdvanceMillis(10 * kMinute);
        auto stats = store_->RollUp(1000);
        ASSERT_TRUE(stats.ok());
        EXPECT_EQ(stats->pending, 0);
        rolled_up += stats->rolled_up;
      }
      for (int q = 0; q < 25; ++q) {
        std::vector<std::string> ids_list;
        for (int64_t i = uniform(1, 4); i > 0; --i) {
          ids_list.push_back(absl::StrCat("s", uniform(0, schedules)));  // one may not exist
        }
        std::vector<analysis::EbpfTimeRange> ranges;
        for (int64_t i = uniform(1, 3); i > 0; --i) {
          int64_t start = kT0 + uniform(-kMinute, 7 * kMinute);
          if (uniform(0, 2) == 0) start -= start % kMinute;
          const int64_t end = start + uniform(0, 5 * kMinute) - (uniform(0, 2) == 0 ? 1 : 0);
          ranges.push_back({start, end});
        }
        const bool by_duration = uniform(0, 1) == 1;
        auto fast = LoadEbpfProfile(*store_, ids_list, ranges, by_duration);
        auto slow = LoadEbpfProfile(*raw_, ids_list, ranges, by_duration);
        ASSERT_TRUE(fast.ok()) << fast.status();
        ASSERT_TRUE(slow.ok()) << slow.status();
        ASSERT_EQ(Rows(*fast), Rows(*slow));
        EXPECT_EQ(fast->has_on_cpu_samples, slow->has_on_cpu_samples);
        EXPECT_EQ(fast->has_off_cpu_samples, slow->has_off_cpu_samples);
        EXPECT_FALSE(fast->tip);
      }
    }
    rollup_answers += rolled_up > 0 ? 1 : 0;
    raw_.reset();
    store_.reset();
    db_.reset();
  }
  EXPECT_EQ(rollup_answers, 12);
}

// The analysis reads its stacks in batches, each frame once (EbpfStore::ReadStacks), from both
// formats of the dictionary: its answer, symbol ids and symbol table included, is that of
// reading the stacks one by one (the decorator's default ReadStacks, over GetStack).
TEST_F(EbpfAnalysisTest, BatchedStackReadsAnswerAsReadingOneByOne) {
  Open(kT0);
  std::vector<std::vector<std::string>> frames;
  for (int i = 0; i < 40; ++i) {
    frames.push_back(
        {"umain", absl::StrCat("u", i % 3), absl::StrCat("k", i % 5), absl::StrCat("uleaf", i)});
  }
  std::vector<storage::PendingStack> pending;
  for (const auto& stack : frames) pending.push_back({storage::StackHasher::Of(stack), &stack});
  auto ids = store_->ResolveStacks(pending);
  ASSERT_TRUE(ids.ok()) << ids.status();
  // Two stacks as an earlier version stored them (the frames' texts), one sharing its slot's
  // frames with new entries, one of frames stored nowhere else.
  for (size_t i : {size_t{3}, size_t{17}}) {
    if (i == 17) frames[i] = {"uold-root", "kold-leaf"};
    records::StackRecord pb;
    for (const std::string& frame : frames[i]) pb.add_frames(frame);
    std::string key(1, 'k');
    storage::AppendUint64(&key, (*ids)[i]);
    ASSERT_TRUE(db_->Put(storage::Family::kEbpfStack, key, kT0, pb.SerializeAsString()).ok());
  }
  std::vector<storage::StoredEbpfSample> block;
  for (size_t i = 0; i < ids->size(); ++i) {
    block.push_back({0, (*ids)[ids->size() - 1 - i], model::EbpfTargetType::kOnCpu,
                     static_cast<int64_t>(i + 1), 0, 0});
  }
  ASSERT_TRUE(store_->AddSampleBlock("s", kT0 + 1000, block).ok());
  auto batched = LoadEbpfProfile(*store_, {"s"}, {{kT0, kT0 + kMinute}}, false);
  auto one_by_one = LoadEbpfProfile(*raw_, {"s"}, {{kT0, kT0 + kMinute}}, false);
  ASSERT_TRUE(batched.ok()) << batched.status();
  ASSERT_TRUE(one_by_one.ok()) << one_by_one.status();
  ASSERT_EQ(batched->analysis.trees.size(), one_by_one->analysis.trees.size());
  for (size_t t = 0; t < batched->analysis.trees.size(); ++t) {
    EXPECT_EQ(batched->analysis.trees[t].elements, one_by_one->analysis.trees[t].elements);
  }
  ASSERT_EQ(batched->symbols->size(), one_by_one->symbols->size());
  for (uint32_t i = 0; i < batched->symbols->size(); ++i) {
    EXPECT_EQ(batched->symbols->Signature(i), one_by_one->symbols->Signature(i));
  }
  EXPECT_EQ(Rows(*batched)[0][0], Row(1, 0, "main", analysis::StackType::kUserSpace, 797));
  EXPECT_EQ(Rows(*batched)[1][0], Row(1, 0, "old-root", analysis::StackType::kUserSpace, 23));
  EXPECT_EQ(faults_.calls("GetStack"), 40);
}

class EbpfLimitTest : public EbpfAnalysisTest {
 protected:
  void SetUp() override {
    Open(kT0);
    const std::vector<std::string> a = {"umain", "uwork"};
    const std::vector<std::string> b = {"umain", "uidle"};
    auto ids = store_->ResolveStacks({storage::PendingStack{storage::StackHasher::Of(a), &a},
                                      storage::PendingStack{storage::StackHasher::Of(b), &b}});
    ASSERT_TRUE(ids.ok());
    // Two schedules, an upload of 10 samples every 10 s for 10 minutes each.
    for (const char* schedule : {"x", "y"}) {
      for (int64_t t = kT0; t < kT0 + 10 * kMinute; t += 10'000) {
        std::vector<storage::StoredEbpfSample> block;
        for (int i = 0; i < 10; ++i) {
          block.push_back(
              {0, (*ids)[static_cast<size_t>(i % 2)], model::EbpfTargetType::kOnCpu, 1 + i, 0, 0});
        }
        ASSERT_TRUE(store_->AddSampleBlock(schedule, t, block).ok());
      }
    }
  }
};

// 1,200 samples; a limit of 500 keeps the first four minutes of both schedules (480 samples):
// the answer is that of the ranges ending there, and the tip says where it stopped.
TEST_F(EbpfLimitTest, TheLimitCutsEverySchedulesAtTheSameUploadTime) {
  const std::vector<std::string> schedules = {"x", "y"};
  auto cut = LoadEbpfProfile(*store_, schedules, {{kT0, kT0 + 10 * kMinute}}, false, 500);
  ASSERT_TRUE(cut.ok()) << cut.status();
  ASSERT_TRUE(cut->tip);
  EXPECT_EQ(*cut->tip,
            absl::StrCat("Out of eBPF analyze limit, analysis of the samples uploaded before ",
                         kT0 + 4 * kMinute, " only (at most 500 samples per analysis)."));
  auto prefix = LoadEbpfProfile(*store_, schedules, {{kT0, kT0 + 4 * kMinute - 1}}, false);
  ASSERT_TRUE(prefix.ok());
  EXPECT_FALSE(prefix->tip);
  EXPECT_EQ(Rows(*cut), Rows(*prefix));
  // Within the limit: everything, no tip.
  auto all = LoadEbpfProfile(*store_, schedules, {{kT0, kT0 + 10 * kMinute}}, false, 1200);
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->tip);
  ASSERT_EQ(all->analysis.trees.size(), 1u);
  EXPECT_EQ(all->analysis.trees[0].elements[0].dump_count,
            2 * 60 * (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10));
  // Less than one minute of all schedules: nothing, and the tip says so.
  auto none = LoadEbpfProfile(*store_, schedules, {{kT0, kT0 + 10 * kMinute}}, false, 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->analysis.trees.empty());
  ASSERT_TRUE(none->tip);
  EXPECT_THAT(*none->tip, ::testing::HasSubstr(absl::StrCat("before ", kT0, " only")));
}

// Roll-ups count one per stack: the same limit covers more time once minutes are rolled up.
TEST_F(EbpfLimitTest, RollupsCountOnePerStack) {
  clock_.SetMillis(kT0 + 12 * kMinute);
  auto stats = store_->RollUp(1000);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->rolled_up, 20);
  auto all = LoadEbpfProfile(*store_, {"x", "y"}, {{kT0, kT0 + 10 * kMinute}}, false, 40);
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->tip);
}

// Two identical analyses at once (the second one with its schedules repeated and its range
// split in two, which changes nothing): the store is read once, both get the same result.
TEST_F(EbpfLimitTest, ConcurrentIdenticalAnalysesAreComputedOnce) {
  EbpfAnalyzer analyzer(raw_.get(), 500);
  const std::vector<std::string> schedules = {"x", "y"};
  const std::vector<analysis::EbpfTimeRange> range = {{kT0, kT0 + 10 * kMinute}};
  // What one analysis reads.
  int64_t before = faults_.calls("ScanSampleBlocks");
  auto alone = analyzer.Load(schedules, range, false);
  ASSERT_TRUE(alone.ok()) << alone.status();
  const int64_t one = faults_.calls("ScanSampleBlocks") - before;
  ASSERT_GT(one, 0);
  EXPECT_TRUE((*alone)->tip);  // the analyzer's limit

  absl::Notification joined;
  analyzer.SetJoinHookForTest([&joined] { joined.Notify(); });
  before = faults_.calls("ScanSampleBlocks");
  faults_.PauseNext("ScanSampleBlocks");
  absl::StatusOr<std::shared_ptr<const EbpfProfile>> first, second;
  std::thread leader([&] { first = analyzer.Load(schedules, range, false); });
  faults_.WaitUntilPaused();
  std::thread follower([&] {
    second =
        analyzer.Load({"x", "y", "x"},
                      {{kT0 + 5 * kMinute, kT0 + 10 * kMinute}, {kT0, kT0 + 5 * kMinute}}, false);
  });
  joined.WaitForNotification();
  faults_.Resume();
  leader.join();
  follower.join();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->get(), second->get());
  EXPECT_EQ(faults_.calls("ScanSampleBlocks") - before, one);
  EXPECT_EQ(Rows(**first), Rows(**alone));

  // Once done, the same request is computed again; a different one (another aggregate type) too.
  auto again = analyzer.Load(schedules, range, false);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->get(), first->get());
  auto other = analyzer.Load(schedules, range, true);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(faults_.calls("ScanSampleBlocks") - before, 3 * one);
}

// An error is shared like a result.
TEST_F(EbpfLimitTest, AFailedAnalysisFailsItsFollowersToo) {
  EbpfAnalyzer analyzer(raw_.get(), 1'000'000);
  absl::Notification joined;
  analyzer.SetJoinHookForTest([&joined] { joined.Notify(); });
  faults_.FailNth(1, absl::UnavailableError("disk gone"), "ScanSampleBlocks");
  faults_.PauseNext("ScanSampleBlocks");
  absl::StatusOr<std::shared_ptr<const EbpfProfile>> first, second;
  std::thread leader([&] { first = analyzer.Load({"x"}, {{kT0, kT0 + kMinute}}, false); });
  faults_.WaitUntilPaused();
  std::thread follower([&] { second = analyzer.Load({"x"}, {{kT0, kT0 + kMinute}}, false); });
  joined.WaitForNotification();
  faults_.Resume();
  leader.join();
  follower.join();
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace stackhouse::profile
