#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/clock.h"

namespace rocksdb {
class Env;
}

namespace stackhouse {
class Counter;
}

namespace stackhouse::storage {

// Which retention period applies to the records of a family.
enum class Retention {
  kNone,     // kept until deleted (tasks, policies, dictionaries)
  kRecord,   // storage.recordDataTTL (segments, snapshots, samples, logs)
  kMetrics,  // storage.metricsDataTTL (services, instances, processes, meters)
  // Dictionaries that records refer to (distinct stacks): recordDataTTL plus
  // kDictionaryRefreshMs. A writer re-puts an entry it uses once it is older than
  // kDictionaryRefreshMs, so an entry outlives every record written while it was in use.
  kDictionary,
};

// How stale a dictionary entry may get before its users refresh it (see kDictionary).
inline constexpr int64_t kDictionaryRefreshMs = 24LL * 3600 * 1000;

// The kinds of record, one RocksDB column family each. The order is fixed forever: append
// new families at the end (before kCount).
enum class Family : int {
  kMetadata = 0,   // services, instances, endpoints, processes
  kTask,           // trace-profiling and eBPF tasks, continuous policies
  kTaskLog,        // trace-profiling task logs
  kSegment,        // trace segments and their indexes
  kSnapshot,       // thread snapshots
  kEbpfSchedule,   // eBPF schedules
  kEbpfStack,      // eBPF stack dictionary (distinct stacks and symbols)
  kEbpfSample,     // eBPF samples (time, stack id, value)
  kMeter,          // metrics computed from meters, relation rows (merged: see metric_codec.h)
  kProfileStack,   // trace-profiling stack dictionary (distinct thread stacks)
  kUiTemplate,     // SkyWalking UI dashboard templates
  kSampledRecord,  // network profiling's sampled slow / failing HTTP requests
  kSpanEvent,      // events Rover attached to spans (network profiling's sampled HTTP data)
  kCount,
};

// Static description of a family.
struct FamilyInfo {
  const char* name;  // RocksDB column family name
  Retention retention;
  bool merges = false;  // takes WriteBatch::Merge (the meter family's merge, metric_codec.h)
};

// The description of `family`.
const FamilyInfo& GetFamilyInfo(Family family);

// Options of Database::Open, filled from the storage section of the config.
struct DatabaseOptions {
  std::string data_dir;
  bool sync_writes = false;
  int64_t block_cache_bytes = 128LL << 20;
  int64_t record_ttl_ms = 3LL * 24 * 3600 * 1000;
  int64_t metrics_ttl_ms = 7LL * 24 * 3600 * 1000;
  // How far ahead of the server's clock a record may be stamped (storage.maxFutureSkew):
  // shared entries (stack dictionaries) are never stamped further ahead than this.
  int64_t max_future_skew_ms = 10LL * 60 * 1000;
  // Open refuses a data directory whose file system has fewer bytes free (0 = no check).
  int64_t min_free_bytes = 64LL << 20;
  // Counts failed writes when set (the server's stackhouse_storage_write_errors_total).
  Counter* write_errors = nullptr;
  // The RocksDB environment; null = the default one. Tests pass one that fails on purpose.
  std::shared_ptr<rocksdb::Env> env;
};

// The TTL of `retention` under `options` in ms; 0 for none.
int64_t TtlMs(const DatabaseOptions& options, Retention retention);

// True if a record stamped `timestamp_ms` with a retention of `ttl_ms` (0 = none) is expired at
// `now_ms`, i.e. timestamp + ttl <= now, computed without overflow for every int64 input (a
// record stamped INT64_MAX never expires, one stamped INT64_MIN always has).
bool ExpiredAt(int64_t timestamp_ms, int64_t ttl_ms, int64_t now_ms);

// Size figures of one family, for /metrics.
struct FamilyStats {
  Family family;
  uint64_t estimated_keys = 0;
  uint64_t live_data_bytes = 0;
  uint64_t sst_file_bytes = 0;
  uint64_t memtable_bytes = 0;
};

// A set of writes applied atomically by Database::Write. Not thread-safe.
class WriteBatch {
 public:
  WriteBatch();
  ~WriteBatch();
  WriteBatch(WriteBatch&&) noexcept;
  WriteBatch& operator=(WriteBatch&&) noexcept;

  // Stores `value` under `key`. `timestamp_ms` is the record's time; the record expires
  // `ttl` after it when the family has a retention.
  void Put(Family family, absl::string_view key, int64_t timestamp_ms, absl::string_view value);
  void Delete(Family family, absl::string_view key);
  // Merges `operand` into the value under `key` (a family that `merges` only; others fail the
  // Write). The record's time becomes the later of the two.
  void Merge(Family family, absl::string_view key, int64_t timestamp_ms, absl::string_view operand);
  // The same, taking the key's storage (a fold's thousands of operands are not copied twice).
  void Merge(Family family, std::string&& key, int64_t timestamp_ms, absl::string_view operand);
  size_t Count() const;

