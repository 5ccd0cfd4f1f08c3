#pragma once

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "storage/pg/pg_pool.h"
#include "storage/pg/pg_store_options.h"

namespace stackhouse::storage::pg {

inline constexpr int64_t kPartitionMs = 24LL * 3600 * 1000;  // one UTC day

// Which retention period a table's rows have.
enum class TtlOf {
  kRecord,      // storage.recordDataTTL
  kMetrics,     // storage.metricsDataTTL
  kDictionary,  // a stack dictionary: recordDataTTL + kDictionaryRefreshMs (pg_stack_dictionary.h)
};
// That period in `ttl` (0: none).
int64_t TtlMs(const StoreOptions& ttl, TtlOf of);

// A table partitioned by range of `column` (schema migration 6): partition `<name>_pYYYYMMDD`
// holds the rows of one UTC day, `<name>_pdefault` every row outside the day partitions (an
// agent's clock far off, a day not created yet).
struct PartitionedTable {
  const char* name;
  const char* column;
  TtlOf ttl;
  int64_t margin_ms;  // how much later than `column` a row's liveness time may be
};
// Every partitioned table of the schema.
const std::vector<PartitionedTable>& PartitionedTables();

// A table of few rows per day whose expired rows are deleted (not worth partitions): a row is
// expired when `column` <= the cutoff of its TTL. `column` is indexed where the table is large.
struct ExpiringTable {
  const char* name;
  const char* column;
  TtlOf ttl;
};
const std::vector<ExpiringTable>& ExpiringTables();

// Settings of a PartitionKeeper.
struct PartitionKeeperOptions {
  StoreOptions ttl;
  // RunOnce every this long on the keeper's thread.
  int64_t interval_ms = 10 * 60 * 1000;
  // Day partitions are created from yesterday to this many days after today.
  int days_ahead = 2;
  // A DDL statement waits at most this long for its table lock (then the table is tried again
  // next time), so that a long query does not make every writer queue behind the keeper.
  int64_t lock_timeout_ms = 2000;
};

// What one RunOnce did.
struct PartitionReport {
  int created = 0;      // day partitions
  int dropped = 0;      // expired day partitions
  int64_t moved = 0;    // rows moved from a default partition into a new day partition
  int64_t deleted = 0;  // expired rows deleted (default partitions, expiring tables)
  int skipped = 0;      // tables another node was keeping at that moment
  std::vector<std::string> failures;  // "table: error", one per table that failed
};

// Keeps the partitions of PartitionedTables(): creates the day partitions from yesterday to
// `days_ahead` days ahead (and of every live day the default partition holds rows of, moving
// them in), drops a day partition once all its rows expired, deletes the expired rows of the
// default partitions and of ExpiringTables(). Retention therefore never scans a large table.
// Every node runs one; per table, a transaction-scoped advisory lock lets one node at a time
// keep it (the others skip it). Readers already hide expired rows, so a late drop changes no
// answer, only disk. Thread-safe.
class PartitionKeeper {
 public:
  // `pool` and `clock` must outlive the keeper.
  PartitionKeeper(Pool* pool, const Clock* clock, PartitionKeeperOptions options);
  ~PartitionKeeper();  // Stop()
  PartitionKeeper(const PartitionKeeper&) = delete;
  PartitionKeeper& operator=(const PartitionKeeper&) = delete;

  // One pass over every table at the clock's now, one transaction per partitioned table. A
  // table that fails (the database lost, a lock not granted in time) is reported in `failures`
  // and left as it was; the others are still kept.
  PartitionReport RunOnce();
  // RunOnce every interval_ms on a thread of its own (logging what it did) until Stop.
  void Start() ABSL_LOCKS_EXCLUDED(mu_);
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Status KeepTable(const PartitionedTable& table, int64_t now_ms, PartitionReport* report);

  Pool* const pool_;
  const Clock* const clock_;
  const PartitionKeeperOptions options_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace stackhouse::storage::pg
