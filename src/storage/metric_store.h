#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "metrics/meter_analyzer.h"
#include "metrics/mqe.h"
#include "metrics/sampled_trace.h"

// Metrics computed from meters (addendum §2): one row per metric, entity, label value and time
// bucket, accumulated durably (a write adds to the row; it never reads it first), at minute,
// hour and day granularity; the process-relation rows the process topology is built from
// (§5.1, minute buckets only); and, as metrics::MetricSource, what MQE reads.
namespace stackhouse::storage {

class MetricStore : public metrics::MetricSource {
 public:
  ~MetricStore() override = default;

  // Adds every update to its minute row and to the hour and day rows that contain it (bucket
  // starts in the store's time zone), atomically; durable once OK. Updates of one row may
  // repeat: they add.
  virtual absl::Status AddMetrics(const std::vector<metrics::MetricUpdate>& updates) = 0;

  // Records the relation rows atomically. Two writes of one row (instance, side, client,
  // server, minute) keep the component of higher priority (tls > tcp, https > http > both;
  // a tie keeps the first).
  virtual absl::Status AddRelations(const std::vector<metrics::RelationRow>& rows) = 0;

  // Stores sampled requests (network profiling) durably, under their record name and relation
  // entity, for recordDataTTL after their time; TopRecords reads them. One request (record,
  // entity, time, trace id) stored twice is kept once.
  virtual absl::Status AddSampledRecords(const std::vector<metrics::SampledTrace>& records) = 0;

  // The live relation rows of `instance_id` whose minute lies in [start_minute_ms,
  // end_minute_ms], ordered by minute, side, client, server.
  virtual absl::StatusOr<std::vector<metrics::RelationRow>> ReadRelations(
      absl::string_view instance_id, int64_t start_minute_ms, int64_t end_minute_ms) const = 0;
};

}  // namespace stackhouse::storage
