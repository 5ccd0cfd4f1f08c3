#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "metrics/accumulator.h"
#include "metrics/meter_analyzer.h"

// The stored form of metric rows and relation rows in the meter family (one family, told apart
// by the key's first byte), and the merge of two stored values of one key, which RocksDB's
// merge operator calls so that writers add to a row without reading it. Thread-safe functions.
namespace stackhouse::storage {

inline constexpr char kMetricRowTag = 'm';
inline constexpr char kRelationRowTag = 'r';
inline constexpr char kIntakeLogTag = 'w';

// The granularity of a metric row; its byte in the key.
enum class BucketStep : char { kMinute = '1', kHour = 'h', kDay = 'd' };

// 'm', step, metric, entity: the prefix of one series' rows; the bucket start and the label
// value follow.
std::string MetricSeriesPrefix(BucketStep step, absl::string_view metric,
                               absl::string_view entity_id);
// The length of `key`'s series prefix (what MetricSeriesPrefix makes) if `key` is a metric row
// key, else 0.
size_t MetricSeriesPrefixLength(absl::string_view key);
// The key of one metric row.
std::string MetricRowKey(BucketStep step, absl::string_view metric, absl::string_view entity_id,
                         int64_t bucket_ms, absl::string_view label_value);
// The same key from the series' MetricSeriesPrefix of any step (which it replaces by `step`).
std::string MetricRowKey(absl::string_view series_prefix, BucketStep step, int64_t bucket_ms,
                         absl::string_view label_value);

// The key of intake log record `sequence`: 'w', the sequence (8 bytes, big-endian).
std::string IntakeLogKey(uint64_t sequence);
// The sequence of an intake log key, or nullopt if `key` is not one.
std::optional<uint64_t> IntakeLogSequence(absl::string_view key);

// An intake log record: metric updates of one minute, as RocksMetricStore logs them before it
// folds them. `updates` must have a metric each and `minute_ms` as their minute. Bytes: the
// minute (zigzag varint), the distinct strings (metric names, entities, labels; a varint count,
// then each as varint length + bytes), then a varint count of updates, each as the varint
// indexes of its metric, entity and label among the strings and its accumulator (varint length +
// EncodeAccumulator).
std::string EncodeIntakeLog(int64_t minute_ms,
                            const std::vector<const metrics::MetricUpdate*>& updates);
struct IntakeLogRecord {
  int64_t minute_ms = 0;
  std::vector<metrics::MetricUpdate> updates;
  int64_t unknown_metrics = 0;  // updates of metrics the catalog no longer has, left out
};
// nullopt if `bytes` is not such a record.
std::optional<IntakeLogRecord> DecodeIntakeLog(absl::string_view bytes);

// An accumulator's bytes: zigzag varints sum, count, then the bucket count and (key, count)
// pairs in ascending key order.
std::string EncodeAccumulator(const metrics::Accumulator& row);
std::optional<metrics::Accumulator> DecodeAccumulator(absl::string_view bytes);

// A relation row's bytes are its component id (varint).
std::string EncodeComponent(int component_id);
std::optional<int> DecodeComponent(absl::string_view bytes);

// The priority of a component when two writes of one relation row disagree (addendum §5.1:
// tcp 10, tls 11, http 45, https 46, any other 50); the higher wins, a tie keeps the first.
int ComponentPriority(int component_id);

// Merges `operand` into `existing` (nullopt: the key had no value) for the row under `key`
// (payloads, without the stored timestamp). A side that cannot be decoded is dropped (the other
// is kept) rather than making the row unreadable for ever; false only if neither can be decoded.
bool MergeMeterPayloads(absl::string_view key, std::optional<absl::string_view> existing,
                        absl::string_view operand, std::string* merged);

}  // namespace stackhouse::storage
