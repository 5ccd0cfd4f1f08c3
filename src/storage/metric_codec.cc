#include "storage/metric_codec.h"

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

}  // namespace

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

std::string MetricRowKey(BucketStep step, absl::string_view metric, absl::string_view entity_id,
                         int64_t bucket_ms, absl::string_view label_value) {
  std::string key = MetricSeriesPrefix(step, metric, entity_id);
  AppendInt64(&key, bucket_ms);
  key.append(label_value.data(), label_value.size());  // the rest of the key: any bytes
  return key;
}

std::string EncodeAccumulator(const metrics::Accumulator& row) {
  std::string out;
  PutVarint64(&out, ZigZag(row.sum));
  PutVarint64(&out, ZigZag(row.count));
  PutVarint64(&out, row.buckets.size());
  for (const auto& [bucket, count] : row.buckets) {
    PutVarint64(&out, ZigZag(bucket));
    PutVarint64(&out, ZigZag(count));
  }
  return out;
}

std::optional<metrics::Accumulator> DecodeAccumulator(absl::string_view bytes) {
  metrics::Accumulator row;
  uint64_t buckets;
  if (!GetZigZag(&bytes, &row.sum) || !GetZigZag(&bytes, &row.count) ||
      !GetVarint64(&bytes, &buckets) || buckets > bytes.size() / 2) {
    return std::nullopt;
  }
  auto hint = row.buckets.end();
  for (uint64_t i = 0; i < buckets; ++i) {
    int64_t bucket, count;
    if (!GetZigZag(&bytes, &bucket) || !GetZigZag(&bytes, &count)) return std::nullopt;
    hint = row.buckets.emplace_hint(hint, bucket, count);
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
