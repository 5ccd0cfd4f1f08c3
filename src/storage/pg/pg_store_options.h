#pragma once

#include <cstdint>

namespace stackhouse::storage::pg {

// What the PostgreSQL stores share: the retention periods of storage.recordDataTTL and
// storage.metricsDataTTL (the same settings as RocksDB's) and the future skew allowed. A record is
// live while its time plus its TTL is after now; readers filter on that, so expired rows are hidden
// at once.
struct StoreOptions {
  int64_t record_ttl_ms = 3LL * 24 * 3600 * 1000;
  int64_t metrics_ttl_ms = 7LL * 24 * 3600 * 1000;
  // storage.maxFutureSkew: no stack dictionary entry is stamped further ahead of now.
  int64_t max_future_skew_ms = 10LL * 60 * 1000;
};

// The earliest time a record with `ttl_ms` (0 = none) may carry and still be live at `now_ms`
// minus one, i.e. live ⇔ time > Cutoff(now, ttl). Saturates instead of overflowing.
inline int64_t Cutoff(int64_t now_ms, int64_t ttl_ms) {
  constexpr int64_t kMin = INT64_MIN;
  if (ttl_ms <= 0) return kMin;
  return now_ms < kMin + ttl_ms ? kMin : now_ms - ttl_ms;
}

}  // namespace stackhouse::storage::pg
