#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "storage/metric_store.h"
#include "storage/pending_metric_rows.h"
#include "storage/pg/pg_pool.h"
#include "storage/pg/pg_store_options.h"

namespace stackhouse::storage::pg {

// MetricStore on PostgreSQL.
//
// Tables: sh_metric (metric, entity, step, bucket start, label → sum, count, histogram buckets,
// stamp), one row per metric row of each granularity (minute, hour, day; hour and day buckets
// start at the hour and midnight of `zone`); sh_metric_intake, the meter intake log;
// sh_metric_relation (instance, minute, side, client, server → component); and
// sh_sampled_record (record, entity, time, trace id → latency, uri).
//
// Metric updates go through an intake log and a fold, as RocksMetricStore's do. AddMetrics
// inserts one intake record per entity and minute of the call (its updates as metric_codec's
// intake-log bytes), in one statement: durable once OK. The node also adds them to its pending
// rows in memory. When the newest minute it has seen advances, the node folds the minutes before
// the one preceding it: their rows, summed over every report, become one upsert per minute, hour
// and day row (INSERT … ON CONFLICT DO UPDATE adding, saturating as Accumulator::Merge does; a
// row stamped at or before the metrics cutoff starts afresh), in one transaction with the
// deletion of the intake records they came from. Rows are upserted in key order, so two nodes do
// not deadlock on them (a deadlock is retried).
//
// Readers need no node's memory: ReadRows reads the rows and the entity's unfolded intake
// records in one statement (one snapshot), so every addition is counted once on every node, at
// once, whether it was folded yet or not, and whichever node took it.
//
// Records no node folds (their node died, or stopped before folding) are folded by any node that
// sweeps them: AddMetrics sweeps records written more than kOrphanAgeMs ago, at most once a
// minute. A node that finds some of its own records gone when it folds (swept while it was slow)
// reads back the rest and folds those. A node also folds a minute it has held for
// kMaxPendingAgeMs (its reporters stopped, or report an old time) with those before it, and
// everything when it is destroyed (best effort). Relation rows expire metricsDataTTL after their
// minute, sampled records recordDataTTL after their time. Thread-safe.
class PgMetricStore final : public MetricStore {
 public:
  // Pending rows at which a node folds everything it holds.
  static constexpr size_t kDefaultMaxPendingRows = 2'000'000;
  // Intake records written this long ago are folded by whichever node sweeps them.
  static constexpr int64_t kOrphanAgeMs = 5 * 60'000;
  // A node folds a minute (and those before it) once it has held it this long.
  static constexpr int64_t kMaxPendingAgeMs = 2 * 60'000;

  // `pool` and `clock` must outlive the store.
  PgMetricStore(Pool* pool, const Clock* clock, const StoreOptions& options, absl::TimeZone zone,
                size_t max_pending_rows = kDefaultMaxPendingRows)
      : pool_(pool),
        clock_(clock),
        options_(options),
        zone_(zone),
        max_pending_rows_(max_pending_rows) {}
  // Folds what the node holds (logged when it cannot: the records stay for a sweep).
  ~PgMetricStore() override;

  absl::Status AddMetrics(const std::vector<metrics::MetricUpdate>& updates) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status AddRelations(const std::vector<metrics::RelationRow>& rows) override;
  absl::Status AddSampledRecords(const std::vector<metrics::SampledTrace>& records) override;
  absl::StatusOr<std::vector<metrics::RelationRow>> ReadRelations(
      absl::string_view instance_id, int64_t start_minute_ms, int64_t end_minute_ms) const override;
  absl::StatusOr<std::vector<metrics::LabeledRows>> ReadRows(
      const metrics::MetricDefinition& metric, absl::string_view entity_id,
      const metrics::TimeBuckets& buckets) override;
  absl::StatusOr<std::vector<metrics::SampledRecord>> TopRecords(absl::string_view record,
                                                                 absl::string_view entity_id,
                                                                 int64_t start_ms, int64_t end_ms,
                                                                 int limit,
                                                                 bool ascending) override;

  // Folds every row the node holds now (never needed for correctness), unless a fold is running.
  // On an error the rows stay pending.
  absl::Status FoldAll() ABSL_LOCKS_EXCLUDED(mu_);
  // Folds the intake records, of any node, written at or before now - `min_age_ms` and not held
  // by this node, up to 10,000 of them (the oldest). Records another node is sweeping are skipped.
  absl::Status SweepOrphans(int64_t min_age_ms = kOrphanAgeMs) ABSL_LOCKS_EXCLUDED(mu_);

  // Pending rows, and intake records not yet folded, of this node.
  size_t pending_rows() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t pending_log_records() const ABSL_LOCKS_EXCLUDED(mu_);

  // The start of the hour / day bucket that holds `minute_ms`, in the store's zone.
  int64_t HourStart(int64_t minute_ms) const;
  int64_t DayStart(int64_t minute_ms) const;

 private:
  int64_t BucketOf(metrics::Step step, int64_t minute_ms) const;
  int64_t MetricsCutoff() const { return Cutoff(clock_->NowMillis(), options_.metrics_ttl_ms); }
  // Runs a write, again when it deadlocked with another node's (up to 3 times in all).
  absl::Status Write(const std::string& name, absl::string_view sql, const Params& params);
  // Folds the pending minutes before `cutoff_ms` (all of them for INT64_MAX), unless a fold is
  // running.
  absl::Status Fold(int64_t cutoff_ms) ABSL_LOCKS_EXCLUDED(mu_);
  // In one transaction of `conn`: deletes intake records `seqs` (FailedPrecondition, rolling
  // back, when some are gone: another node folded them) and upserts the rows of `minutes`.
  absl::Status WriteFold(Connection& conn, const PendingMinutes& minutes,
                         const std::vector<int64_t>& seqs);

  // Constant after construction.
  Pool* const pool_;
  const Clock* const clock_;
  const StoreOptions options_;
  const absl::TimeZone zone_;
  const size_t max_pending_rows_;

  mutable absl::Mutex mu_;
  PendingMinutes pending_ ABSL_GUARDED_BY(mu_);
  size_t pending_rows_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t newest_minute_ ABSL_GUARDED_BY(mu_) = INT64_MIN;
  // Pending minute → when the node began holding it (clock time).
  std::map<int64_t, int64_t> first_held_ms_ ABSL_GUARDED_BY(mu_);
  int64_t last_sweep_ms_ ABSL_GUARDED_BY(mu_) = INT64_MIN;
  bool fold_running_ ABSL_GUARDED_BY(mu_) = false;
  // The relation rows this node wrote lately: a report naming one again writes nothing unless
  // its component has a higher priority (what another node wrote is written again, harmlessly).
  RecentRelations written_relations_;

  // Intake records of the running fold (not to be swept by this node).
  std::vector<int64_t> folding_seqs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stackhouse::storage::pg
