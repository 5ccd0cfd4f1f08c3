#include "storage/metric_codec.h"

#include "absl/container/flat_hash_map.h"
#include "storage/key_codec.h"
#include "storage/varint.h"

namespace stackhouse::storage {
namespace {

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

bool GetZigZag(absl::string_view* in, int64_t* value) {
  uint64_t raw;
  if (!GetVarint64(in, &raw)) return false;
  *value = UnZigZag(raw);
  return true;
}

bool GetString(absl::string_view* in, absl::string_view* out) {
  uint64_t size;
  if (!GetVarint64(in, &size) || size > in->size()) return false;
  *out = in->substr(0, size);
  in->remove_prefix(size);
  return true;
}

void PutString(std::string* out, absl::string_view s) {
  PutVarint64(out, s.size());
  out->append(s.data(), s.size());
}

void AppendAccumulator(std::string* out, const metrics::Accumulator& row) {
  PutVarint64(out, ZigZag(row.sum));
  PutVarint64(out, ZigZag(row.count));
  PutVarint64(out, row.buckets.size());
  for (const auto& [bucket, count] : row.buckets) {
    PutVarint64(out, ZigZag(bucket));
    PutVarint64(out, ZigZag(count));
  }
}

}  // namespace

std::string IntakeLogKey(uint64_t sequence) {
  std::string key(1, kIntakeLogTag);
  AppendUint64(&key, sequence);
  return key;
}

std::optional<uint64_t> IntakeLogSequence(absl::string_view key) {
  if (key.size() != 9 || key[0] != kIntakeLogTag) return std::nullopt;
  KeyReader reader(key.substr(1));
  uint64_t sequence;
  if (!reader.ReadUint64(&sequence)) return std::nullopt;
  return sequence;
}

std::string EncodeIntakeLog(int64_t minute_ms,
                            const std::vector<const metrics::MetricUpdate*>& updates) {
  absl::flat_hash_map<absl::string_view, uint64_t> index_of;
  std::vector<absl::string_view> strings;
  std::vector<uint64_t> indexes;
  indexes.reserve(updates.size() * 3);
  auto intern = [&](absl::string_view s) {
    auto [it, inserted] = index_of.try_emplace(s, strings.size());
    if (inserted) strings.push_back(s);
    indexes.push_back(it->second);
  };
  // The entity of a run of updates with one entity_ref is looked up once.
  uint32_t last_ref = 0;
  uint64_t last_entity = 0;
  for (const metrics::MetricUpdate* u : updates) {
    intern(u->metric->name);
    if (u->entity_ref != 0 && u->entity_ref == last_ref) {
      indexes.push_back(last_entity);
    } else {
      intern(u->entity_id);
      last_ref = u->entity_ref;
      last_entity = indexes.back();
    }
    intern(u->label_value);
  }
  std::string out;
  PutVarint64(&out, ZigZag(minute_ms));
  PutVarint64(&out, strings.size());
  for (absl::string_view s : strings) PutString(&out, s);
  PutVarint64(&out, updates.size());
  std::string accumulator;
  for (size_t i = 0; i < updates.size(); ++i) {
    for (size_t j = 0; j < 3; ++j) PutVarint64(&out, indexes[3 * i + j]);
    accumulator.clear();
    AppendAccumulator(&accumulator, updates[i]->delta);
    PutString(&out, accumulator);
  }
  return out;
}

std::optional<IntakeLogRecord> DecodeIntakeLog(absl::string_view bytes) {
  IntakeLogRecord record;
  uint64_t count;
  if (!GetZigZag(&bytes, &record.minute_ms) || !GetVarint64(&bytes, &count) ||
      count > bytes.size()) {
    return std::nullopt;
  }
  std::vector<absl::string_view> strings(count);
  for (absl::string_view& s : strings) {
    if (!GetString(&bytes, &s)) return std::nullopt;
  }
  if (!GetVarint64(&bytes, &count) || count > bytes.size() / 4) return std::nullopt;
  record.updates.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t metric, entity, label;
    absl::string_view accumulator;
    if (!GetVarint64(&bytes, &metric) || !GetVarint64(&bytes, &entity) ||
        !GetVarint64(&bytes, &label) || metric >= strings.size() || entity >= strings.size() ||
        label >= strings.size() || !GetString(&bytes, &accumulator)) {
      return std::nullopt;
    }
    std::optional<metrics::Accumulator> delta = DecodeAccumulator(accumulator);
    if (!delta) return std::nullopt;
    const metrics::MetricDefinition* definition = metrics::FindMetric(strings[metric]);
    if (definition == nullptr) {
      ++record.unknown_metrics;
      continue;
    }
    metrics::MetricUpdate u;
    u.metric = definition;
    u.entity_id = std::string(strings[entity]);
    u.label_value = std::string(strings[label]);
    u.minute_ms = record.minute_ms;
    u.delta = std::move(*delta);
    record.updates.push_back(std::move(u));
  }
  if (!bytes.empty()) return std::nullopt;
  return record;
}

