#include "storage/database.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/status_macros.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/listener.h"
#include "rocksdb/merge_operator.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "storage/key_codec.h"
#include "storage/metric_codec.h"

namespace stackhouse::storage {
namespace {

constexpr FamilyInfo kFamilies[] = {
    {"metadata", Retention::kMetrics},      {"task", Retention::kNone},
    {"task_log", Retention::kRecord},       {"segment", Retention::kRecord},
    {"snapshot", Retention::kRecord},       {"ebpf_schedule", Retention::kMetrics},
    {"ebpf_stack", Retention::kDictionary}, {"ebpf_sample", Retention::kRecord},
    {"meter", Retention::kMetrics, true},   {"profile_stack", Retention::kDictionary},
    {"ui_template", Retention::kNone},      {"sampled_record", Retention::kRecord},
    {"span_event", Retention::kRecord},
};
static_assert(std::size(kFamilies) == static_cast<size_t>(Family::kCount));

constexpr size_t kTimestampBytes = 8;
constexpr uint64_t kPeriodicCompactionSeconds = 24 * 3600;

// The single translation point from RocksDB's status model to absl::Status.
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  if (s.IsBusy() || s.IsTryAgain()) return absl::UnavailableError(message);
  if (s.IsIOError()) return absl::UnavailableError(message);
  return absl::InternalError(message);
}

void EncodeValue(std::string* out, int64_t timestamp_ms, absl::string_view value) {
  out->reserve(kTimestampBytes + value.size());
  AppendInt64(out, timestamp_ms);
  out->append(value.data(), value.size());
}

bool DecodeTimestamp(absl::string_view stored, int64_t* timestamp_ms) {
  KeyReader reader(stored);
  return reader.ReadInt64(timestamp_ms);
}

// Drops records whose embedded timestamp is older than the family's TTL. RocksDB may call
// Filter from several compaction threads at once; it only reads the clock.
class RetentionFilter final : public rocksdb::CompactionFilter {
 public:
  RetentionFilter(const Clock* clock, int64_t ttl_ms, std::string name)
      : clock_(clock), ttl_ms_(ttl_ms), name_(std::move(name)) {}

  bool Filter(int /*level*/, const rocksdb::Slice& /*key*/, const rocksdb::Slice& value,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    int64_t timestamp_ms;
    if (!DecodeTimestamp(absl::string_view(value.data(), value.size()), &timestamp_ms)) {
      return false;  // keep what we cannot read rather than lose it
    }
    return ExpiredAt(timestamp_ms, ttl_ms_, clock_->NowMillis());
  }

  const char* Name() const override { return name_.c_str(); }

 private:
  const Clock* const clock_;
  const int64_t ttl_ms_;
  const std::string name_;
};

// Adds metric rows and keeps relation rows' components (MergeMeterPayloads) under the stored
// timestamp, which becomes the later of the two. Stateless; RocksDB calls it from any thread.
class MeterMergeOperator final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& key, const rocksdb::Slice* existing_value,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* /*logger*/) const override {
    auto view = [](const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); };
    int64_t operand_ms = 0, existing_ms = 0;
    const bool operand_ok = DecodeTimestamp(view(value), &operand_ms);
    const bool existing_ok =
        existing_value != nullptr && DecodeTimestamp(view(*existing_value), &existing_ms);
    if (!operand_ok) {
      if (existing_value == nullptr) return false;
      new_value->assign(existing_value->data(), existing_value->size());
      return true;
    }
    std::optional<absl::string_view> existing;
    if (existing_ok) existing = view(*existing_value).substr(kTimestampBytes);
    std::string payload;
    if (!MergeMeterPayloads(view(key), existing, view(value).substr(kTimestampBytes), &payload)) {
      return false;
    }
    new_value->clear();
    EncodeValue(new_value, existing_ok ? std::max(existing_ms, operand_ms) : operand_ms, payload);
    return true;
  }

  const char* Name() const override { return "stackhouse.meter"; }
};

// The series prefix of a metric row key (the rest: bucket and label), so that the memtable keeps
// an insert hint per series: a fold inserts each series' new rows next to its previous ones, and
// with the hint an insert starts there instead of searching the skip list from the top with
// keys of ~190 bytes. Other keys of the family are outside the domain.
class MetricSeriesHint final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "stackhouse.metric_series"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(),
                          MetricSeriesPrefixLength(absl::string_view(key.data(), key.size())));
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return MetricSeriesPrefixLength(absl::string_view(key.data(), key.size())) > 0;
  }
};

