#include "storage/pg/pg_connection.h"

#include <poll.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/pg/pg_pool.h"
#include "storage/pg/test_cluster.h"

namespace stackhouse::storage::pg {
namespace {

using ::testing::HasSubstr;

class PgConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conninfo = testing::ClusterEnvironment::NewDatabase();
    ASSERT_TRUE(conninfo.ok()) << conninfo.status();
    conninfo_ = *conninfo;
    auto conn = Connection::Open(conninfo_);
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_ = std::move(*conn);
  }

  std::string conninfo_;
  std::unique_ptr<Connection> conn_;
};

TEST(MakeConnInfoTest, QuotesAndEscapesEveryValueAndLeavesOutEmptyOnes) {
  EXPECT_EQ(
      MakeConnInfo(
          {{"host", "db.local"}, {"password", ""}, {"user", "o'brien"}, {"dbname", "a b\\c"}}),
      "host='db.local' user='o\\'brien' dbname='a b\\\\c'");
}

// A password with quotes, backslashes and spaces gets through MakeConnInfo to the server.
TEST_F(PgConnectionTest, AConnInfoFromMakeConnInfoConnects) {
  ASSERT_TRUE(conn_->ExecScript("CREATE ROLE \"o'brien x\" LOGIN PASSWORD 'p''w \\d'").ok());
  // The test cluster trusts every local user, so this shows the quoting, not the password.
  auto host = conn_->Exec("SELECT current_setting('unix_socket_directories')");
  ASSERT_TRUE(host.ok()) << host.status();
  auto port = conn_->Exec("SELECT current_setting('port')");
  ASSERT_TRUE(port.ok()) << port.status();
  auto other = Connection::Open(MakeConnInfo({{"host", host->String(0, 0)},
                                              {"port", port->String(0, 0)},
                                              {"dbname", "postgres"},
                                              {"user", "o'brien x"},
                                              {"password", "p'w \\d"}}));
  ASSERT_TRUE(other.ok()) << other.status();
  auto who = (*other)->Exec("SELECT current_user::text");
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->String(0, 0), "o'brien x");
}

TEST_F(PgConnectionTest, ParametersAndResultsRoundTripInEveryType) {
  const std::string bytes("a\0b\xff", 4);
  auto result = conn_->Exec(
      "SELECT $1::text, $2::bigint, $3::boolean, $4::bytea, $5::text IS NULL, "
      "array_length($6::bigint[], 1), ($6::bigint[])[2], ($7::text[])[1], ($8::bytea[])[2], "
      "($9::int[])[1], cardinality($10::text[])",
      Params()
          .Text("héllo")
          .Int64(-9007199254740993)
          .Bool(true)
          .Bytes(bytes)
          .Null()
          .Int64Array({1, -2, 3})
          .TextArray({"x y", ""})
          .BytesArray({"", bytes})
          .Int32Array({-7})
          .TextArray({}));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->rows(), 1);
  EXPECT_EQ(result->String(0, 0), "héllo");
  EXPECT_EQ(result->Int64(0, 1), -9007199254740993);
  EXPECT_TRUE(result->Bool(0, 2));
  EXPECT_EQ(result->String(0, 3), bytes);
  EXPECT_TRUE(result->Bool(0, 4));
  EXPECT_EQ(result->Int64(0, 5), 3);
  EXPECT_EQ(result->Int64(0, 6), -2);
  EXPECT_EQ(result->String(0, 7), "x y");
  EXPECT_EQ(result->String(0, 8), bytes);
  EXPECT_EQ(result->Int64(0, 9), -7);
  EXPECT_EQ(result->Int64(0, 10), 0);
}

TEST_F(PgConnectionTest, PreparedStatementsRunAgainWithNewParameters) {
  for (int64_t i = 0; i < 3; ++i) {
    auto result = conn_->ExecPrepared("plus_one", "SELECT $1::bigint + 1", Params().Int64(i));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->Int64(0, 0), i + 1);
  }
}

TEST_F(PgConnectionTest, ErrorsNameTheProblemAndMapToCodes) {
  auto bad = conn_->Exec("SELECT * FROM no_such_table");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(bad.status().message(), HasSubstr("no_such_table"));
  EXPECT_THAT(bad.status().message(), HasSubstr("42P01"));

  ASSERT_TRUE(conn_->ExecScript("CREATE TABLE t (k int PRIMARY KEY)").ok());
  ASSERT_TRUE(conn_->Exec("INSERT INTO t VALUES (1)").ok());
  EXPECT_EQ(conn_->Exec("INSERT INTO t VALUES (1)").status().code(),
            absl::StatusCode::kAlreadyExists);

  ASSERT_TRUE(conn_->ExecScript("SET statement_timeout = 1").ok());
  auto slow = conn_->Exec("SELECT pg_sleep(10)");
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kDeadlineExceeded) << slow.status();
  EXPECT_TRUE(conn_->healthy());  // a failed statement leaves the connection usable
}

TEST_F(PgConnectionTest, AnUnreachableServerIsUnavailable) {
  auto conn = Connection::Open("host=/nonexistent-dir port=1 dbname=x connect_timeout=2");
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(conn.status().message(), HasSubstr("cannot connect to PostgreSQL"));
}

