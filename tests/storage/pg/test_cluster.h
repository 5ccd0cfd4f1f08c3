#pragma once

// The tests' throw-away PostgreSQL cluster (throwaway_cluster.h): one per test process, a fresh
// database per test.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "storage/pg/pg_pool.h"
#include "storage/pg/throwaway_cluster.h"

namespace stackhouse::storage::pg::testing {

// The tests' name for the cluster (throwaway_cluster.h).
using TestCluster = ThrowawayCluster;

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