std::string MetricSeriesPrefix(BucketStep step, absl::string_view metric,
                               absl::string_view entity_id) {
  std::string key;
  key.reserve(4 + metric.size() + entity_id.size() + 4 + 8);
  key.push_back(kMetricRowTag);
  key.push_back(static_cast<char>(step));
  AppendString(&key, metric);
  AppendString(&key, entity_id);
  return key;
}

size_t MetricSeriesPrefixLength(absl::string_view key) {
  if (key.size() < 2 || key[0] != kMetricRowTag) return 0;
  // Two AppendString fields follow the tag and the step; each ends with "\0\x01" (a '\0' in
  // the field is written "\0\xff").
  size_t at = 2;
  for (int field = 0; field < 2; ++field) {
    for (;;) {
      at = key.find('\0', at);
      if (at == absl::string_view::npos || at + 1 >= key.size()) return 0;
      at += 2;
      if (key[at - 1] == '\x01') break;
    }
  }
  return at;
}

std::string MetricRowKey(BucketStep step, absl::string_view metric, absl::string_view entity_id,
                         int64_t bucket_ms, absl::string_view label_value) {
  return MetricRowKey(MetricSeriesPrefix(step, metric, entity_id), step, bucket_ms, label_value);
}

std::string MetricRowKey(absl::string_view series_prefix, BucketStep step, int64_t bucket_ms,
                         absl::string_view label_value) {
  std::string key;
  key.reserve(series_prefix.size() + 8 + label_value.size());
  key.append(series_prefix.data(), series_prefix.size());
  if (key.size() > 1) key[1] = static_cast<char>(step);
  AppendInt64(&key, bucket_ms);
  key.append(label_value.data(), label_value.size());  // the rest of the key: any bytes
  return key;
}

std::string EncodeAccumulator(const metrics::Accumulator& row) {
  std::string out;
  AppendAccumulator(&out, row);
  return out;
}

std::optional<metrics::Accumulator> DecodeAccumulator(absl::string_view bytes) {
  metrics::Accumulator row;
  uint64_t buckets;
  if (!GetZigZag(&bytes, &row.sum) || !GetZigZag(&bytes, &row.count) ||
      !GetVarint64(&bytes, &buckets) || buckets > bytes.size() / 2) {
    return std::nullopt;
  }
  row.buckets.reserve(buckets);
  for (uint64_t i = 0; i < buckets; ++i) {
    int64_t bucket, count;
    if (!GetZigZag(&bytes, &bucket) || !GetZigZag(&bytes, &count)) return std::nullopt;
    row.buckets.Add(bucket, count);
  }
  if (!bytes.empty()) return std::nullopt;
  return row;
}

std::string EncodeComponent(int component_id) {
  std::string out;
  PutVarint64(&out, ZigZag(component_id));
  return out;
}

std::optional<int> DecodeComponent(absl::string_view bytes) {
  int64_t value;
  if (!GetZigZag(&bytes, &value) || !bytes.empty() || value < INT32_MIN || value > INT32_MAX) {
    return std::nullopt;
  }
  return static_cast<int>(value);
}

int ComponentPriority(int component_id) {
  switch (component_id) {
    case 110:  // tcp
      return 10;
    case 130:  // tls
      return 11;
    case 49:  // http
      return 45;
    case 129:  // https
      return 46;
    default:
      return 50;
  }
}

bool MergeMeterPayloads(absl::string_view key, std::optional<absl::string_view> existing,
                        absl::string_view operand, std::string* merged) {
  if (!key.empty() && key[0] == kRelationRowTag) {
    const std::optional<int> added = DecodeComponent(operand);
    const std::optional<int> old =
        existing.has_value() ? DecodeComponent(*existing) : std::optional<int>();
    if (!old.has_value() && !added.has_value()) return false;
    int winner = old.value_or(0);
    if (!old.has_value() ||
        (added.has_value() && ComponentPriority(*added) > ComponentPriority(winner))) {
      winner = added.value_or(0);
    }
    *merged = EncodeComponent(winner);
    return true;
  }
  std::optional<metrics::Accumulator> old = existing ? DecodeAccumulator(*existing) : std::nullopt;
  std::optional<metrics::Accumulator> added = DecodeAccumulator(operand);
  if (!old && !added) return false;
  if (!old) {
    *merged = EncodeAccumulator(*added);
  } else {
    if (added) old->Merge(*added);
    *merged = EncodeAccumulator(*old);
  }
  return true;
}

}  // namespace stackhouse::storage
