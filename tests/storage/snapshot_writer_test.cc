#include "storage/snapshot_writer.h"

#include <string>
#include <vector>

#include "fakes/failing_stores.h"
#include "fakes/fake_stores.h"
#include "fakes/fault_injector.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/store_test_data.h"

namespace stackhouse::storage {
namespace {

using ::stackhouse::testing::kStart;
using ::testing::ElementsAre;

std::vector<std::string> Stack(int n) {
  return {"java.lang.Thread.run:840", "com.example.Handler.handle:" + std::to_string(n)};
}

class SnapshotWriterTest : public ::testing::Test {
 protected:
  // Adds dump `sequence` of `segment` with Stack(stack); counts the frame callbacks.
  absl::Status Add(SnapshotWriter* writer, const std::string& segment, int sequence, int stack) {
    const std::vector<std::string> frames = Stack(stack);
    return writer->Add("task", segment, kStart + sequence, sequence, StackHasher::Of(frames),
                       [&](std::vector<std::string>* out) {
                         ++frames_built_;
                         *out = frames;
                       });
  }
  std::vector<StoredDump> Dumps(const std::string& segment) {
    std::vector<StoredDump> dumps;
    EXPECT_TRUE(store_.ScanDumps(segment, [&](const StoredDump& d) { dumps.push_back(d); }).ok());
    return dumps;
  }

  fakes::FakeSnapshotStore store_;
  int frames_built_ = 0;
};

TEST_F(SnapshotWriterTest, RepeatedStacksAreBuiltAndResolvedOnce) {
  SnapshotWriter writer(&store_, 4);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Add(&writer, "seg", i, i % 3).ok());
  EXPECT_EQ(frames_built_, 3);
  EXPECT_EQ(writer.stacks_resolved(), 3u);
  EXPECT_EQ(writer.buffered(), 2u);  // 10 = two batches of 4 + 2
  EXPECT_EQ(Dumps("seg").size(), 8u);
  ASSERT_TRUE(writer.Flush().ok());
  EXPECT_EQ(writer.buffered(), 0u);
  auto dumps = Dumps("seg");
  ASSERT_EQ(dumps.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(dumps[i].sequence, i);
    EXPECT_EQ(dumps[i].dump_time_ms, kStart + i);
    EXPECT_EQ(*store_.GetStack(dumps[i].stack_id), Stack(i % 3));
  }
  EXPECT_THAT(*store_.ListProfiledSegments("task"), ElementsAre("seg"));
  ASSERT_TRUE(writer.Flush().ok());  // nothing buffered
}

TEST_F(SnapshotWriterTest, AFailedResolveStoresNothingAndTheNextBatchResolvesAgain) {
  fakes::FaultInjector faults;
  fakes::FailingSnapshotStore failing(&store_, &faults);
  SnapshotWriter writer(&failing, 8);
  ASSERT_TRUE(Add(&writer, "seg", 0, 1).ok());
  faults.FailNth(1, absl::UnavailableError("down"), "ResolveStacks");
  EXPECT_EQ(writer.Flush().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(Dumps("seg").empty());
  EXPECT_EQ(writer.buffered(), 0u);
  ASSERT_TRUE(Add(&writer, "seg", 1, 1).ok());
  ASSERT_TRUE(writer.Flush().ok());
  EXPECT_EQ(frames_built_, 2);
  auto dumps = Dumps("seg");
  ASSERT_EQ(dumps.size(), 1u);
  EXPECT_EQ(*store_.GetStack(dumps[0].stack_id), Stack(1));
}

TEST_F(SnapshotWriterTest, AFailedWriteMakesTheWriterResolveItsStacksAgain) {
  fakes::FaultInjector faults;
  fakes::FailingSnapshotStore failing(&store_, &faults);
  SnapshotWriter writer(&failing, 8);
  ASSERT_TRUE(Add(&writer, "seg", 0, 1).ok());
  faults.FailNth(1, absl::NotFoundError("stack expired"), "AddDumps");
  EXPECT_EQ(writer.Flush().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(Add(&writer, "seg", 1, 1).ok());
  ASSERT_TRUE(writer.Flush().ok());
  EXPECT_EQ(writer.stacks_resolved(), 2u);
  EXPECT_EQ(Dumps("seg").size(), 1u);
}

}  // namespace
}  // namespace stackhouse::storage