 private:
  friend class Database;
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

// One stored record as seen by readers.
struct Record {
  std::string key;
  int64_t timestamp_ms = 0;
  std::string value;
};

// The record reads and writes a StackDictionary makes: a Database, or a test's decorator of one
// that injects faults. Implementations are thread-safe.
class RecordAccess {
 public:
  virtual ~RecordAccess() = default;

  // Applies `batch` atomically; once OK, the writes are durable.
  virtual absl::Status Write(WriteBatch batch) = 0;

  // The live record under `key`, or nullopt when absent or expired.
  virtual absl::StatusOr<std::optional<Record>> Get(Family family, absl::string_view key) const = 0;

  // The live records under `keys`, one per key in the same order (nullopt when absent or
  // expired), read in one batched lookup; fastest when `keys` are sorted. Errors: as Get, for
  // the first key that fails.
  virtual absl::StatusOr<std::vector<std::optional<Record>>> MultiGet(
      Family family, absl::Span<const std::string> keys) const = 0;

  // Calls `visit(i, value)` for the live record under each of `keys` (ascending; a key may
  // repeat), in that order; absent and expired keys are skipped, and `value` is valid during
  // the call only. Stops at the first error `visit` returns and returns it. Errors:
  // InvalidArgument for keys out of order, else as MultiGet. This implementation reads with
  // MultiGet; a Database steps one iterator from key to key, which costs far less than point
  // lookups when the keys are near each other.
  virtual absl::Status VisitSorted(
      Family family, absl::Span<const std::string> keys,
      absl::FunctionRef<absl::Status(size_t, absl::string_view)> visit) const;
};

// The embedded RocksDB under one data directory: one column family per Family, values
// prefixed with their timestamp, expired records hidden from readers at once and removed
// by a compaction filter (no scan). Holds an exclusive lock on the directory for its
// lifetime. Thread-safe.
class Database final : public RecordAccess {
 public:
  // Opens (creating if needed) the database in `options.data_dir`. Errors: the directory
  // cannot be created or written (naming it), another process holds it (FailedPrecondition,
  // naming the pid), RocksDB refuses to open (its message). `clock` must outlive the result.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const DatabaseOptions& options,
                                                        const Clock* clock);
  ~Database();

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Applies `batch` atomically; once OK, the writes survive a crash of the process (WAL).
  absl::Status Write(WriteBatch batch) override;

  // Convenience for a one-record batch.
  absl::Status Put(Family family, absl::string_view key, int64_t timestamp_ms,
                   absl::string_view value);

  // The live record under `key`, or nullopt when absent or expired.
  absl::StatusOr<std::optional<Record>> Get(Family family, absl::string_view key) const override;

  absl::StatusOr<std::vector<std::optional<Record>>> MultiGet(
      Family family, absl::Span<const std::string> keys) const override;

  absl::Status VisitSorted(
      Family family, absl::Span<const std::string> keys,
      absl::FunctionRef<absl::Status(size_t, absl::string_view)> visit) const override;

  // Calls `visit` for each live record with begin <= key < end (end "" = no bound), in key
  // order, until it returns false. DataLoss if a stored value lacks its timestamp.
  absl::Status Scan(Family family, absl::string_view begin, absl::string_view end,
                    const std::function<bool(const Record&)>& visit) const;

  // Like Scan over every key starting with `prefix`.
  absl::Status ScanPrefix(Family family, absl::string_view prefix,
                          const std::function<bool(const Record&)>& visit) const;

  // Compacts every family, which also drops expired records. For tests and operations.
  absl::Status CompactAll();

  // Flushes memtables to SST files (used before a clean shutdown).
  absl::Status Flush();

  // Size figures of every family.
  std::vector<FamilyStats> Stats() const;

  // OK while writes succeed. After a failed write, Unavailable naming the error until a write
  // succeeds again; each call in that state tries one small write of its own (and asks RocksDB
  // to resume after a background error), so recovery shows without waiting for an agent.
  absl::Status Health();

  // Bytes free for an unprivileged user on the data directory's file system (-1 if unknown).
  int64_t FreeBytes() const;

  // True if a record written at `timestamp_ms` into `family` is expired now.
  bool IsExpired(Family family, int64_t timestamp_ms) const;

  const std::string& data_dir() const { return options_.data_dir; }
  int64_t max_future_skew_ms() const { return options_.max_future_skew_ms; }

 private:
  struct Impl;
  Database(const DatabaseOptions& options, const Clock* clock, std::unique_ptr<Impl> impl);

  // Records the outcome of a write: a failure is counted, remembered for Health and logged at
  // most once per 10 s (with the number of failures since the last line).
  absl::Status Track(absl::Status status);

  const DatabaseOptions options_;
  const Clock* const clock_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stackhouse::storage
