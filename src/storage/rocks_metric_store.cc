#include "storage/rocks_metric_store.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "storage/key_codec.h"
#include "storage/metric_codec.h"
#include "storage/varint.h"

namespace stackhouse::storage {
namespace {

BucketStep StepOf(metrics::Step step) {
  switch (step) {
    case metrics::Step::kMinute:
      return BucketStep::kMinute;
    case metrics::Step::kHour:
      return BucketStep::kHour;
    case metrics::Step::kDay:
      return BucketStep::kDay;
  }
  return BucketStep::kMinute;
}

std::string RelationPrefix(absl::string_view instance_id) {
  std::string key(1, kRelationRowTag);
  AppendString(&key, instance_id);
  return key;
}

}  // namespace

int64_t RocksMetricStore::HourStart(int64_t minute_ms) const {
  absl::Time t = absl::FromUnixMillis(minute_ms);
  return absl::ToUnixMillis(absl::FromCivil(absl::ToCivilHour(t, zone_), zone_));
}

int64_t RocksMetricStore::DayStart(int64_t minute_ms) const {
  absl::Time t = absl::FromUnixMillis(minute_ms);
  return absl::ToUnixMillis(absl::FromCivil(absl::ToCivilDay(t, zone_), zone_));
}

absl::Status RocksMetricStore::AddMetrics(const std::vector<metrics::MetricUpdate>& updates) {
  if (updates.empty()) return absl::OkStatus();
  struct Operand {
    std::string key;
    int64_t timestamp_ms;
    const std::string* value;
  };
  std::vector<std::string> values;
  values.reserve(updates.size());  // never reallocates: the operands point into it
  std::vector<Operand> operands;
  operands.reserve(updates.size() * 3);
  // Most updates of one call share their minute: convert it to civil time once.
  int64_t cached_minute = 0, hour = 0, day = 0;
  bool cached = false;
  for (const metrics::MetricUpdate& u : updates) {
    if (u.metric == nullptr) continue;
    if (!cached || u.minute_ms != cached_minute) {
      cached_minute = u.minute_ms;
      hour = HourStart(u.minute_ms);
      day = DayStart(u.minute_ms);
      cached = true;
    }
    values.push_back(EncodeAccumulator(u.delta));
    const std::string* value = &values.back();
    operands.push_back(
        {MetricRowKey(BucketStep::kMinute, u.metric->name, u.entity_id, u.minute_ms, u.label_value),
         u.minute_ms, value});
    operands.push_back(
        {MetricRowKey(BucketStep::kHour, u.metric->name, u.entity_id, hour, u.label_value),
         u.minute_ms, value});
    operands.push_back(
        {MetricRowKey(BucketStep::kDay, u.metric->name, u.entity_id, day, u.label_value),
         u.minute_ms, value});
  }
  // In key order, RocksDB's memtable inserts each key next to the previous one (its skip list
  // reuses the last insert's position) instead of searching from the top for every key. Merges
  // commute (additions), so the order within the batch changes nothing else.
  std::sort(operands.begin(), operands.end(),
            [](const Operand& a, const Operand& b) { return a.key < b.key; });
  WriteBatch batch;
  for (const Operand& o : operands) batch.Merge(Family::kMeter, o.key, o.timestamp_ms, *o.value);
  return db_->Write(std::move(batch));
}

absl::Status RocksMetricStore::AddRelations(const std::vector<metrics::RelationRow>& rows) {
  if (rows.empty()) return absl::OkStatus();
  WriteBatch batch;
  for (const metrics::RelationRow& row : rows) {
    std::string key = RelationPrefix(row.instance_id);
    AppendInt64(&key, row.minute_ms);
    key.push_back(row.server_side ? 's' : 'c');
    AppendString(&key, row.client_process_id);
    AppendString(&key, row.server_process_id);
    batch.Merge(Family::kMeter, key, row.minute_ms, EncodeComponent(row.component_id));
  }
  return db_->Write(std::move(batch));
}

absl::StatusOr<std::vector<metrics::RelationRow>> RocksMetricStore::ReadRelations(
    absl::string_view instance_id, int64_t start_minute_ms, int64_t end_minute_ms) const {
  std::vector<metrics::RelationRow> rows;
  if (end_minute_ms < start_minute_ms) return rows;
  const std::string prefix = RelationPrefix(instance_id);
  std::string begin = prefix, end = prefix;
  AppendInt64(&begin, start_minute_ms);
  if (end_minute_ms == INT64_MAX) {
    end = PrefixSuccessor(prefix);
  } else {
    AppendInt64(&end, end_minute_ms + 1);
  }
  absl::Status decode_error;
  absl::Status s = db_->Scan(Family::kMeter, begin, end, [&](const Record& record) {
    // After the prefix: minute (8 bytes), side ('c' or 's'), client, server.
    absl::string_view rest = absl::string_view(record.key).substr(prefix.size());
    metrics::RelationRow row;
    row.instance_id = std::string(instance_id);
    KeyReader minute(rest);
    std::optional<int> component = DecodeComponent(record.value);
    if (!minute.ReadInt64(&row.minute_ms) || rest.size() < 9 || !component) {
      decode_error = absl::DataLossError(absl::StrCat("unreadable relation row of ", instance_id));
      return false;
    }
    const char side_byte = rest[8];
    KeyReader names(rest.substr(9));
    if (!names.ReadString(&row.client_process_id) || !names.ReadString(&row.server_process_id)) {
      decode_error = absl::DataLossError(absl::StrCat("unreadable relation row of ", instance_id));
      return false;
    }
    row.server_side = side_byte == 's';
    row.component_id = *component;
    rows.push_back(std::move(row));
    return true;
  });
  if (!s.ok()) return s;
  if (!decode_error.ok()) return decode_error;
  return rows;
}

absl::StatusOr<std::vector<metrics::LabeledRows>> RocksMetricStore::ReadRows(
    const metrics::MetricDefinition& metric, absl::string_view entity_id,
    const metrics::TimeBuckets& buckets) {
  std::vector<metrics::LabeledRows> series;
  if (buckets.starts_ms.empty()) return series;
  absl::flat_hash_map<int64_t, size_t> index_of;
  int64_t first = buckets.starts_ms.front(), last = buckets.starts_ms.front();
  for (size_t i = 0; i < buckets.starts_ms.size(); ++i) {
    index_of.emplace(buckets.starts_ms[i], i);
    first = std::min(first, buckets.starts_ms[i]);
    last = std::max(last, buckets.starts_ms[i]);
  }
  const std::string prefix = MetricSeriesPrefix(StepOf(buckets.step), metric.name, entity_id);
  std::string begin = prefix, end = prefix;
  AppendInt64(&begin, first);
  if (last == INT64_MAX) {
    end = PrefixSuccessor(prefix);
  } else {
    AppendInt64(&end, last + 1);
  }
  absl::flat_hash_map<std::string, size_t> series_of;
  absl::Status decode_error;
  absl::Status s = db_->Scan(Family::kMeter, begin, end, [&](const Record& record) {
    KeyReader reader(absl::string_view(record.key).substr(prefix.size()));
    int64_t bucket;
    std::optional<metrics::Accumulator> row = DecodeAccumulator(record.value);
    if (!reader.ReadInt64(&bucket) || !row) {
      decode_error = absl::DataLossError(
          absl::StrCat("unreadable row of metric ", metric.name, " for ", entity_id));
      return false;
    }
    auto slot = index_of.find(bucket);
    if (slot == index_of.end()) return true;  // a bucket between the requested ones
    std::string label = record.key.substr(prefix.size() + 8);
    auto [it, inserted] = series_of.try_emplace(label, series.size());
    if (inserted) {
      series.push_back(
          {label, std::vector<std::optional<metrics::Accumulator>>(buckets.starts_ms.size())});
    }
    series[it->second].rows[slot->second] = std::move(*row);
    return true;
  });
  if (!s.ok()) return s;
  if (!decode_error.ok()) return decode_error;
  std::sort(series.begin(), series.end(),
            [](const auto& a, const auto& b) { return a.label_value < b.label_value; });
  return series;
}

namespace {

std::string RecordPrefix(absl::string_view record, absl::string_view entity_id) {
  std::string key;
  AppendString(&key, record);
  AppendString(&key, entity_id);
  return key;
}

}  // namespace

absl::Status RocksMetricStore::AddSampledRecords(
    const std::vector<metrics::SampledTrace>& records) {
  if (records.empty()) return absl::OkStatus();
  WriteBatch batch;
  for (const metrics::SampledTrace& r : records) {
    std::string key = RecordPrefix(r.record, r.entity_id);
    AppendInt64(&key, r.value.timestamp_ms);
    key.append(r.value.trace_id);
    std::string value;
    PutVarint64(&value, static_cast<uint64_t>(std::max<int64_t>(0, r.value.latency_ms)));
    value.append(r.value.uri);
    batch.Put(Family::kSampledRecord, key, r.value.timestamp_ms, value);
  }
  return db_->Write(std::move(batch));
}

absl::StatusOr<std::vector<metrics::SampledRecord>> RocksMetricStore::TopRecords(
    absl::string_view record, absl::string_view entity_id, int64_t start_ms, int64_t end_ms,
    int limit, bool ascending) {
  std::vector<metrics::SampledRecord> out;
  if (limit <= 0 || end_ms <= start_ms) return out;
  const std::string prefix = RecordPrefix(record, entity_id);
  std::string begin = prefix, end = prefix;
  AppendInt64(&begin, start_ms);
  AppendInt64(&end, end_ms);
  absl::Status decode_error;
  absl::Status s = db_->Scan(Family::kSampledRecord, begin, end, [&](const Record& stored) {
    absl::string_view rest = absl::string_view(stored.key).substr(prefix.size());
    KeyReader reader(rest);
    metrics::SampledRecord r;
    absl::string_view value = stored.value;
    uint64_t latency;
    if (!reader.ReadInt64(&r.timestamp_ms) || !GetVarint64(&value, &latency)) {
      decode_error = absl::DataLossError(absl::StrCat("unreadable sampled record of ", entity_id));
      return false;
    }
    r.trace_id = std::string(rest.substr(8));
    r.latency_ms = static_cast<int64_t>(std::min<uint64_t>(latency, INT64_MAX));
    r.uri = std::string(value);
    out.push_back(std::move(r));
    return true;
  });
  if (!s.ok()) return s;
  if (!decode_error.ok()) return decode_error;
  auto order = [ascending](const metrics::SampledRecord& a, const metrics::SampledRecord& b) {
    if (a.latency_ms != b.latency_ms) {
      return ascending ? a.latency_ms < b.latency_ms : a.latency_ms > b.latency_ms;
    }
    return a.timestamp_ms > b.timestamp_ms;  // newer first among equals
  };
  if (out.size() > static_cast<size_t>(limit)) {
    std::partial_sort(out.begin(), out.begin() + limit, out.end(), order);
    out.resize(static_cast<size_t>(limit));
  } else {
    std::sort(out.begin(), out.end(), order);
  }
  return out;
}

}  // namespace stackhouse::storage
