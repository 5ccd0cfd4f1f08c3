#include <thread>

#include "fakes/failing_stores.h"
#include "fakes/fake_stores.h"
#include "fakes/fault_injector.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::fakes {
namespace {

TEST(FaultInjectorTest, FailsTheNthCallOnce) {
  FaultInjector faults;
  faults.FailNth(3, absl::UnavailableError("disk"));
  EXPECT_TRUE(faults.Check("A").ok());
  EXPECT_TRUE(faults.Check("B").ok());
  EXPECT_EQ(faults.Check("A"), absl::UnavailableError("disk"));
  EXPECT_TRUE(faults.Check("A").ok());
  EXPECT_EQ(faults.calls("A"), 3);
  EXPECT_EQ(faults.calls(), 4);
  EXPECT_EQ(faults.failures(), 1);
}

TEST(FaultInjectorTest, FailsTheNthCallOfOneMethod) {
  FaultInjector faults;
  faults.FailNth(2, absl::InternalError("x"), "Write");
  EXPECT_TRUE(faults.Check("Write").ok());
  EXPECT_TRUE(faults.Check("Get").ok());
  EXPECT_FALSE(faults.Check("Write").ok());
  EXPECT_TRUE(faults.Check("Write").ok());
}

TEST(FaultInjectorTest, FailsEveryCallOfAMethodUntilCleared) {
  FaultInjector faults;
  faults.FailAlways("PutTask", absl::UnavailableError("down"));
  EXPECT_FALSE(faults.Check("PutTask").ok());
  EXPECT_FALSE(faults.Check("PutTask").ok());
  EXPECT_TRUE(faults.Check("ListTasks").ok());
  faults.FailAlways("", absl::UnavailableError("all"));
  EXPECT_FALSE(faults.Check("ListTasks").ok());
  faults.Clear();
  EXPECT_TRUE(faults.Check("PutTask").ok());
}

TEST(FaultInjectorTest, PausesACallUntilResumed) {
  FaultInjector faults;
  faults.PauseNext("Write");
  std::thread writer([&] { EXPECT_TRUE(faults.Check("Write").ok()); });
  faults.WaitUntilPaused();
  EXPECT_TRUE(faults.Check("Get").ok());  // other calls go on meanwhile
  faults.Resume();
  writer.join();
  EXPECT_EQ(faults.calls("Write"), 1);
}

TEST(FailingStoreTest, AFailedCallDoesNotReachTheStore) {
  FakeUiTemplateStore fake;
  FaultInjector faults;
  FailingUiTemplateStore store(&fake, &faults);
  faults.FailNth(1, absl::UnavailableError("disk"), "PutTemplate");
  EXPECT_EQ(store.PutTemplate({"a", "{}", false, 1}), absl::UnavailableError("disk"));
  EXPECT_THAT(*fake.ListTemplates(), ::testing::IsEmpty());
  ASSERT_TRUE(store.PutTemplate({"a", "{}", false, 1}).ok());
  EXPECT_EQ(fake.ListTemplates()->size(), 1u);
}

TEST(FakeEbpfStoreTest, SamplesRoundTripAndUnknownStacksAreRefused) {
  FakeEbpfStore store;
  std::vector<std::string> frames = {"ufoo", "kbar"};
  storage::PendingStack pending{storage::StackHasher::Of(frames), &frames};
  auto ids = store.ResolveStacks({&pending, 1});
  ASSERT_TRUE(ids.ok());
  storage::StoredEbpfSample sample;
  sample.stack_id = (*ids)[0];
  sample.dump_count = 3;
  ASSERT_TRUE(store.AddSampleBlock("s", 10, {&sample, 1}).ok());
  int64_t total = 0;
  ASSERT_TRUE(store
                  .ScanSamples("s", 0, 100,
                               [&](const storage::StoredEbpfSample& s) { total += s.dump_count; })
                  .ok());
  EXPECT_EQ(total, 3);
  auto stack = store.GetStack((*ids)[0]);
  ASSERT_TRUE(stack.ok());
  EXPECT_EQ((*stack)[1].type, model::StackType::kKernel);
  sample.stack_id = 99;
  EXPECT_EQ(store.AddSampleBlock("s", 11, {&sample, 1}).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace stackhouse::fakes
