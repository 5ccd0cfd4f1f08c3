#include "service/ebpf_sample_writer.h"

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fakes/failing_stores.h"
#include "fakes/fault_injector.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/rocks_ebpf_store.h"
#include "storage/test_dir.h"

namespace stackhouse::service {
namespace {

constexpr int64_t kStart = 1700000000000;

class EbpfSampleWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DatabaseOptions options;
    options.data_dir = dir_.path();
    auto db = storage::Database::Open(options, &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    store_ = std::make_unique<storage::RocksEbpfStore>(db_.get(), &clock_);
  }

  // Adds a sample of `frames` (already encoded), counting how often the writer asks for them.
  absl::Status Add(EbpfSampleWriter* writer, const std::vector<std::string>& frames,
                   int64_t dump_count) {
    storage::StoredEbpfSample sample;
    sample.dump_count = dump_count;
    return writer->Add(
        storage::StackHasher::Of(frames),
        [&](std::vector<std::string>* out) {
          ++frames_built_;
          out->insert(out->end(), frames.begin(), frames.end());
        },
        sample);
  }

  std::vector<storage::StoredEbpfSample> Samples(const std::string& schedule, size_t* blocks) {
    std::vector<storage::StoredEbpfSample> out;
    *blocks = 0;
    EXPECT_TRUE(store_
                    ->ScanSampleBlocks(schedule, 0, kStart * 2,
                                       [&](storage::EbpfSampleBlock& block) {
                                         ++*blocks;
                                         storage::StoredEbpfSample s;
                                         while (block.Next(&s)) out.push_back(s);
                                       })
                    .ok());
    return out;
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kStart};
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::RocksEbpfStore> store_;
  int frames_built_ = 0;
};

TEST_F(EbpfSampleWriterTest, RepeatedStacksAreResolvedOnceAndWrittenInBlocks) {
  const std::vector<std::vector<std::string>> stacks = {
      {"umain", "urun", "kdo_syscall_64"}, {"umain", "uidle"}, {"umain", "urun"}};
  EbpfSampleWriter writer(store_.get());
  ASSERT_TRUE(writer.StartUpload("sched", kStart).ok());
  constexpr int kSamples = 10'000;
  for (int i = 0; i < kSamples; ++i) {
    ASSERT_TRUE(Add(&writer, stacks[i % 3], i % 3 + 1).ok());
  }
  ASSERT_TRUE(writer.Flush().ok());
  EXPECT_EQ(frames_built_, 3);
  EXPECT_EQ(writer.stacks_resolved(), 3u);

  size_t blocks = 0;
  auto samples = Samples("sched", &blocks);
  ASSERT_EQ(samples.size(), static_cast<size_t>(kSamples));
  EXPECT_EQ(blocks, (kSamples + EbpfSampleWriter::kMaxBlockSamples - 1) /
                        EbpfSampleWriter::kMaxBlockSamples);
  // Each stack id reads back as its frames and carries its own samples' values.
  std::map<uint64_t, int64_t> totals;
  for (const auto& s : samples) {
    EXPECT_EQ(s.upload_time_ms, kStart);
    totals[s.stack_id] += s.dump_count;
  }
  ASSERT_EQ(totals.size(), 3u);
  for (const auto& [id, total] : totals) {
    auto symbols = store_->GetStack(id);
    ASSERT_TRUE(symbols.ok()) << symbols.status();
    std::vector<std::string> frames;
    for (const auto& symbol : *symbols) frames.push_back(storage::EncodeEbpfFrame(symbol));
    int which = frames == stacks[0] ? 0 : frames == stacks[1] ? 1 : frames == stacks[2] ? 2 : -1;
    ASSERT_NE(which, -1);
    const int64_t count = kSamples / 3 + (which < kSamples % 3 ? 1 : 0);
    EXPECT_EQ(total, count * (which + 1));
  }
}

// A failed ResolveStacks drops the buffered samples and forgets the stacks first seen with
// them; the next upload builds and resolves them again and is stored.
TEST_F(EbpfSampleWriterTest, AFailedResolveDropsTheBlockAndTheNextOneResolvesAgain) {
  fakes::FaultInjector faults;
  fakes::FailingEbpfStore failing(store_.get(), &faults);
  EbpfSampleWriter writer(&failing);
  ASSERT_TRUE(writer.StartUpload("s1", kStart).ok());
  ASSERT_TRUE(Add(&writer, {"ua", "ub"}, 1).ok());
  faults.FailNth(1, absl::UnavailableError("down"), "ResolveStacks");
  EXPECT_EQ(writer.Flush().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(writer.StartUpload("s1", kStart + 1000).ok());
  ASSERT_TRUE(Add(&writer, {"ua", "ub"}, 2).ok());
  ASSERT_TRUE(writer.Flush().ok());
  EXPECT_EQ(frames_built_, 2);
  EXPECT_EQ(writer.stacks_resolved(), 1u);
  size_t blocks = 0;
  std::vector<storage::StoredEbpfSample> samples = Samples("s1", &blocks);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].dump_count, 2);
}