// A SocketWait that polls the socket alone (a generous bound, as a hang guard).
absl::Status PollSocket(int fd, bool write) {
  pollfd p{fd, static_cast<short>(write ? POLLOUT : POLLIN), 0};
  return ::poll(&p, 1, 60'000) > 0 ? absl::OkStatus()
                                   : absl::DeadlineExceededError("the socket stayed quiet");
}

TEST_F(PgConnectionTest, ANonBlockingConnectionRunsScriptsAndChecksEveryStatement) {
  auto conn = Connection::OpenNonBlocking(conninfo_, PollSocket);
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE((*conn)->ExecScriptNonBlocking("CREATE TABLE n (k int); SELECT 1", PollSocket).ok());
  // A failing first statement is the error even when the last one succeeds.
  absl::Status bad = (*conn)->ExecScriptNonBlocking("SELECT * FROM no_such_table", PollSocket);
  EXPECT_THAT(bad.message(), HasSubstr("42P01"));
  EXPECT_TRUE((*conn)->healthy());
  EXPECT_TRUE((*conn)->Exec("SELECT count(*) FROM n").ok());

  auto unreachable =
      Connection::OpenNonBlocking("host=/nonexistent-dir port=1 dbname=x", PollSocket);
  EXPECT_EQ(unreachable.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(unreachable.status().message(), HasSubstr("cannot connect to PostgreSQL"));
}

TEST_F(PgConnectionTest, ANonBlockingCallEndsWhenItsWaitFails) {
  int waits = 0;
  auto give_up = [&](int, bool) {
    ++waits;
    return absl::CancelledError("stopping");
  };
  // The server has not answered a statement that was just sent: the first wait gives up.
  auto conn = Connection::OpenNonBlocking(conninfo_, PollSocket);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ((*conn)->ExecScriptNonBlocking("SELECT pg_sleep(10)", give_up).code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(waits, 1);
  EXPECT_EQ(Connection::OpenNonBlocking(conninfo_, give_up).status().code(),
            absl::StatusCode::kCancelled);
}

TEST_F(PgConnectionTest, TakeNotificationsReturnsThoseOfItsChannelOnly) {
  ASSERT_TRUE(conn_->ExecScript("LISTEN wanted; LISTEN other").ok());
  auto notifier = Connection::Open(conninfo_);
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  // Committed in this order, so they arrive in it: once "2" is here, "x" was too.
  ASSERT_TRUE((*notifier)->ExecScript("NOTIFY wanted, '1'; NOTIFY other, 'x'").ok());
  ASSERT_TRUE((*notifier)->ExecScript("NOTIFY wanted, '2'").ok());
  std::vector<std::string> payloads;
  while (payloads.size() < 2) {
    ASSERT_TRUE(PollSocket(conn_->socket(), false).ok());
    auto taken = conn_->TakeNotifications("wanted");
    ASSERT_TRUE(taken.ok()) << taken.status();
    payloads.insert(payloads.end(), taken->begin(), taken->end());
  }
  EXPECT_EQ(payloads, (std::vector<std::string>{"1", "2"}));
  EXPECT_TRUE(conn_->TakeNotifications("other")->empty());  // dropped, not kept for later
}

TEST_F(PgConnectionTest, ALostConnectionIsUnavailableAndThePoolConnectsAgain) {
  PoolOptions options;
  options.conninfo = conninfo_;
  options.size = 1;
  auto pool = Pool::Create(options);
  ASSERT_TRUE(pool.ok()) << pool.status();
  auto pid = (*pool)->Exec("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok()) << pid.status();
  ASSERT_TRUE(
      conn_->Exec("SELECT pg_terminate_backend($1::int)", Params().Int64(pid->Int64(0, 0))).ok());

  auto lost = (*pool)->Exec("SELECT 1");
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable) << lost.status();
  EXPECT_THAT(lost.status().message(), HasSubstr("connection lost"));
  auto again = (*pool)->Exec("SELECT 2::int");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->Int64(0, 0), 2);
}

TEST_F(PgConnectionTest, TransactionsCommitOrRollBackWhole) {
  PoolOptions options;
  options.conninfo = conninfo_;
  options.size = 2;
  auto pool = Pool::Create(options);
  ASSERT_TRUE(pool.ok()) << pool.status();
  ASSERT_TRUE((*pool)->Exec("CREATE TABLE t (k int PRIMARY KEY)").ok());
  absl::Status failed = (*pool)->Transaction([](Connection& conn) {
    EXPECT_TRUE(conn.Exec("INSERT INTO t VALUES (1)").ok());
    return conn.Exec("INSERT INTO t VALUES (1)").status();
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE((*pool)
                  ->Transaction([](Connection& conn) {
                    return conn.Exec("INSERT INTO t VALUES (2)").status();
                  })
                  .ok());
  auto rows = (*pool)->Exec("SELECT array_to_string(array_agg(k ORDER BY k), ',') FROM t");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->String(0, 0), "2");
}

TEST(TestClusterTest, MissingBinariesFailNamingThePackage) {
  auto cluster = testing::TestCluster::Start("/nonexistent/postgresql/bin");
  EXPECT_EQ(cluster.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(cluster.status().message(), HasSubstr("postgresql package"));
}

TEST(PgPoolTest, ASizeBelowOneIsRefused) {
  PoolOptions options;
  options.size = 0;
  EXPECT_EQ(Pool::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stackhouse::storage::pg
