#include "storage/pg/test_cluster.h"

#include <memory>
#include <string>
#include <vector>

#include "storage/pg/pg_schema.h"

namespace stackhouse::storage::pg::testing {
namespace {

struct Shared {
  std::unique_ptr<TestCluster> cluster;
  absl::Status error;
  bool tried = false;
};

Shared& Cluster() {
  static Shared* shared = new Shared;
  return *shared;
}

}  // namespace

absl::StatusOr<TestCluster*> ClusterEnvironment::Get() {
  Shared& shared = Cluster();
  if (!shared.tried) {
    shared.tried = true;
    auto started = TestCluster::Start();
    if (started.ok()) {
      shared.cluster = std::move(*started);
    } else {
      shared.error = started.status();
    }
  }
  if (shared.cluster == nullptr) return shared.error;
  return shared.cluster.get();
}

absl::StatusOr<std::string> ClusterEnvironment::NewDatabase() {
  auto cluster = Get();
  if (!cluster.ok()) return cluster.status();
  return (*cluster)->CreateDatabase();
}

void ClusterEnvironment::TearDown() { Cluster().cluster.reset(); }

absl::StatusOr<std::vector<std::unique_ptr<Pool>>> NewNodePools(int nodes) {
  absl::StatusOr<std::string> conninfo = ClusterEnvironment::NewDatabase();
  if (!conninfo.ok()) return conninfo.status();
  std::vector<std::unique_ptr<Pool>> pools;
  for (int i = 0; i < nodes; ++i) {
    PoolOptions options;
    options.conninfo = *conninfo;
    options.size = 2;
    absl::StatusOr<std::unique_ptr<Pool>> pool = Pool::Create(options);
    if (!pool.ok()) return pool.status();
    if (absl::StatusOr<int> version = MigrateSchema(**pool); !version.ok()) {
      return version.status();
    }
    pools.push_back(std::move(*pool));
  }
  return pools;
}

int64_t CountRows(Pool& pool, const std::string& sql) {
  auto r = pool.Exec(sql);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->Int64(0, 0) : -1;
}

}  // namespace stackhouse::storage::pg::testing
