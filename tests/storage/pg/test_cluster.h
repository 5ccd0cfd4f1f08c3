#pragma once

// A throw-away PostgreSQL cluster for tests: initdb into a temporary directory, a postmaster
// that listens only on a unix socket in that directory, a fresh database per test.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "storage/pg/pg_pool.h"

namespace stackhouse::storage::pg::testing {

// Where Debian's postgresql-15 puts initdb and postgres.
inline constexpr char kPgBinDir[] = "/usr/lib/postgresql/15/bin";

// One running cluster. When the process runs as root (initdb refuses root), the cluster's
// processes run as user "nobody", which owns the directory. The postmaster gets SIGQUIT
// (immediate shutdown) should the process that started it die, so no cluster outlives a
// crashed test. Not thread-safe (tests use it from their main thread).
class TestCluster {
 public:
  // initdb and start with the binaries in `bin_dir`. FailedPrecondition when they are missing
  // (naming the package), Internal with the tail of the server's log when it does not come up.
  static absl::StatusOr<std::unique_ptr<TestCluster>> Start(const std::string& bin_dir = kPgBinDir);
  // Stops the postmaster (fast shutdown) and removes the directory.
  ~TestCluster();

  // Creates an empty database and returns a libpq conninfo for it.
  absl::StatusOr<std::string> CreateDatabase();

  // The conninfo of database `dbname`.
  std::string ConnInfo(const std::string& dbname) const;

 private:
  TestCluster(std::string dir, pid_t postmaster) : dir_(std::move(dir)), postmaster_(postmaster) {}

  const std::string dir_;  // data in dir_/data, the socket in dir_
  pid_t postmaster_;
  int databases_ = 0;
};

// Starts one cluster per test process on first use and stops it when the tests end.
class ClusterEnvironment final : public ::testing::Environment {
 public:
  // The process's cluster, started now if it is not running; the error when it cannot start
  // (remembered: a second test does not try again).
  static absl::StatusOr<TestCluster*> Get();
  // A fresh database of the process's cluster (its conninfo).
  static absl::StatusOr<std::string> NewDatabase();

  void TearDown() override;
};

// `nodes` pools (of 2 connections) over one fresh database with the schema migrated: what
// several Stackhouse nodes on one PostgreSQL hold.
absl::StatusOr<std::vector<std::unique_ptr<Pool>>> NewNodePools(int nodes);

// The int8 that `sql` (a SELECT count(*) ...) answers through `pool`; -1 (and a test failure)
// on an error.
int64_t CountRows(Pool& pool, const std::string& sql);

// Registers the environment in every test binary that includes this header.
inline ::testing::Environment* const kClusterEnvironment =
    ::testing::AddGlobalTestEnvironment(new ClusterEnvironment);

}  // namespace stackhouse::storage::pg::testing
