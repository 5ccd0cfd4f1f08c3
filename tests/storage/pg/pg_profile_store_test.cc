// What only the PostgreSQL stores promise beyond the conformance suite: several nodes (each
// with its own pool and caches) over one database.
#include "storage/pg/pg_profile_store.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "storage/pg/pg_schema.h"
#include "storage/pg/test_cluster.h"
#include "storage/store_test_data.h"

namespace stackhouse::storage::pg {
namespace {

using stackhouse::testing::Dump;
using stackhouse::testing::kStart;

class PgNodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pools = testing::NewNodePools(kNodes);
    ASSERT_TRUE(pools.ok()) << pools.status();
    pools_ = std::move(*pools);
    for (const auto& pool : pools_) {
      stores_.push_back(std::make_unique<PgProfileStore>(pool.get(), &clock_, StoreOptions{}));
    }
  }

  int64_t Count(const std::string& sql) { return testing::CountRows(*pools_[0], sql); }

  static constexpr int kNodes = 4;
  SimulatedClock clock_{kStart};
  std::vector<std::unique_ptr<Pool>> pools_;
  std::vector<std::unique_ptr<PgProfileStore>> stores_;
};

TEST_F(PgNodesTest, NodesRacingOnNewStacksGetOneIdEachStoredOnce) {
  constexpr int kStacks = 50;
  std::vector<std::vector<std::string>> stacks;
  for (int i = 0; i < kStacks; ++i) stacks.push_back({"main", "f" + std::to_string(i)});
  std::vector<absl::Status> results(kNodes);
  std::vector<std::thread> nodes;
  for (int n = 0; n < kNodes; ++n) {
    nodes.emplace_back([&, n] {
      std::vector<model::ThreadSnapshot> batch;
      // Each node sends the stacks in its own order (lock order must not deadlock them).
      for (int i = 0; i < kStacks; ++i) {
        const int s = n % 2 == 0 ? i : kStacks - 1 - i;
        batch.push_back(Dump("t", "seg-" + std::to_string(n), i, kStart + i, stacks[s]));
      }
      results[n] = stores_[n]->AddSnapshots(batch);
    });
  }
  for (std::thread& node : nodes) node.join();
  for (const absl::Status& status : results) ASSERT_TRUE(status.ok()) << status;

  EXPECT_EQ(Count("SELECT count(*) FROM sh_profile_stack"), kStacks);
  // Every node sees the same id for the same frames.
  std::vector<uint64_t> first(kStacks);
  for (int n = 0; n < kNodes; ++n) {
    ASSERT_TRUE(stores_[0]
                    ->ScanDumps("seg-" + std::to_string(n),
                                [&](const StoredDump& d) {
                                  const int s = n % 2 == 0 ? d.sequence : kStacks - 1 - d.sequence;
                                  if (n == 0) first[s] = d.stack_id;
                                  EXPECT_EQ(d.stack_id, first[s]) << "node " << n;
                                })
                    .ok());
  }
  auto frames = stores_[kNodes - 1]->GetStack(first[7]);
  ASSERT_TRUE(frames.ok()) << frames.status();
  EXPECT_EQ(*frames, stacks[7]);
}

TEST_F(PgNodesTest, ATaskWrittenOnOneNodeIsListedByAnother) {
  model::ProfileTask task;
  task.id = "task-1";
  task.service_id = "svc";
  task.duration_minutes = 5;
  ASSERT_TRUE(stores_[0]->PutTask(task).ok());
  auto tasks = stores_[1]->ListTasks();
  ASSERT_TRUE(tasks.ok()) << tasks.status();
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ((*tasks)[0].id, "task-1");
}

TEST_F(PgNodesTest, NodesCreatingTasksOfOneServiceAtOnceStoreOneOfThem) {
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    const std::string service = "svc-" + std::to_string(round);
    std::vector<absl::Status> results(kNodes);
    std::vector<std::thread> nodes;
    for (int n = 0; n < kNodes; ++n) {
      nodes.emplace_back([&, n] {
        model::ProfileTask task;
        task.id = service + "-task-" + std::to_string(n);
        task.service_id = service;
        task.duration_minutes = 5;
        // What ProfileTaskService asks: any stored task of the service conflicts here.
        results[n] = stores_[n]->PutNewTask(
            task, [](const std::vector<model::ProfileTask>& stored) { return !stored.empty(); });
      });
    }
    for (std::thread& node : nodes) node.join();
    int stored = 0;
    for (const absl::Status& status : results) {
      if (status.ok()) {
        ++stored;
      } else {
        EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
      }
    }
    EXPECT_EQ(stored, 1) << service;
    EXPECT_EQ(Count("SELECT count(*) FROM sh_profile_task WHERE service_id = '" + service + "'"),
              1);
  }
}

// Not a test: prints a rough figure of thread-dump ingest on this machine (run with
// --gtest_also_run_disabled_tests). No assertion on time.
TEST_F(PgNodesTest, DISABLED_PrintsTheDumpInsertRate) {
  constexpr int kBatches = 200;
  constexpr int kBatch = 500;
  std::vector<std::vector<std::string>> stacks;
  for (int i = 0; i < 100; ++i) {
    std::vector<std::string> frames;
    for (int f = 0; f < 30; ++f) frames.push_back("com.example.C" + std::to_string(i + f) + ".m");
    stacks.push_back(std::move(frames));
  }
  const auto start = std::chrono::steady_clock::now();
  for (int b = 0; b < kBatches; ++b) {
    std::vector<model::ThreadSnapshot> batch;
    for (int i = 0; i < kBatch; ++i) {
      batch.push_back(Dump("t", "seg-" + std::to_string(b), i, kStart + i, stacks[i % 100]));
    }
    ASSERT_TRUE(stores_[b % kNodes]->AddSnapshots(batch).ok());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto bytes = pools_[0]->Exec(
      "SELECT pg_total_relation_size('sh_profile_dump') + "
      "pg_total_relation_size('sh_profiled_segment')");
  ASSERT_TRUE(bytes.ok());
  std::printf("%d dumps in batches of %d: %.0f dumps/s; %.1f bytes per dump (table + indexes)\n",
              kBatches * kBatch, kBatch, kBatches * kBatch / seconds,
              static_cast<double>(bytes->Int64(0, 0)) / (kBatches * kBatch));
}

}  // namespace
}  // namespace stackhouse::storage::pg
