#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "storage/database.h"
#include "storage/stack_fingerprint.h"

namespace stackhouse::storage {

// A dictionary of distinct stacks (lists of frame strings) in one column family of
// retention kDictionary: `k` + 8-byte id → StackRecord. The id is the fingerprint's slot,
// probing past a slot taken by different frames, so one stack always gets the same id and is
// stored once. Entries a writer uses (Resolve, Retain) are re-put once older than
// kDictionaryRefreshMs, so they outlive every record written while they were in use.
// Thread-safe.
class StackDictionary {
 public:
  // `db` must outlive the dictionary.
  StackDictionary(RecordAccess* db, Family family) : db_(db), family_(family) {}

  // Resolves each stack to its id (same order), writing new or stale entries durably before
  // returning.
  absl::StatusOr<std::vector<uint64_t>> Resolve(absl::Span<const PendingStack> stacks,
                                                int64_t now_ms) ABSL_LOCKS_EXCLUDED(mu_);
  // The same, fingerprinting the frames here.
  absl::StatusOr<std::vector<uint64_t>> Resolve(
      const std::vector<const std::vector<std::string>*>& stacks, int64_t now_ms)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Declares that records stamped `records_time_ms` (expiring from then) are about to refer to
  // `ids` (ids Resolve returned, perhaps long ago): re-puts, durably, each entry not written
  // within kDictionaryRefreshMs before max(now, records_time), stamped with that time (a
  // record stamped in the future, by an agent's clock, keeps its stacks alive as long). The
  // time is capped at now + the database's max_future_skew_ms, so no caller can stamp a shared
  // entry further ahead (where it would never expire) or make it expire before now + TTL.
  // NotFound if one is no longer stored. Cheap for ids this process resolved or retained
  // recently (no read).
  absl::Status Retain(absl::Span<const uint64_t> ids, int64_t now_ms, int64_t records_time_ms)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The frames of `id`; NotFound when absent or expired.
  absl::StatusOr<std::vector<std::string>> Get(uint64_t id) const;

 private:
  struct Known {
    uint64_t id;
    size_t check;  // absl::HashOf(frames): seeded per process, unlike the fingerprint
  };
  struct Staged;

  absl::StatusOr<uint64_t> ResolveOne(const PendingStack& stack, int64_t now, Staged* staged)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // True if an entry stamped `stamp_ms` needs no re-put for records stamped `time`: stamped
  // less than kDictionaryRefreshMs before `time`, and not further after it than the database's
  // max_future_skew_ms. Overflow-free.
  bool FreshAt(int64_t stamp_ms, int64_t time) const;
  // True if this process wrote or saw `id`'s entry stamped FreshAt `time`.
  bool FreshLocked(uint64_t id, int64_t time) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Makes the cache entries of a written (or empty) batch true.
  void Apply(const Staged& staged) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  RecordAccess* const db_;
  const Family family_;

  absl::Mutex mu_;
  // The ids of stacks this process resolved, by fingerprint.
  absl::flat_hash_map<StackFingerprint, Known> known_ ABSL_GUARDED_BY(mu_);
  // Id → when this process last wrote (or saw written) its entry.
  absl::flat_hash_map<uint64_t, int64_t> written_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stackhouse::storage
