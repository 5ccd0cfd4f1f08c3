#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/database.h"
#include "storage/metric_store.h"
#include "storage/pending_metric_rows.h"

namespace stackhouse::storage {

// MetricStore on RocksDB, in the meter family (metrics TTL; sampled records in the
// sampled_record family, record TTL); see metric_codec.h for the keys.
//
// Metric updates are made durable by an intake log and folded in memory: AddMetrics writes one
// log record per minute the call touches (`w` + sequence → the call's updates of that minute,
// names written once per record) and adds the updates to the pending rows of their minute, in
// memory. When the newest minute seen advances, the minutes before the one preceding it (closed
// ones: Rover reports every 5 s) are folded: their rows, summed over every report, become one
// merge operand per minute, hour and day row, written in one atomic batch with the deletion of
// the log records they came from. A crash before the fold's batch replays the log (Open); after
// it, the log records are gone: no addition is lost or counted twice. Readers see the stored
// rows plus the pending ones. Stored rows are merged, never read-modify-written, so a late
// report of a folded minute adds to it. Hour and day buckets start at the hour and midnight of
// `zone` (the server's). Thread-safe.
class RocksMetricStore final : public MetricStore {
 public:
  // Pending rows (metric, entity, label, minute) at which everything pending is folded, whatever
  // the minutes.
  static constexpr size_t kDefaultMaxPendingRows = 2'000'000;

  // Opens the store over `db` (which must outlive it), replaying the intake log into the
  // pending rows. Errors: the log cannot be read.
  static absl::StatusOr<std::unique_ptr<RocksMetricStore>> Open(
      Database* db, absl::TimeZone zone, size_t max_pending_rows = kDefaultMaxPendingRows);

  absl::Status AddMetrics(const std::vector<metrics::MetricUpdate>& updates) override
      ABSL_LOCKS_EXCLUDED(mu_, fold_mu_);
  // Writes only rows it has not written yet in the last two minutes, or with a component of
  // higher priority than written (writing the others again would change nothing).
  absl::Status AddRelations(const std::vector<metrics::RelationRow>& rows) override;
  absl::Status AddSampledRecords(const std::vector<metrics::SampledTrace>& records) override;
  absl::StatusOr<std::vector<metrics::RelationRow>> ReadRelations(
      absl::string_view instance_id, int64_t start_minute_ms, int64_t end_minute_ms) const override;

  absl::StatusOr<std::vector<metrics::LabeledRows>> ReadRows(
      const metrics::MetricDefinition& metric, absl::string_view entity_id,
      const metrics::TimeBuckets& buckets) override ABSL_LOCKS_EXCLUDED(mu_, fold_mu_);
  // Reads every record of the entity in the range (sampled_record family: record, entity, time,
  // trace id → latency, uri) and keeps the `limit` of highest (lowest) latency, ties by time.
  absl::StatusOr<std::vector<metrics::SampledRecord>> TopRecords(absl::string_view record,
                                                                 absl::string_view entity_id,
                                                                 int64_t start_ms, int64_t end_ms,
                                                                 int limit,
                                                                 bool ascending) override;

  // Folds every pending row into the stored rows now (for a measurement or a clean shutdown;
  // never needed for correctness), unless another fold is running (then what that one did not
  // take stays pending). On an error the rows stay pending.
  absl::Status FoldAll() ABSL_LOCKS_EXCLUDED(mu_, fold_mu_);

  // Pending rows, and intake log records not yet folded.
  size_t pending_rows() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t pending_log_records() const ABSL_LOCKS_EXCLUDED(mu_);

  // The start of the hour / day bucket that holds `minute_ms`, in the store's zone.
  int64_t HourStart(int64_t minute_ms) const;
  int64_t DayStart(int64_t minute_ms) const;

 private:
  RocksMetricStore(Database* db, absl::TimeZone zone, size_t max_pending_rows)
      : db_(db), zone_(zone), max_pending_rows_(max_pending_rows) {}

  // Adds `updates` (all of `minute_ms`) from log record `record` to the pending rows.
  void AddPendingLocked(int64_t minute_ms, const metrics::MetricUpdate* const* updates,
                        size_t count, uint64_t record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Folds the pending minutes before `cutoff_ms` (all of them for INT64_MAX), unless another
  // fold is running.
  absl::Status Fold(int64_t cutoff_ms) ABSL_LOCKS_EXCLUDED(mu_, fold_mu_);
  int64_t BucketOf(metrics::Step step, int64_t minute_ms) const;

  // Constant after construction.
  Database* const db_;
  const absl::TimeZone zone_;
  const size_t max_pending_rows_;

  std::atomic<uint64_t> next_record_{0};

  // Held shared by readers across their look at the pending rows and their read of the stored
  // ones, and exclusively by a fold across the write that moves rows from one to the other, so
  // that a reader counts every row once.
  mutable absl::Mutex fold_mu_ ABSL_ACQUIRED_BEFORE(mu_);

  mutable absl::Mutex mu_;
  PendingMinutes pending_ ABSL_GUARDED_BY(mu_);
  // The minutes a running fold is writing: still read from memory until the write is done.
  std::shared_ptr<const PendingMinutes> folding_ ABSL_GUARDED_BY(mu_);
  size_t folding_rows_ ABSL_GUARDED_BY(mu_) = 0;
  bool fold_running_ ABSL_GUARDED_BY(mu_) = false;
  int64_t newest_minute_ ABSL_GUARDED_BY(mu_) = INT64_MIN;
  size_t pending_rows_ ABSL_GUARDED_BY(mu_) = 0;
  // Log records that could not be read at Open: deleted by the next fold.
  std::vector<uint64_t> unreadable_records_ ABSL_GUARDED_BY(mu_);

  // The relation rows written lately: a report naming one again writes nothing unless its
  // component has a higher priority.
  RecentRelations written_relations_;
};

}  // namespace stackhouse::storage