// Holds an exclusive flock on <dir>/stackhouse.lock for the life of the object.
class DirectoryLock {
 public:
  static absl::StatusOr<std::unique_ptr<DirectoryLock>> Acquire(const std::string& dir) {
    std::string path = dir + "/stackhouse.lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return absl::PermissionDeniedError(absl::StrCat("data directory ", dir,
                                                      " is not writable: cannot create ", path,
                                                      ": ", std::strerror(errno)));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int error = errno;
      char buffer[32] = {0};
      ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
      std::string owner = n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "unknown";
      while (!owner.empty() && (owner.back() == '\n' || owner.back() == ' ')) owner.pop_back();
      ::close(fd);
      if (error == EWOULDBLOCK) {
        return absl::FailedPreconditionError(
            absl::StrCat("data directory ", dir, " is in use by another Stackhouse process (pid ",
                         owner, "); stop it or set storage.dataDir to another directory"));
      }
      return absl::UnavailableError(absl::StrCat("cannot lock ", path, ": ", std::strerror(error)));
    }
    std::string pid = absl::StrCat(::getpid(), "\n");
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
      ::close(fd);
      return absl::UnavailableError(
          absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
    }
    return std::unique_ptr<DirectoryLock>(new DirectoryLock(fd));
  }

  ~DirectoryLock() { ::close(fd_); }  // closing releases the flock

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  const int fd_;
};

}  // namespace

int64_t TtlMs(const DatabaseOptions& options, Retention retention) {
  switch (retention) {
    case Retention::kNone:
      return 0;
    case Retention::kRecord:
      return options.record_ttl_ms;
    case Retention::kMetrics:
      return options.metrics_ttl_ms;
    case Retention::kDictionary:
      return options.record_ttl_ms + kDictionaryRefreshMs;
  }
  return 0;
}

bool ExpiredAt(int64_t timestamp_ms, int64_t ttl_ms, int64_t now_ms) {
  // timestamp + ttl <= now  <=>  timestamp <= now - ttl; when now - ttl is below INT64_MIN,
  // no timestamp is that old.
  if (ttl_ms <= 0) return false;
  int64_t latest_expired;
  if (__builtin_sub_overflow(now_ms, ttl_ms, &latest_expired)) return false;
  return timestamp_ms <= latest_expired;
}

const FamilyInfo& GetFamilyInfo(Family family) { return kFamilies[static_cast<int>(family)]; }

struct WriteBatch::Rep {
  enum class Kind { kPut, kDelete, kMerge };
  struct Op {
    Family family;
    std::string key;
    Kind kind;
    std::string value;  // empty for a delete
  };
  std::vector<Op> ops;
};

WriteBatch::WriteBatch() : rep_(std::make_unique<Rep>()) {}
WriteBatch::~WriteBatch() = default;
WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
WriteBatch& WriteBatch::operator=(WriteBatch&&) noexcept = default;

void WriteBatch::Put(Family family, absl::string_view key, int64_t timestamp_ms,
                     absl::string_view value) {
  std::string stored;
  EncodeValue(&stored, timestamp_ms, value);
  rep_->ops.push_back({family, std::string(key), Rep::Kind::kPut, std::move(stored)});
}

void WriteBatch::Merge(Family family, absl::string_view key, int64_t timestamp_ms,
                       absl::string_view operand) {
  Merge(family, std::string(key), timestamp_ms, operand);
}

void WriteBatch::Merge(Family family, std::string&& key, int64_t timestamp_ms,
                       absl::string_view operand) {
  std::string stored;
  EncodeValue(&stored, timestamp_ms, operand);
  rep_->ops.push_back({family, std::move(key), Rep::Kind::kMerge, std::move(stored)});
}

void WriteBatch::Delete(Family family, absl::string_view key) {
  rep_->ops.push_back({family, std::string(key), Rep::Kind::kDelete, {}});
}

size_t WriteBatch::Count() const { return rep_->ops.size(); }

// Writes fail: how long a log line stands for the failures after it.
constexpr int64_t kWriteErrorLogIntervalMs = 10'000;
// The key Health writes to probe the storage (RocksDB's default family, unused otherwise).
constexpr char kHealthProbeKey[] = "stackhouse.health";

// Whether writes fail: set by a failed write or a RocksDB background error, cleared by a
// successful write. The flag is read on every write, the rest only when it changes.
class WriteHealth {
 public:
  WriteHealth(const Clock* clock, Counter* errors) : clock_(clock), errors_(errors) {}

