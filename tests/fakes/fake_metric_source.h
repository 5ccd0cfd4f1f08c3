#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "metrics/mqe.h"

namespace stackhouse::fakes {

// An in-memory metrics::MetricSource for tests of MQE and its resolvers: rows by (metric,
// entity, label value, bucket start) as the test puts them (no roll-up from minutes to hours),
// records by (record, entity) returned as given (no ordering or limit), and the arguments of the
// last TopRecords call. `fail` makes every read fail. Header-only; not thread-safe.
class FakeMetricSource final : public metrics::MetricSource {
 public:
  void Put(const std::string& metric, const std::string& entity, const std::string& label,
           int64_t bucket_ms, metrics::Accumulator row) {
    rows_[{metric, entity}][label][bucket_ms] = std::move(row);
  }
  void PutRecords(const std::string& record, const std::string& entity,
                  std::vector<metrics::SampledRecord> records) {
    records_[{record, entity}] = std::move(records);
  }

  absl::StatusOr<std::vector<metrics::LabeledRows>> ReadRows(
      const metrics::MetricDefinition& metric, absl::string_view entity_id,
      const metrics::TimeBuckets& buckets) override {
    if (fail) return absl::UnavailableError("disk on fire");
    std::vector<metrics::LabeledRows> out;
    auto it = rows_.find({metric.name, std::string(entity_id)});
    if (it == rows_.end()) return out;
    for (const auto& [label, by_bucket] : it->second) {
      metrics::LabeledRows labeled{label, {}};
      bool any = false;
      for (int64_t start : buckets.starts_ms) {
        auto row = by_bucket.find(start);
        labeled.rows.push_back(row == by_bucket.end()
                                   ? std::nullopt
                                   : std::optional<metrics::Accumulator>(row->second));
        any |= row != by_bucket.end();
      }
      if (any) out.push_back(std::move(labeled));
    }
    return out;
  }

  absl::StatusOr<std::vector<metrics::SampledRecord>> TopRecords(absl::string_view record,
                                                                 absl::string_view entity_id,
                                                                 int64_t start_ms, int64_t end_ms,
                                                                 int limit,
                                                                 bool ascending) override {
    if (fail) return absl::UnavailableError("disk on fire");
    last_range = {start_ms, end_ms};
    last_limit = limit;
    last_ascending = ascending;
    auto it = records_.find({std::string(record), std::string(entity_id)});
    if (it == records_.end()) return std::vector<metrics::SampledRecord>{};
    return it->second;
  }

  bool fail = false;
  std::pair<int64_t, int64_t> last_range;
  int last_limit = 0;
  bool last_ascending = false;

 private:
  std::map<std::pair<std::string, std::string>,
           std::map<std::string, std::map<int64_t, metrics::Accumulator>>>
      rows_;
  std::map<std::pair<std::string, std::string>, std::vector<metrics::SampledRecord>> records_;
};

}  // namespace stackhouse::fakes
