#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/clock.h"
#include "storage/metric_store.h"
#include "storage/pg/pg_pool.h"
#include "storage/pg/pg_store_options.h"

namespace stackhouse::storage::pg {

// MetricStore on PostgreSQL.
//
// Tables: sh_metric (metric, entity, step, bucket start, label → sum, count, stamp) and
// sh_metric_bucket (the same key and a histogram bucket key → count), one row per metric row of
// each granularity (minute, hour, day; hour and day buckets start at the hour and midnight of
// `zone`); sh_metric_relation (instance, minute, side, client, server → component); and
// sh_sampled_record (record, entity, time, trace id → latency, uri). Every call is one
// statement, so it is applied whole or not at all, and durable when OK. Rows accumulate in the
// database (INSERT … ON CONFLICT DO UPDATE adding, saturating as Accumulator::Merge does), so
// nodes that write the same rows at once add up exactly, and nothing is kept in memory: any node
// reads what every node wrote. Rows are written in key order, so two nodes do not deadlock on
// them (a deadlock would be retried). A row is stamped with the newest minute written into it
// and expires metricsDataTTL after that; one written again after it expired starts afresh.
// Relation rows expire metricsDataTTL after their minute, sampled records recordDataTTL after
// their time. Thread-safe.
class PgMetricStore final : public MetricStore {
 public:
  // `pool` and `clock` must outlive the store.
  PgMetricStore(Pool* pool, const Clock* clock, const StoreOptions& options, absl::TimeZone zone)
      : pool_(pool), clock_(clock), options_(options), zone_(zone) {}

  absl::Status AddMetrics(const std::vector<metrics::MetricUpdate>& updates) override;
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

  // The start of the hour / day bucket that holds `minute_ms`, in the store's zone.
  int64_t HourStart(int64_t minute_ms) const;
  int64_t DayStart(int64_t minute_ms) const;

 private:
  int64_t MetricsCutoff() const { return Cutoff(clock_->NowMillis(), options_.metrics_ttl_ms); }
  // Runs a write, again when it deadlocked with another node's (up to 3 times in all).
  absl::Status Write(const std::string& name, absl::string_view sql, const Params& params);

  // Constant after construction.
  Pool* const pool_;
  const Clock* const clock_;
  const StoreOptions options_;
  const absl::TimeZone zone_;
};

}  // namespace stackhouse::storage::pg
