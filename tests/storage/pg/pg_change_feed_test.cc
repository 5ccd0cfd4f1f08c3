#include "storage/pg/pg_change_feed.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "storage/pg/test_cluster.h"
#include "storage/test_dir.h"

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

// A unix socket that takes connections and never says a word: a database whose host
// blackholes packets once the connection is made.
class SilentServer {
 public:
  explicit SilentServer(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    EXPECT_LT(path.size(), sizeof(addr.sun_path));
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0)
        << std::strerror(errno);
    EXPECT_EQ(::listen(fd_, 8), 0) << std::strerror(errno);
  }
  ~SilentServer() { Close(); }

  // Waits (a generous bound, as a hang guard) until a client has connected.
  bool Accept() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 60'000) <= 0) return false;
    client_ = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    return client_ >= 0;
  }
  // Hangs up on the client and stops listening.
  void Close() {
    for (int* fd : {&client_, &fd_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }

 private:
  int fd_ = -1;
  int client_ = -1;
};

// The value of `keyword` in a "key=value …" conninfo without quotes (the test cluster's).
std::string ConnInfoValue(const std::string& conninfo, absl::string_view keyword) {
  for (absl::string_view part : absl::StrSplit(conninfo, ' ')) {
    if (absl::ConsumePrefix(&part, keyword) && absl::ConsumePrefix(&part, "=")) {
      return std::string(part);
    }
  }
  return "";
}

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
  // A payload this build does not know is ignored (another channel: pg_connection_test).
  ASSERT_TRUE(pools_[0]->Exec("SELECT pg_notify('sh_changes', 'from_a_newer_node')").ok());
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

// The listener reaches the cluster through a socket path of the test's own, which can then be
// made to lead to a database that never answers.
TEST_F(PgChangeFeedTest, StopIsPromptWhileTheListenerWaitsForADatabaseThatNeverAnswers) {
  ::stackhouse::testing::TestDir dir;
  const std::string socket_name = ".s.PGSQL." + ConnInfoValue(conninfo_, "port");
  const std::string path = dir.path() + "/" + socket_name;
  std::filesystem::create_symlink(ConnInfoValue(conninfo_, "host") + "/" + socket_name, path);
  Received a;
  ChangeFeedOptions options;
  // connect_timeout=0: libpq itself would wait for ever; only Stop may end the wait.
  options.conninfo = absl::StrCat(conninfo_, " host=", dir.path(),
                                  " connect_timeout=0 application_name=", kListenerName);
  options.reconnect_min_ms = 1;
  options.connect_timeout_ms = 3'600'000;
  PgChangeFeed feed(pools_[0].get(), options);
  ASSERT_TRUE(feed.Start().ok());

  std::filesystem::remove(path);
  SilentServer silent(path);
  auto killed = pools_[1]->Exec(absl::StrCat(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '",
      kListenerName, "'"));
  ASSERT_TRUE(killed.ok()) << killed.status();
  ASSERT_EQ(killed->Int64(0, 0), 1);
  // The listener connects again, to the silent server, and waits for its answer.
  ASSERT_TRUE(silent.Accept());

  absl::Notification stopped;
  std::thread stopper([&] {
    feed.Stop();
    stopped.Notify();
  });
  // A hang guard only: Stop does not wait for the database at all.
  EXPECT_TRUE(stopped.WaitForNotificationWithTimeout(absl::Seconds(60)))
      << "Stop waited for the database";
  silent.Close();  // ends the wait of a listener that did not heed Stop
  stopper.join();
  EXPECT_EQ(feed.connects(), 1);
}

TEST_F(PgChangeFeedTest, StartGivesUpOnADatabaseThatNeverAnswers) {
  ::stackhouse::testing::TestDir dir;
  SilentServer silent(dir.path() + "/.s.PGSQL.5432");
  ChangeFeedOptions options;
  options.conninfo = absl::StrCat("host=", dir.path(), " port=5432 dbname=x connect_timeout=0");
  options.connect_timeout_ms = 200;
  PgChangeFeed feed(pools_[0].get(), options);
  absl::Status started = feed.Start();
  EXPECT_EQ(started.code(), absl::StatusCode::kUnavailable) << started;
  EXPECT_TRUE(absl::StrContains(started.message(), "did not answer within 200 ms")) << started;
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