// After a failed block write an id the writer remembers may name a stack the store no longer
// has: the next upload resolves its stacks again.
TEST_F(EbpfSampleWriterTest, AFailedWriteMakesTheWriterResolveItsStacksAgain) {
  fakes::FaultInjector faults;
  fakes::FailingEbpfStore failing(store_.get(), &faults);
  EbpfSampleWriter writer(&failing);
  ASSERT_TRUE(writer.StartUpload("s1", kStart).ok());
  ASSERT_TRUE(Add(&writer, {"ua"}, 1).ok());
  faults.FailNth(1, absl::NotFoundError("stack expired"), "AddSampleBlock");
  EXPECT_EQ(writer.Flush().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(writer.StartUpload("s1", kStart + 1000).ok());
  ASSERT_TRUE(Add(&writer, {"ua"}, 2).ok());
  ASSERT_TRUE(writer.Flush().ok());
  EXPECT_EQ(frames_built_, 2);
  EXPECT_EQ(writer.stacks_resolved(), 2u);
  size_t blocks = 0;
  std::vector<storage::StoredEbpfSample> samples = Samples("s1", &blocks);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].dump_count, 2);
}

TEST_F(EbpfSampleWriterTest, EachUploadGoesToItsScheduleAndTime) {
  EbpfSampleWriter writer(store_.get());
  ASSERT_TRUE(writer.StartUpload("s1", kStart).ok());
  ASSERT_TRUE(Add(&writer, {"ua"}, 1).ok());
  ASSERT_TRUE(Add(&writer, {"ub"}, 2).ok());
  ASSERT_TRUE(writer.StartUpload("s2", kStart + 5000).ok());
  ASSERT_TRUE(Add(&writer, {"ua"}, 3).ok());
  ASSERT_TRUE(writer.Flush().ok());
  EXPECT_EQ(frames_built_, 2);  // "ua" is remembered across uploads

  size_t blocks = 0;
  auto s1 = Samples("s1", &blocks);
  ASSERT_EQ(s1.size(), 2u);
  EXPECT_EQ(s1[0].upload_time_ms, kStart);
  auto s2 = Samples("s2", &blocks);
  ASSERT_EQ(s2.size(), 1u);
  EXPECT_EQ(s2[0].upload_time_ms, kStart + 5000);
  EXPECT_EQ(s2[0].dump_count, 3);
  EXPECT_EQ(s2[0].stack_id, s1[0].stack_id);
}

// Huge new stacks are resolved before too many of their frames pile up.
TEST_F(EbpfSampleWriterTest, PendingFramesAreBoundedInBytes) {
  EbpfSampleWriter writer(store_.get());
  ASSERT_TRUE(writer.StartUpload("s1", kStart).ok());
  const size_t big = EbpfSampleWriter::kMaxPendingFrameBytes / 4;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(Add(&writer, {"u" + std::string(big, static_cast<char>('a' + i))}, 1).ok());
  }
  EXPECT_EQ(writer.stacks_resolved(), 4u);  // the fourth crossed the bound
  ASSERT_TRUE(writer.Flush().ok());
  EXPECT_EQ(writer.stacks_resolved(), 6u);
  size_t blocks = 0;
  EXPECT_EQ(Samples("s1", &blocks).size(), 6u);
  EXPECT_EQ(blocks, 2u);
}

TEST_F(EbpfSampleWriterTest, NothingBufferedWritesNothing) {
  EbpfSampleWriter writer(store_.get());
  ASSERT_TRUE(writer.Flush().ok());
  ASSERT_TRUE(writer.StartUpload("s1", kStart).ok());
  ASSERT_TRUE(writer.Flush().ok());
  size_t blocks = 0;
  EXPECT_TRUE(Samples("s1", &blocks).empty());
  EXPECT_EQ(blocks, 0u);
}

}  // namespace
}  // namespace stackhouse::service

namespace stackhouse::service {
namespace {

// Streams run concurrently, each with its own writer, over one store: every stack gets one id
// and every sample is stored once.
TEST_F(EbpfSampleWriterTest, ConcurrentStreamsShareTheDictionary) {
  constexpr int kStreams = 4;
  constexpr int kSamples = 20'000;
  constexpr int kStacks = 50;
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(kStreams);
  for (int t = 0; t < kStreams; ++t) {
    threads.emplace_back([&, t] {
      EbpfSampleWriter writer(store_.get());
      absl::Status s = writer.StartUpload(absl::StrCat("sched-", t), kStart);
      for (int i = 0; s.ok() && i < kSamples; ++i) {
        const std::vector<std::string> frames = {"umain", absl::StrCat("uwork", (i + t) % kStacks)};
        storage::StoredEbpfSample sample;
        sample.dump_count = 1;
        s = writer.Add(
            storage::StackHasher::Of(frames), [&](std::vector<std::string>* out) { *out = frames; },
            sample);
      }
      if (s.ok()) s = writer.Flush();
      results[t] = s;
    });
  }
  for (auto& thread : threads) thread.join();
  std::map<uint64_t, int64_t> totals;
  for (int t = 0; t < kStreams; ++t) {
    ASSERT_TRUE(results[t].ok()) << results[t];
    size_t blocks = 0;
    for (const auto& s : Samples(absl::StrCat("sched-", t), &blocks)) totals[s.stack_id] += 1;
  }
  ASSERT_EQ(totals.size(), static_cast<size_t>(kStacks));
  for (const auto& [id, count] : totals) {
    EXPECT_EQ(count, kStreams * kSamples / kStacks);
    EXPECT_TRUE(store_->GetStack(id).ok());
  }
}

}  // namespace
}  // namespace stackhouse::service