  bool failing() const { return failing_.load(std::memory_order_relaxed); }

  // A failure: counted, remembered, logged at most once per kWriteErrorLogIntervalMs.
  void Failed(absl::string_view message) {
    if (errors_ != nullptr) errors_->Increment();
    absl::MutexLock lock(&mu_);
    failing_.store(true);
    last_error_ = std::string(message);
    const int64_t now = clock_->NowMillis();
    if (last_log_ms_ == 0 || now - last_log_ms_ >= kWriteErrorLogIntervalMs) {
      GetLogger("storage")->error("write failed: {} ({} more failures since the last line)",
                                  message, unlogged_);
      last_log_ms_ = now;
      unlogged_ = 0;
    } else {
      ++unlogged_;
    }
  }

  void Succeeded() {
    if (!failing()) return;
    absl::MutexLock lock(&mu_);
    if (!failing_.exchange(false)) return;
    GetLogger("storage")->info("writes succeed again (after: {}; {} failures not logged)",
                               last_error_, unlogged_);
    unlogged_ = 0;
    last_log_ms_ = 0;
  }

 private:
  const Clock* const clock_;
  Counter* const errors_;
  std::atomic<bool> failing_{false};
  absl::Mutex mu_;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  int64_t last_log_ms_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t unlogged_ ABSL_GUARDED_BY(mu_) = 0;
};

// Tells WriteHealth about RocksDB's background errors (a flush or compaction that failed,
// e.g. on a full disk), which stop every write until RocksDB resumes.
class BackgroundErrorListener final : public rocksdb::EventListener {
 public:
  explicit BackgroundErrorListener(WriteHealth* health) : health_(health) {}
  void OnBackgroundError(rocksdb::BackgroundErrorReason, rocksdb::Status* error) override {
    if (error != nullptr && !error->ok()) {
      health_->Failed(absl::StrCat("background: ", error->ToString()));
    }
  }
  void OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) override {
    if (info.new_bg_error.ok()) health_->Succeeded();
  }

 private:
  WriteHealth* const health_;
};

struct Database::Impl {
  Impl(const Clock* clock, Counter* errors) : health(clock, errors) {}

  std::unique_ptr<DirectoryLock> lock;
  std::shared_ptr<rocksdb::Env> env;  // kept alive as long as the DB that uses it
  WriteHealth health;
  std::vector<std::unique_ptr<RetentionFilter>> filters;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // indexed by Family; owned, see ~Database

