#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "storage/database.h"
#include "storage/stack_fingerprint.h"
#include "storage/stack_visitor.h"

namespace stackhouse::storage {

// A dictionary of distinct stacks in one column family of retention kDictionary, in two
// levels: `f` + 8-byte frame id → the frame's text, each distinct frame once, and `k` + 8-byte
// stack id → the stack as its frame ids (kStackOfFrameIds, then 8 bytes per frame, root first).
// Entries written before frames were stored apart hold the frames' texts (a StackRecord); they
// are read alongside the new ones, and rewritten in the new format when next re-put by Resolve.
// Both ids are content fingerprints' slots (StackHasher over the stack, or over the one frame),
// probing past a slot taken by a different content, so one stack and one frame always get the
// same id and are stored once (also when several callers resolve them at the same time).
// Entries a writer uses (Resolve, Retain) are re-put once older than kDictionaryRefreshMs, so
// they outlive every record written while they were in use; a stack's frames are put in the
// same write as the stack (or before it), stamped as late as it, so they live as long. A failed
// write leaves the caches as they were.
//
// Thread-safe. The callers (every ingest stream) share one mutex that guards only the caches
// and the claims: hashing and reads and writes of the database happen outside it. A caller
// that reads a slot (of a stack or of a frame) in order to write it first claims the slot; a
// caller that meets a slot claimed by another waits for it to be released (having first
// written what it staged, so that no caller waits while holding a claim) and then reads it
// again.
class StackDictionary {
 public:
  // `db` must outlive the dictionary.
  // `max_future_skew_ms` caps how far ahead of now an entry is ever stamped (the database's
  // storage.maxFutureSkew).
  StackDictionary(RecordAccess* db, Family family,
                  int64_t max_future_skew_ms = DatabaseOptions{}.max_future_skew_ms)
      : db_(db), family_(family), max_future_skew_ms_(max_future_skew_ms) {}

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

  // Reads the stacks `ids` (fastest sorted) in batches, each stepping through the stacks' keys,
  // then through their frames' (RecordAccess::VisitSorted), handing each distinct frame over
  // once (StackVisitor). A stack absent or expired, or one of whose frames
  // has expired with it, is not visited. Errors: storage failures, DataLoss for an entry that
  // cannot be decoded.
  absl::Status Read(absl::Span<const uint64_t> ids, StackVisitor& visitor) const;

  // The first byte of a stack entry of frame ids (a StackRecord never starts with it).
  static constexpr char kStackOfFrameIds = 0x01;

  // How Read batches its reads. A batch reads stacks until their frames number `batch_refs`
  // (4 bytes each in memory), then the frames not read before; reading many stacks before
  // their frames makes the frames read neighbours, stepped through rather than sought.
  struct ReadBounds {
    size_t batch_refs = size_t{1} << 21;
    size_t keys_per_read = 4096;  // keys per VisitSorted call
  };
  // Tests make the batches small. Call before the dictionary is shared; both bounds >= 1.
  void set_read_bounds(ReadBounds bounds) { read_bounds_ = bounds; }

 private:
  struct Known {
    uint64_t id;
    size_t check;  // absl::HashOf(frames): seeded per process, unlike the fingerprint
  };
  struct KnownFrame {
    uint64_t id;
    size_t check;      // absl::HashOf(frame)
    int64_t stamp_ms;  // when its entry was last written (or seen written)
  };
  // One frame of a stack being resolved.
  struct PendingFrame {
    StackFingerprint fingerprint;  // StackHasher over this frame alone
    size_t check = 0;              // absl::HashOf(frame)
    uint64_t id = 0;
    bool known = false;  // `id` is set
  };
  class Call;

  // Resolves a stack the caches did not answer, reading and staging in `call`; `frames` are
  // its frames, whose ids this resolves where not known.
  absl::StatusOr<uint64_t> ResolveMiss(const PendingStack& stack, size_t check,
                                       absl::Span<PendingFrame> frames, int64_t now, Call* call)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The id of `frame`, written (staged in `call`) if it is not stored.
  absl::StatusOr<uint64_t> ResolveFrame(absl::string_view frame, const PendingFrame& pending,
                                        int64_t now, Call* call) ABSL_LOCKS_EXCLUDED(mu_);
  // Makes stack slot `id` `call`'s to read and write until it commits. When another call holds
  // it, commits `call` first (an error is returned), then waits for the slot.
  absl::Status Claim(uint64_t id, Call* call) ABSL_LOCKS_EXCLUDED(mu_);
  // The same for frame slot `id`.
  absl::Status ClaimFrame(uint64_t id, Call* call) ABSL_LOCKS_EXCLUDED(mu_);
  // Claim or ClaimFrame.
  absl::Status ClaimSlot(bool frame, uint64_t id, Call* call) ABSL_LOCKS_EXCLUDED(mu_);
  // Writes what `call` staged; if that succeeded, makes its cache entries true. Releases its
  // claims either way and leaves it empty.
  absl::Status Commit(Call* call) ABSL_LOCKS_EXCLUDED(mu_);
  void ReleaseLocked(Call* call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // True if an entry stamped `stamp_ms` needs no re-put for records stamped `time`: stamped
  // less than kDictionaryRefreshMs before `time`, and not further after it than the database's
  // max_future_skew_ms. Overflow-free.
  bool FreshAt(int64_t stamp_ms, int64_t time) const;
  // True if this process wrote or saw `id`'s entry stamped FreshAt `time`.
  bool FreshLocked(uint64_t id, int64_t time) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  RecordAccess* const db_;
  const Family family_;
  const int64_t max_future_skew_ms_;
  ReadBounds read_bounds_;

  absl::Mutex mu_;
  absl::CondVar released_;  // signalled when claims are released
  // The ids of stacks this process resolved, by fingerprint.
  absl::flat_hash_map<StackFingerprint, Known> known_ ABSL_GUARDED_BY(mu_);
  // Id → when this process last wrote (or saw written) its entry.
  absl::flat_hash_map<uint64_t, int64_t> written_ ABSL_GUARDED_BY(mu_);
  // The ids of frames this process resolved, by fingerprint of the frame.
  absl::flat_hash_map<StackFingerprint, KnownFrame> known_frames_ ABSL_GUARDED_BY(mu_);
  // Slots a call is reading in order to write them (see the class comment): of stacks, of
  // frames.
  absl::flat_hash_set<uint64_t> claimed_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<uint64_t> claimed_frames_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stackhouse::storage
