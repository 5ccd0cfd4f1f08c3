#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "storage/pg/pg_pool.h"
#include "storage/stack_fingerprint.h"

namespace stackhouse::storage::pg {

// A dictionary of distinct stacks in one table (id bigserial, digest bytea UNIQUE, frames bytea,
// stamp_ms bigint): one row per distinct stack in the database, unique by the SHA-256 of its
// encoded frames, so nodes that insert the same new stack at once get the same id (INSERT … ON
// CONFLICT DO UPDATE … RETURNING, rows locked in digest order so that they do not deadlock; a
// deadlock is retried). Ids are the table's bigserial ids. Each process caches the ids it
// resolved (by fingerprint, checked with a per-process seeded hash), so a repeated stack costs
// no round trip.
//
// Expiry, as RocksDB's StackDictionary: a row's stamp is raised (never lowered) whenever a
// writer uses it and its stamp, as this process last wrote it, is kDictionaryRefreshMs old or
// more; the partition keeper deletes rows stamped recordDataTTL + kDictionaryRefreshMs ago, so a
// row outlives every record that refers to it. Thread-safe.
class PgStackDictionary {
 public:
  // `pool` must outlive the dictionary; `table` is a trusted table name (statements are named
  // after it). No entry is ever stamped more than `max_future_skew_ms` after now.
  PgStackDictionary(Pool* pool, std::string table, int64_t max_future_skew_ms);

  // The ids of `stacks`, same order, inserting new ones durably; `now_ms` stamps them (and any
  // known one whose stamp is due again).
  absl::StatusOr<std::vector<uint64_t>> Resolve(absl::Span<const PendingStack> stacks,
                                                int64_t now_ms) ABSL_LOCKS_EXCLUDED(mu_);
  // Declares that records of time `records_time_ms` are about to refer to `ids` (which Resolve
  // returned, perhaps long ago): raises, durably, the stamp of each not stamped within
  // kDictionaryRefreshMs before max(now, records time) (capped at now + max_future_skew_ms) to
  // that time. NotFound when one is no longer stored (the caller resolves its stacks again). No
  // round trip when every one is fresh.
  absl::Status Retain(absl::Span<const uint64_t> ids, int64_t now_ms, int64_t records_time_ms)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The frames of stack `id`; NotFound when there is none, DataLoss when it cannot be decoded.
  absl::StatusOr<std::vector<std::string>> Get(uint64_t id) const;

 private:
  struct Known {
    uint64_t id;
    size_t check;  // absl::HashOf(frames), seeded per process
  };

  // True if this process stamped `id` less than kDictionaryRefreshMs before `time`.
  bool FreshLocked(uint64_t id, int64_t time) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Remembers that `id` is stamped at least `stamp_ms`.
  void StampedLocked(uint64_t id, int64_t stamp_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  Pool* const pool_;
  const std::string table_;
  const int64_t max_future_skew_ms_;
  const std::string resolve_sql_, retain_sql_, get_sql_;

  absl::Mutex mu_;
  // The ids of stacks this process resolved, and the stamps it wrote or saw (both bounded;
  // cleared when full).
  absl::flat_hash_map<StackFingerprint, Known> known_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, int64_t> stamps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stackhouse::storage::pg
