#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "language-agent/Meter.pb.h"
#include "model/meter.h"

namespace stackhouse::bench {

// `collection` as the receiver hands it on (one data set: the first element's service,
// instance and time), without the receiver's checks. For the meter benchmarks only.
inline model::MeterDataSet MeterDataSetOf(const skywalking::v3::MeterDataCollection& collection) {
  model::MeterDataSet set;
  for (const auto& data : collection.meterdata()) {
    if (!data.service().empty()) set.service = data.service();
    if (!data.serviceinstance().empty()) set.instance = data.serviceinstance();
    if (data.timestamp() != 0) set.timestamp_ms = data.timestamp();
    model::MeterSample sample;
    const bool histogram = data.has_histogram();
    sample.histogram = histogram;
    sample.name = histogram ? data.histogram().name() : data.singlevalue().name();
    for (const auto& l : histogram ? data.histogram().labels() : data.singlevalue().labels()) {
      sample.labels.emplace_back(l.name(), l.value());
    }
    if (histogram) {
      for (const auto& b : data.histogram().values()) {
        sample.buckets.push_back({b.bucket(), b.isnegativeinfinity(), b.count()});
      }
    } else {
      sample.value = data.singlevalue().value();
    }
    set.samples.push_back(std::move(sample));
  }
  return set;
}

// 64 hex digits that look like a server's sha256 process id (so that RocksDB keys differ
// early, as real ones do), the same for the same `key`.
inline std::string RandomLookingId(uint64_t key) {
  uint64_t x = key * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
  std::string out;
  for (int i = 0; i < 4; ++i) {
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    out += absl::StrFormat("%016x", x);
  }
  return out;
}

}  // namespace stackhouse::bench
