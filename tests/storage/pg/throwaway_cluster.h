#pragma once

// A throw-away PostgreSQL cluster for tests and benchmarks: initdb into a temporary directory, a
// postmaster that listens only on a unix socket in that directory. Free of gtest, so that
// benchmarks link it too (the tests' environment is test_cluster.h).
#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace stackhouse::storage::pg::testing {

// Where Debian's postgresql-15 puts initdb and postgres.
inline constexpr char kPgBinDir[] = "/usr/lib/postgresql/15/bin";

// One running cluster, without durability (fsync, synchronous_commit and full_page_writes off).
// When the process runs as root (initdb refuses root), the cluster's processes run as user
// "nobody", which owns the directory. The postmaster gets SIGQUIT (immediate shutdown) should
// the thread that started it die, so no cluster outlives a crashed process. Not thread-safe.
class ThrowawayCluster {
 public:
  // initdb and start with the binaries in `bin_dir`. FailedPrecondition when they are missing
  // (naming the package), Internal with the tail of the server's log when it does not come up.
  static absl::StatusOr<std::unique_ptr<ThrowawayCluster>> Start(
      const std::string& bin_dir = kPgBinDir);
  // Stops the postmaster (fast shutdown) and removes the directory.
  ~ThrowawayCluster();

  // Creates an empty database and returns a libpq conninfo for it.
  absl::StatusOr<std::string> CreateDatabase();

  // The conninfo of database `dbname`.
  std::string ConnInfo(const std::string& dbname) const;

 private:
  ThrowawayCluster(std::string dir, pid_t postmaster)
      : dir_(std::move(dir)), postmaster_(postmaster) {}

  const std::string dir_;  // data in dir_/data, the socket in dir_
  pid_t postmaster_;
  int databases_ = 0;
};

}  // namespace stackhouse::storage::pg::testing
