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
// no round trip. Rows do not expire yet. Thread-safe.
class PgStackDictionary {
 public:
  // `pool` must outlive the dictionary; `table` is a trusted table name (statements are named
  // after it).
  PgStackDictionary(Pool* pool, std::string table);

  // The ids of `stacks`, same order, inserting new ones durably; `now_ms` stamps them.
  absl::StatusOr<std::vector<uint64_t>> Resolve(absl::Span<const PendingStack> stacks,
                                                int64_t now_ms) ABSL_LOCKS_EXCLUDED(mu_);
  // The frames of stack `id`; NotFound when there is none, DataLoss when it cannot be decoded.
  absl::StatusOr<std::vector<std::string>> Get(uint64_t id) const;

 private:
  struct Known {
    uint64_t id;
    size_t check;  // absl::HashOf(frames), seeded per process
  };

  // Constant after construction.
  Pool* const pool_;
  const std::string table_;
  const std::string resolve_sql_, get_sql_;

  absl::Mutex mu_;
  // The ids of stacks this process resolved (bounded; cleared when full).
  absl::flat_hash_map<StackFingerprint, Known> known_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stackhouse::storage::pg
