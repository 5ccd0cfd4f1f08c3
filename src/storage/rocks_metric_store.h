#pragma once

#include "absl/time/time.h"
#include "storage/database.h"
#include "storage/metric_store.h"

namespace stackhouse::storage {

// MetricStore on RocksDB, in the meter family (metrics TTL; sampled records in the
// sampled_record family, record TTL), written with merges only (see
// metric_codec.h for the keys): a metric update is three merge operands (its minute, hour and
// day rows), so an acknowledged report survives a crash without a read-modify-write, and
// concurrent reporters never lose each other's additions. Hour and day buckets start at the
// hour and midnight of `zone` (the server's). Thread-safe.
class RocksMetricStore final : public MetricStore {
 public:
  // `db` must outlive the store.
  RocksMetricStore(Database* db, absl::TimeZone zone) : db_(db), zone_(zone) {}

  absl::Status AddMetrics(const std::vector<metrics::MetricUpdate>& updates) override;
  absl::Status AddRelations(const std::vector<metrics::RelationRow>& rows) override;
  absl::Status AddSampledRecords(const std::vector<metrics::SampledTrace>& records) override;
  absl::StatusOr<std::vector<metrics::RelationRow>> ReadRelations(
      absl::string_view instance_id, int64_t start_minute_ms, int64_t end_minute_ms) const override;

  absl::StatusOr<std::vector<metrics::LabeledRows>> ReadRows(
      const metrics::MetricDefinition& metric, absl::string_view entity_id,
      const metrics::TimeBuckets& buckets) override;
  // Reads every record of the entity in the range (sampled_record family: record, entity, time,
  // trace id → latency, uri) and keeps the `limit` of highest (lowest) latency, ties by time.
  absl::StatusOr<std::vector<metrics::SampledRecord>> TopRecords(absl::string_view record,
                                                                 absl::string_view entity_id,
                                                                 int64_t start_ms, int64_t end_ms,
                                                                 int limit,
                                                                 bool ascending) override;

  // The start of the hour / day bucket that holds `minute_ms`, in the store's zone.
  int64_t HourStart(int64_t minute_ms) const;
  int64_t DayStart(int64_t minute_ms) const;

 private:
  Database* const db_;
  const absl::TimeZone zone_;
};

}  // namespace stackhouse::storage
