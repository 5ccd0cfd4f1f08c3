#include "storage/pg/pg_schema.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/pg/test_cluster.h"

namespace stackhouse::storage::pg {
namespace {

using ::testing::HasSubstr;

class PgSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conninfo = testing::ClusterEnvironment::NewDatabase();
    ASSERT_TRUE(conninfo.ok()) << conninfo.status();
    options_.conninfo = *conninfo;
    options_.size = 2;
  }

  std::unique_ptr<Pool> NewPool() {
    auto pool = Pool::Create(options_);
    EXPECT_TRUE(pool.ok()) << pool.status();
    return pool.ok() ? std::move(*pool) : nullptr;
  }

  int64_t Count(Pool& pool, const std::string& sql) {
    auto result = pool.Exec(sql);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->Int64(0, 0) : -1;
  }

  PoolOptions options_;
};

TEST_F(PgSchemaTest, AnEmptyDatabaseIsMigratedOnceAndASecondRunDoesNothing) {
  auto pool = NewPool();
  ASSERT_NE(pool, nullptr);
  auto first = MigrateSchema(*pool);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, 0);
  auto second = MigrateSchema(*pool);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, LatestSchemaVersion());
  EXPECT_EQ(Count(*pool, "SELECT count(*) FROM sh_schema_version"), LatestSchemaVersion());
  EXPECT_EQ(Count(*pool, "SELECT count(*) FROM sh_segment"), 0);
}

TEST_F(PgSchemaTest, NodesMigratingAtOnceApplyEachVersionOnce) {
  constexpr int kNodes = 4;
  std::vector<std::unique_ptr<Pool>> pools;
  for (int i = 0; i < kNodes; ++i) {
    pools.push_back(NewPool());
    ASSERT_NE(pools.back(), nullptr);
  }
  std::vector<absl::StatusOr<int>> found(kNodes, absl::UnknownError("not run"));
  std::vector<std::thread> nodes;
  for (int i = 0; i < kNodes; ++i) {
    nodes.emplace_back([&, i] { found[i] = MigrateSchema(*pools[i]); });
  }
  for (std::thread& node : nodes) node.join();
  int migrated = 0;
  for (const auto& f : found) {
    ASSERT_TRUE(f.ok()) << f.status();
    if (*f == 0)
      ++migrated;
    else
      EXPECT_EQ(*f, LatestSchemaVersion());
  }
  EXPECT_EQ(migrated, 1);
  EXPECT_EQ(Count(*pools[0], "SELECT count(*) FROM sh_schema_version"), LatestSchemaVersion());
}

TEST_F(PgSchemaTest, ANewerSchemaIsRefusedWithTheReason) {
  auto pool = NewPool();
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(MigrateSchema(*pool).ok());
  ASSERT_TRUE(pool->Exec("INSERT INTO sh_schema_version VALUES ($1::int, now())",
                         Params().Int64(LatestSchemaVersion() + 1))
                  .ok());
  auto refused = MigrateSchema(*pool);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("newer than this build's"));
}

TEST_F(PgSchemaTest, Version5MovesHistogramBucketRowsIntoTheirMetricRow) {
  auto pool = NewPool();
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(MigrateSchema(*pool, 4).ok());
  // A histogram row of version 4 with its buckets in rows of their own (out of key order), and
  // a row without buckets.
  ASSERT_TRUE(pool->Exec("INSERT INTO sh_metric VALUES "
                         "('rtt', 'c-s', 1, 60000, '', 0, 0, 60000), "
                         "('cpm', 'c-s', 1, 60000, '', 4, 0, 60000)")
                  .ok());
  ASSERT_TRUE(pool->Exec("INSERT INTO sh_metric_bucket VALUES "
                         "('rtt', 'c-s', 1, 60000, '', 100, 2, 60000), "
                         "('rtt', 'c-s', 1, 60000, '', 0, 1, 60000), "
                         "('rtt', 'c-s', 1, 60000, '', 50, 9, 60000)")
                  .ok());
  auto found = MigrateSchema(*pool);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, 4);
  auto rows = pool->Exec("SELECT metric, buckets::text FROM sh_metric ORDER BY metric");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows(), 2);
  EXPECT_EQ(rows->String(0, 1), "{}");
  EXPECT_EQ(rows->String(1, 1), "{0,1,50,9,100,2}");
  EXPECT_EQ(Count(*pool, "SELECT count(*) FROM pg_tables WHERE tablename = 'sh_metric_bucket'"), 0);
}

TEST_F(PgSchemaTest, BucketListsMergeByKeyAndSaturate) {
  auto pool = NewPool();
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(MigrateSchema(*pool).ok());
  auto merged = pool->Exec(
      "SELECT sh_merge_buckets('{0,1,100,2}', '{50,3,100,5,200,1}')::text, "
      "sh_merge_buckets('{}', '{7,1}')::text, sh_merge_buckets('{7,1}', '{}')::text, "
      "sh_merge_buckets('{7,9223372036854775807}', '{7,5}')::text");
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->String(0, 0), "{0,1,50,3,100,7,200,1}");
  EXPECT_EQ(merged->String(0, 1), "{7,1}");
  EXPECT_EQ(merged->String(0, 2), "{7,1}");
  EXPECT_EQ(merged->String(0, 3), "{7,9223372036854775807}");
}

}  // namespace
}  // namespace stackhouse::storage::pg
