#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "metrics/meter_analyzer.h"
#include "metrics/mqe.h"

// What both metric stores (RocksMetricStore, pg::PgMetricStore) keep in memory: the metric rows
// of a minute before they fold them into their stored rows, and the relation rows they wrote
// lately.
namespace stackhouse::storage {

// Metric rows of one minute: (metric, entity) → label → accumulator, and the intake log records
// they came from. Not thread-safe: the stores guard it.
class PendingMinute {
 public:
  // A series: the catalog's definition and the entity's number within the minute. Entities are
  // numbered so that a series is found by two words instead of hashing and comparing a 129-byte
  // relation id per update.
  using SeriesKey = std::pair<const metrics::MetricDefinition*, uint32_t>;
  using LabelRows = std::map<std::string, metrics::Accumulator, std::less<>>;

  // Adds `count` updates (each with a metric, all of this minute) from log record `record`;
  // returns the rows it added.
  size_t Add(const metrics::MetricUpdate* const* updates, size_t count, uint64_t record);
  // Adds every row and log record of `other`; returns the rows it added.
  size_t Merge(const PendingMinute& other);

  // The rows of (metric, entity), or null.
  const LabelRows* Find(const metrics::MetricDefinition* metric, absl::string_view entity) const;

  const absl::flat_hash_map<SeriesKey, LabelRows>& series() const { return series_; }
  // The entity of a series' number.
  const std::string& entity(uint32_t number) const { return entities_[number]; }
  const std::vector<uint64_t>& log_records() const { return log_records_; }
  size_t rows() const { return rows_; }

 private:
  // The number of `entity`, numbering it if it has none yet.
  uint32_t EntityNumber(absl::string_view entity);

  std::deque<std::string> entities_;  // by number; a deque: the views below stay valid
  absl::flat_hash_map<absl::string_view, uint32_t> entity_numbers_;
  absl::flat_hash_map<SeriesKey, LabelRows> series_;
  std::vector<uint64_t> log_records_;
  size_t rows_ = 0;
};

// The start of the `step` bucket that holds `minute_ms`: the minute itself, or the start of its
// hour or day in `zone`.
int64_t BucketStart(metrics::Step step, int64_t minute_ms, absl::TimeZone zone);

// Pending minutes by minute start.
using PendingMinutes = std::map<int64_t, PendingMinute>;

// The relation rows a store wrote in the last two minutes (by their newest minute) and their
// components: every report of a minute names the same relations again, and writing a row again
// changes nothing unless its component has a higher priority (the stores keep the higher one).
// Thread-safe.
class RecentRelations {
 public:
  // Rows remembered at most; beyond, the memory starts afresh.
  static constexpr size_t kMaxRemembered = 1'000'000;

  // The rows of `rows` a write would change: not written in the last two minutes, or with a
  // component of higher priority than written. Two of one key in `rows` are both kept.
  std::vector<const metrics::RelationRow*> ToWrite(
      const std::vector<metrics::RelationRow>& rows) const ABSL_LOCKS_EXCLUDED(mu_);
  // Remembers `written` (rows a write committed).
  void Remember(const std::vector<const metrics::RelationRow*>& written) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  static std::string Key(const metrics::RelationRow& row);

  mutable absl::Mutex mu_;
  // key → (minute, component)
  absl::flat_hash_map<std::string, std::pair<int64_t, int>> written_ ABSL_GUARDED_BY(mu_);
  int64_t newest_minute_ ABSL_GUARDED_BY(mu_) = INT64_MIN;
};

}  // namespace stackhouse::storage