  rocksdb::ColumnFamilyHandle* Handle(Family family) const {
    return handles[static_cast<size_t>(family)];
  }
};

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const DatabaseOptions& options,
                                                         const Clock* clock) {
  auto log = GetLogger("storage");
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create data directory ", options.data_dir, ": ", ec.message()));
  }
  if (!std::filesystem::is_directory(options.data_dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("data directory ", options.data_dir, " is not a directory"));
  }
  if (options.min_free_bytes > 0) {
    std::filesystem::space_info space = std::filesystem::space(options.data_dir, ec);
    if (!ec && space.available < static_cast<uintmax_t>(options.min_free_bytes)) {
      return absl::ResourceExhaustedError(
          absl::StrCat("data directory ", options.data_dir, " has ", space.available >> 20,
                       " MiB free, below storage.minFreeSpace (", options.min_free_bytes >> 20,
                       " MiB): free some space or lower the setting"));
    }
  }
  auto impl = std::make_unique<Impl>(clock, options.write_errors);
  auto lock = DirectoryLock::Acquire(options.data_dir);
  if (!lock.ok()) return lock.status();
  impl->lock = std::move(*lock);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 5;
  db_options.max_total_wal_size = 256ull << 20;
  if (options.env) {
    impl->env = options.env;
    db_options.env = impl->env.get();
  }
  db_options.listeners.push_back(std::make_shared<BackgroundErrorListener>(&impl->health));

  rocksdb::BlockBasedTableOptions table_options;
  if (options.block_cache_bytes > 0) {
    table_options.block_cache =
        rocksdb::NewLRUCache(static_cast<size_t>(options.block_cache_bytes));
  } else {
    table_options.no_block_cache = true;
  }
  table_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  auto table_factory =
      std::shared_ptr<rocksdb::TableFactory>(rocksdb::NewBlockBasedTableFactory(table_options));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (int i = 0; i < static_cast<int>(Family::kCount); ++i) {
    const FamilyInfo& info = kFamilies[i];
    rocksdb::ColumnFamilyOptions cf;
    cf.table_factory = table_factory;
    cf.compression = rocksdb::kLZ4Compression;
    cf.bottommost_compression = rocksdb::kZSTD;
    int64_t ttl_ms = TtlMs(options, info.retention);
    if (ttl_ms > 0) {
      impl->filters.push_back(std::make_unique<RetentionFilter>(
          clock, ttl_ms, absl::StrCat("stackhouse.retention.", info.name)));
      cf.compaction_filter = impl->filters.back().get();
      cf.periodic_compaction_seconds = kPeriodicCompactionSeconds;
    }
    if (info.merges) {
      cf.merge_operator = std::make_shared<MeterMergeOperator>();
      cf.memtable_insert_with_hint_prefix_extractor = std::make_shared<MetricSeriesHint>();
      // No max_successive_merges: it looks every merge's key up in the memtable first (7 % of
      // the server's CPU under Rover's meters). A metric row gets one operand per folded minute
      // (an hour row at most 60 an hour), and a flush merges a memtable's operands of a key into
      // one, so a read never folds more than a memtable's minutes of operands.
    }
    descriptors.emplace_back(info.name, cf);
  }

  std::string db_path = options.data_dir + "/db";
  rocksdb::DB* raw_db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = rocksdb::DB::Open(db_options, db_path, descriptors, &handles, &raw_db);
  if (!s.ok() && s.IsInvalidArgument() &&
      s.ToString().find("Compression type") != std::string::npos) {
    // A RocksDB build without LZ4/ZSTD: fall back to Snappy/none rather than refuse to run.
    for (auto& d : descriptors) {
      d.options.compression = rocksdb::kSnappyCompression;
      d.options.bottommost_compression = rocksdb::kDisableCompressionOption;
    }
    s = rocksdb::DB::Open(db_options, db_path, descriptors, &handles, &raw_db);
  }
  if (!s.ok()) return FromRocks(s, absl::StrCat("cannot open RocksDB in ", db_path));
  impl->db.reset(raw_db);
  // handles[0] is the default family, which we do not use.
  impl->handles.assign(handles.begin() + 1, handles.end());
  raw_db->DestroyColumnFamilyHandle(handles[0]);
  log->info("opened RocksDB in {} ({} column families)", db_path, impl->handles.size());
  return std::unique_ptr<Database>(new Database(options, clock, std::move(impl)));
}

Database::Database(const DatabaseOptions& options, const Clock* clock, std::unique_ptr<Impl> impl)
    : options_(options), clock_(clock), impl_(std::move(impl)) {}

Database::~Database() {
  if (!impl_ || !impl_->db) return;
  for (auto* handle : impl_->handles) impl_->db->DestroyColumnFamilyHandle(handle);
  rocksdb::Status s = impl_->db->Close();
  if (!s.ok()) GetLogger("storage")->error("closing RocksDB: {}", s.ToString());
  impl_->db.reset();
}

bool Database::IsExpired(Family family, int64_t timestamp_ms) const {
  int64_t ttl_ms = TtlMs(options_, GetFamilyInfo(family).retention);
  return ExpiredAt(timestamp_ms, ttl_ms, clock_->NowMillis());
}

