#include "storage/pg/pg_change_feed.h"

#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "storage/pg/test_cluster.h"

namespace stackhouse::storage::pg {
namespace {

constexpr char kListenerName[] = "sh-feed-test-listen";

// What one feed's listener received, by kind.
class Received {
 public:
  void Add(ChangeKind kind) {
    absl::MutexLock lock(&mu_);
    ++counts_[kind];
  }
  int Count(ChangeKind kind) {
    absl::MutexLock lock(&mu_);
    return counts_[kind];
  }
  // Waits (a generous deadline, polling) until `kind` was received `n` times at least.
  bool WaitFor(ChangeKind kind, int n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (Count(kind) < n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

 private:
  absl::Mutex mu_;
  std::map<ChangeKind, int> counts_ ABSL_GUARDED_BY(mu_);
};

class PgChangeFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conninfo = testing::ClusterEnvironment::NewDatabase();
    ASSERT_TRUE(conninfo.ok()) << conninfo.status();
    conninfo_ = *conninfo;
    for (int i = 0; i < 2; ++i) {
      auto pool = Pool::Create({conninfo_, 2, 0});
      ASSERT_TRUE(pool.ok()) << pool.status();
      pools_.push_back(std::move(*pool));
    }
  }

  std::unique_ptr<PgChangeFeed> MakeFeed(Pool* pool, Received* received) {
    ChangeFeedOptions options;
    options.conninfo = conninfo_ + " application_name=" + kListenerName;
    options.reconnect_min_ms = 20;
    options.reconnect_max_ms = 100;
    auto feed = std::make_unique<PgChangeFeed>(pool, options);
    feed->Subscribe([received](ChangeKind kind) { received->Add(kind); });
    return feed;
  }

  std::string conninfo_;
  std::vector<std::unique_ptr<Pool>> pools_;
};

TEST_F(PgChangeFeedTest, APublishedChangeReachesEveryNodeIncludingItsOwn) {
  Received a, b;
  auto feed_a = MakeFeed(pools_[0].get(), &a);
  auto feed_b = MakeFeed(pools_[1].get(), &b);
  ASSERT_TRUE(feed_a->Start().ok());
  ASSERT_TRUE(feed_b->Start().ok());
  EXPECT_EQ(feed_a->Start().code(), absl::StatusCode::kFailedPrecondition);

  ASSERT_TRUE(feed_a->Publish(ChangeKind::kProfileTasks).ok());
  ASSERT_TRUE(feed_b->Publish(ChangeKind::kContinuousPolicies).ok());
  EXPECT_TRUE(b.WaitFor(ChangeKind::kProfileTasks, 1));
  EXPECT_TRUE(a.WaitFor(ChangeKind::kProfileTasks, 1));
  EXPECT_TRUE(a.WaitFor(ChangeKind::kContinuousPolicies, 1));
  EXPECT_TRUE(b.WaitFor(ChangeKind::kContinuousPolicies, 1));
  // A payload this build does not know is ignored; so is another channel.
  ASSERT_TRUE(pools_[0]->Exec("SELECT pg_notify('sh_changes', 'from_a_newer_node')").ok());
  ASSERT_TRUE(pools_[0]->Exec("SELECT pg_notify('other', 'profile_tasks')").ok());
  ASSERT_TRUE(feed_a->Publish(ChangeKind::kEbpfTasks).ok());
  EXPECT_TRUE(b.WaitFor(ChangeKind::kEbpfTasks, 1));
  EXPECT_EQ(b.Count(ChangeKind::kProfileTasks), 1);
  EXPECT_EQ(b.Count(ChangeKind::kEbpfProcesses), 0);
  feed_a->Stop();
  feed_a->Stop();
  feed_b->Stop();
}

TEST_F(PgChangeFeedTest, ALostListenerConnectsAgainAndReportsEveryKindChanged) {
  Received a;
  auto feed = MakeFeed(pools_[0].get(), &a);
  ASSERT_TRUE(feed->Start().ok());
  EXPECT_EQ(feed->connects(), 1);
  auto killed = pools_[1]->Exec(absl::StrCat(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '",
      kListenerName, "'"));
  ASSERT_TRUE(killed.ok()) << killed.status();
  ASSERT_EQ(killed->Int64(0, 0), 1);
  // Notifications sent while nobody listened are lost: every kind counts as changed.
  for (ChangeKind kind : kAllChangeKinds) EXPECT_TRUE(a.WaitFor(kind, 1));
  EXPECT_EQ(feed->connects(), 2);
  ASSERT_TRUE(feed->Publish(ChangeKind::kEbpfProcesses).ok());
  EXPECT_TRUE(a.WaitFor(ChangeKind::kEbpfProcesses, 2));
}

TEST_F(PgChangeFeedTest, StartFailsWhenItCannotListenAndStopsCleanlyWithoutStarting) {
  Received a;
  ChangeFeedOptions options;
  options.conninfo = "host=/nonexistent-socket-dir port=1 connect_timeout=2";
  PgChangeFeed feed(pools_[0].get(), options);
  EXPECT_EQ(feed.Start().code(), absl::StatusCode::kUnavailable);
  feed.Stop();
  PgChangeFeed never_started(pools_[0].get(), options);
  never_started.Stop();
}

}  // namespace
}  // namespace stackhouse::storage::pg