absl::Status Database::Write(WriteBatch batch) {
  rocksdb::WriteBatch rocks_batch;
  for (const auto& op : batch.rep_->ops) {
    rocksdb::Status s;
    switch (op.kind) {
      case WriteBatch::Rep::Kind::kPut:
        s = rocks_batch.Put(impl_->Handle(op.family), op.key, op.value);
        break;
      case WriteBatch::Rep::Kind::kDelete:
        s = rocks_batch.Delete(impl_->Handle(op.family), op.key);
        break;
      case WriteBatch::Rep::Kind::kMerge:
        if (!GetFamilyInfo(op.family).merges) {
          return absl::InvalidArgumentError(
              absl::StrCat("family ", GetFamilyInfo(op.family).name, " does not merge"));
        }
        s = rocks_batch.Merge(impl_->Handle(op.family), op.key, op.value);
        break;
    }
    if (!s.ok()) return FromRocks(s, "building write batch");
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync_writes;
  return Track(FromRocks(impl_->db->Write(write_options, &rocks_batch), "write"));
}

absl::Status Database::Track(absl::Status status) {
  if (status.ok()) {
    impl_->health.Succeeded();
  } else {
    impl_->health.Failed(status.message());
  }
  return status;
}

absl::Status Database::Health() {
  if (!impl_->health.failing()) return absl::OkStatus();
  // A background error (a failed flush on a full disk) stops all writes until RocksDB
  // resumes; RocksDB retries on its own, Resume asks at once.
  rocksdb::Status resumed = impl_->db->Resume();
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync_writes;
  absl::Status probe =
      Track(FromRocks(impl_->db->Put(write_options, impl_->db->DefaultColumnFamily(),
                                     kHealthProbeKey, absl::StrCat(clock_->NowMillis())),
                      "write"));
  if (probe.ok()) return probe;
  std::string message = absl::StrCat("storage: ", probe.message());
  if (int64_t free_bytes = FreeBytes(); free_bytes >= 0) {
    // RocksDB's own recovery from a full disk waits for a memtable's worth of space.
    absl::StrAppend(&message, "; ", free_bytes >> 20,
                    " MiB free in the data directory (writes resume by themselves once 64 MiB "
                    "are free)");
  }
  if (!resumed.ok() && !resumed.IsBusy())
    absl::StrAppend(&message, "; resume: ", resumed.ToString());
  return absl::UnavailableError(message);
}

int64_t Database::FreeBytes() const {
  std::error_code ec;
  std::filesystem::space_info space = std::filesystem::space(options_.data_dir, ec);
  if (ec) return -1;
  return static_cast<int64_t>(space.available);
}

absl::Status Database::Put(Family family, absl::string_view key, int64_t timestamp_ms,
                           absl::string_view value) {
  WriteBatch batch;
  batch.Put(family, key, timestamp_ms, value);
  return Write(std::move(batch));
}

absl::StatusOr<std::optional<Record>> Database::Get(Family family, absl::string_view key) const {
  std::string stored;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->Handle(family),
                                     rocksdb::Slice(key.data(), key.size()), &stored);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocks(s, "read");
  Record record;
  if (!DecodeTimestamp(stored, &record.timestamp_ms)) {
    return absl::DataLossError(
        absl::StrCat("record without timestamp in family ", GetFamilyInfo(family).name));
  }
  if (IsExpired(family, record.timestamp_ms)) return std::nullopt;
  record.key = std::string(key);
  record.value = stored.substr(kTimestampBytes);
  return record;
}

absl::StatusOr<std::vector<std::optional<Record>>> Database::MultiGet(
    Family family, absl::Span<const std::string> keys) const {
  std::vector<std::optional<Record>> records(keys.size());
  if (keys.empty()) return records;
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  bool sorted = true;
  for (size_t i = 0; i < keys.size(); ++i) {
    slices.emplace_back(keys[i].data(), keys[i].size());
    if (i > 0 && keys[i] < keys[i - 1]) sorted = false;
  }
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  impl_->db->MultiGet(rocksdb::ReadOptions(), impl_->Handle(family), keys.size(), slices.data(),
                      values.data(), statuses.data(), sorted);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return FromRocks(statuses[i], "read");
    absl::string_view stored(values[i].data(), values[i].size());
    Record record;
    if (!DecodeTimestamp(stored, &record.timestamp_ms)) {
      return absl::DataLossError(
          absl::StrCat("record without timestamp in family ", GetFamilyInfo(family).name));
    }
    if (IsExpired(family, record.timestamp_ms)) continue;
    record.key = keys[i];
    record.value.assign(stored.data() + kTimestampBytes, stored.size() - kTimestampBytes);
    records[i] = std::move(record);
  }
  return records;
}

namespace {

absl::Status CheckAscending(absl::Span<const std::string> keys) {
  for (size_t i = 1; i < keys.size(); ++i) {
    if (keys[i] < keys[i - 1]) {
      return absl::InvalidArgumentError(
          absl::StrCat("VisitSorted: key ", i, " sorts before the key ahead of it"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RecordAccess::VisitSorted(
    Family family, absl::Span<const std::string> keys,
    absl::FunctionRef<absl::Status(size_t, absl::string_view)> visit) const {
  SH_RETURN_IF_ERROR(CheckAscending(keys));
  SH_ASSIGN_OR_RETURN(std::vector<std::optional<Record>> records, MultiGet(family, keys));
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i]) SH_RETURN_IF_ERROR(visit(i, records[i]->value));
  }
  return absl::OkStatus();
}

absl::Status Database::VisitSorted(
    Family family, absl::Span<const std::string> keys,
    absl::FunctionRef<absl::Status(size_t, absl::string_view)> visit) const {
  if (keys.empty()) return absl::OkStatus();
  SH_RETURN_IF_ERROR(CheckAscending(keys));
  // Up to this many steps forward are cheaper than a seek (a seek searches the index and a
  // data block of every level; a step mostly decodes the next entry of the block at hand).
  constexpr int kMaxSteps = 16;
  const std::string upper = absl::StrCat(keys.back(), absl::string_view("\0", 1));
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(read_options, impl_->Handle(family)));
  it->Seek(rocksdb::Slice(keys.front()));
  for (size_t i = 0; i < keys.size() && it->Valid(); ++i) {
    const rocksdb::Slice target(keys[i]);
    for (int steps = 0; it->Valid() && it->key().compare(target) < 0; ++steps) {
      if (steps == kMaxSteps) {
        it->Seek(target);
        break;
      }
      it->Next();
    }
    if (!it->Valid()) break;  // past the last stored key: the rest are absent
    if (it->key() != target) continue;
    const rocksdb::Slice stored = it->value();
    int64_t timestamp_ms = 0;
    if (!DecodeTimestamp(absl::string_view(stored.data(), stored.size()), &timestamp_ms)) {
      return absl::DataLossError(
          absl::StrCat("record without timestamp in family ", GetFamilyInfo(family).name));
    }
    if (IsExpired(family, timestamp_ms)) continue;
    SH_RETURN_IF_ERROR(visit(
        i, absl::string_view(stored.data() + kTimestampBytes, stored.size() - kTimestampBytes)));
  }
  return FromRocks(it->status(), "read");
}

absl::Status Database::Scan(Family family, absl::string_view begin, absl::string_view end,
                            const std::function<bool(const Record&)>& visit) const {
  rocksdb::ReadOptions read_options;
  rocksdb::Slice upper(end.data(), end.size());
  if (!end.empty()) read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(read_options, impl_->Handle(family)));
  Record record;
  for (it->Seek(rocksdb::Slice(begin.data(), begin.size())); it->Valid(); it->Next()) {
    rocksdb::Slice value = it->value();
    if (!DecodeTimestamp(absl::string_view(value.data(), value.size()), &record.timestamp_ms)) {
      // As Get does: a record without its timestamp is reported, not silently skipped.
      return absl::DataLossError(
          absl::StrCat("record without timestamp in family ", GetFamilyInfo(family).name));
    }
    if (IsExpired(family, record.timestamp_ms)) continue;
    record.key.assign(it->key().data(), it->key().size());
    record.value.assign(value.data() + kTimestampBytes, value.size() - kTimestampBytes);
    if (!visit(record)) break;
  }
  return FromRocks(it->status(), "scan");
}

absl::Status Database::ScanPrefix(Family family, absl::string_view prefix,
                                  const std::function<bool(const Record&)>& visit) const {
  return Scan(family, prefix, PrefixSuccessor(prefix), visit);
}

absl::Status Database::CompactAll() {
  rocksdb::CompactRangeOptions compact_options;
  compact_options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* handle : impl_->handles) {
    absl::Status s =
        FromRocks(impl_->db->CompactRange(compact_options, handle, nullptr, nullptr), "compaction");
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Database::Flush() {
  rocksdb::FlushOptions flush_options;
  flush_options.wait = true;
  return FromRocks(impl_->db->Flush(flush_options, impl_->handles), "flush");
}

std::vector<FamilyStats> Database::Stats() const {
  std::vector<FamilyStats> stats;
  for (int i = 0; i < static_cast<int>(Family::kCount); ++i) {
    FamilyStats s;
    s.family = static_cast<Family>(i);
    auto* handle = impl_->handles[static_cast<size_t>(i)];
    impl_->db->GetIntProperty(handle, "rocksdb.estimate-num-keys", &s.estimated_keys);
    impl_->db->GetIntProperty(handle, "rocksdb.estimate-live-data-size", &s.live_data_bytes);
    impl_->db->GetIntProperty(handle, "rocksdb.total-sst-files-size", &s.sst_file_bytes);
    impl_->db->GetIntProperty(handle, "rocksdb.cur-size-all-mem-tables", &s.memtable_bytes);
    stats.push_back(s);
  }
  return stats;
}

}  // namespace stackhouse::storage
