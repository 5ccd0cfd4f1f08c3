#include "storage/pg/pg_partitions.h"

#include <optional>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/logging.h"
#include "common/saturating.h"
#include "common/status_macros.h"
#include "storage/database.h"

namespace stackhouse::storage::pg {
namespace {

constexpr char kDefaultSuffix[] = "_pdefault";

int64_t FloorDay(int64_t ms) {
  int64_t day = ms / kPartitionMs;
  if (ms % kPartitionMs < 0) --day;
  return day * kPartitionMs;
}

// "<table>_pYYYYMMDD" of the UTC day starting at `day_ms`.
std::string PartitionName(const PartitionedTable& table, int64_t day_ms) {
  return absl::StrCat(
      table.name, "_p",
      absl::FormatTime("%Y%m%d", absl::FromUnixMillis(day_ms), absl::UTCTimeZone()));
}

// The day start a partition's name stands for; nullopt for the default partition or a table
// that is not ours.
std::optional<int64_t> PartitionDay(const PartitionedTable& table, absl::string_view name) {
  const std::string prefix = absl::StrCat(table.name, "_p");
  if (!absl::StartsWith(name, prefix) || name.size() != prefix.size() + 8) return std::nullopt;
  // By hand: absl's %Y would take all eight digits for the year.
  absl::string_view digits = name.substr(prefix.size());
  int year = 0, month = 0, day = 0;
  if (!absl::SimpleAtoi(digits.substr(0, 4), &year) ||
      !absl::SimpleAtoi(digits.substr(4, 2), &month) ||
      !absl::SimpleAtoi(digits.substr(6, 2), &day)) {
    return std::nullopt;
  }
  const absl::CivilDay civil(year, month, day);
  if (civil.year() != year || civil.month() != month || civil.day() != day) return std::nullopt;
  return absl::ToUnixMillis(absl::FromCivil(civil, absl::UTCTimeZone()));
}

struct Counts {
  int created = 0;
  int dropped = 0;
  int64_t moved = 0;
  int64_t deleted = 0;
  bool skipped = false;
};

}  // namespace

int64_t TtlMs(const StoreOptions& ttl, TtlOf of) {
  switch (of) {
    case TtlOf::kRecord:
      return ttl.record_ttl_ms;
    case TtlOf::kMetrics:
      return ttl.metrics_ttl_ms;
    case TtlOf::kDictionary:
      return ttl.record_ttl_ms > 0 ? SaturatingAdd(ttl.record_ttl_ms, kDictionaryRefreshMs) : 0;
  }
  return 0;
}

const std::vector<PartitionedTable>& PartitionedTables() {
  // sh_metric: a row's liveness is its newest minute (stamp_ms), up to a day after its bucket
  // (a day row; a zone with daylight saving has 25-hour days), so its margin is two days.
  static const auto* tables = new std::vector<PartitionedTable>{
      {"sh_segment", "start_time_ms", TtlOf::kRecord, 0},
      {"sh_profile_dump", "dump_time_ms", TtlOf::kRecord, 0},
      {"sh_profiled_segment", "dump_time_ms", TtlOf::kRecord, 0},
      {"sh_go_profile", "dump_time_ms", TtlOf::kRecord, 0},
      {"sh_go_segment_profile", "dump_time_ms", TtlOf::kRecord, 0},
      {"sh_ebpf_block", "upload_time_ms", TtlOf::kRecord, 0},
      {"sh_ebpf_rollup", "minute_ms", TtlOf::kRecord, 0},
      {"sh_span_event", "stored_ms", TtlOf::kRecord, 0},
      {"sh_metric", "bucket_ms", TtlOf::kMetrics, 2 * kPartitionMs},
      {"sh_metric_relation", "minute_ms", TtlOf::kMetrics, 0},
      {"sh_sampled_record", "timestamp_ms", TtlOf::kRecord, 0},
  };
  return *tables;
}

const std::vector<ExpiringTable>& ExpiringTables() {
  // The dictionaries are the large ones (their stamps are indexed).
  static const auto* tables = new std::vector<ExpiringTable>{
      {"sh_service", "last_seen_ms", TtlOf::kMetrics},
      {"sh_instance", "last_heartbeat_ms", TtlOf::kMetrics},
      {"sh_endpoint", "last_seen_ms", TtlOf::kMetrics},
      {"sh_ebpf_process", "last_ping_ms", TtlOf::kMetrics},
      {"sh_ebpf_schedule", "end_time_ms", TtlOf::kMetrics},
      {"sh_ebpf_pending", "minute_ms", TtlOf::kRecord},
      {"sh_profile_task_log", "task_end_ms", TtlOf::kRecord},
      {"sh_profile_stack", "stamp_ms", TtlOf::kDictionary},
      {"sh_ebpf_stack", "stamp_ms", TtlOf::kDictionary},
  };
  return *tables;
}

PartitionKeeper::PartitionKeeper(Pool* pool, const Clock* clock, PartitionKeeperOptions options)
    : pool_(pool), clock_(clock), options_(std::move(options)) {}

PartitionKeeper::~PartitionKeeper() { Stop(); }

PartitionReport PartitionKeeper::RunOnce() {
  PartitionReport report;
  const int64_t now_ms = clock_->NowMillis();
  for (const PartitionedTable& table : PartitionedTables()) {
    absl::Status kept = KeepTable(table, now_ms, &report);
    if (!kept.ok()) report.failures.push_back(absl::StrCat(table.name, ": ", kept.message()));
  }
  for (const ExpiringTable& table : ExpiringTables()) {
    const int64_t cutoff = Cutoff(now_ms, TtlMs(options_.ttl, table.ttl));
    if (cutoff == INT64_MIN) continue;
    absl::StatusOr<Result> deleted =
        pool_->Exec(absl::StrCat("DELETE FROM ", table.name, " WHERE ", table.column, " <= $1"),
                    Params().Int64(cutoff));
    if (deleted.ok()) {
      report.deleted += deleted->affected();
    } else {
      report.failures.push_back(absl::StrCat(table.name, ": ", deleted.status().message()));
    }
  }
  return report;
}

absl::Status PartitionKeeper::KeepTable(const PartitionedTable& table, int64_t now_ms,
                                        PartitionReport* report) {
  const int64_t ttl_ms = TtlMs(options_.ttl, table.ttl);
  // A row whose column is at most this has expired, whatever its margin.
  const int64_t expired_to = SaturatingSub(Cutoff(now_ms, ttl_ms), table.margin_ms);
  auto expired = [&](int64_t day_ms) { return day_ms + kPartitionMs - 1 <= expired_to; };
  const int64_t today = FloorDay(now_ms);
  const int64_t first = today - kPartitionMs;
  const int64_t end = today + (int64_t{options_.days_ahead} + 1) * kPartitionMs;
  const std::string def = absl::StrCat(table.name, kDefaultSuffix);
  const std::string col = table.column;

  Counts counts;
  absl::Status kept = pool_->Transaction([&](Connection& conn) -> absl::Status {
    counts = Counts();
    SH_ASSIGN_OR_RETURN(Result locked,
                        conn.Exec("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))",
                                  Params().Text(absl::StrCat("sh_partitions ", table.name))));
    if (!locked.Bool(0, 0)) {
      counts.skipped = true;
      return absl::OkStatus();
    }
    SH_RETURN_IF_ERROR(conn.Exec("SELECT set_config('lock_timeout', $1, true)",
                                 Params().Text(absl::StrCat(options_.lock_timeout_ms, "ms")))
                           .status());
    SH_ASSIGN_OR_RETURN(Result children, conn.Exec("SELECT c.relname FROM pg_inherits i "
                                                   "JOIN pg_class c ON c.oid = i.inhrelid "
                                                   "WHERE i.inhparent = $1::regclass",
                                                   Params().Text(table.name)));
    std::set<int64_t> existing;
    for (int row = 0; row < children.rows(); ++row) {
      if (std::optional<int64_t> day = PartitionDay(table, children.Bytes(row, 0))) {
        existing.insert(*day);
      }
    }
    std::set<int64_t> wanted;
    for (int64_t day = first; day < end; day += kPartitionMs) wanted.insert(day);
    // Earlier live days the default partition holds rows of (a database migrated from schema 5,
    // a keeper that did not run for days).
    SH_ASSIGN_OR_RETURN(
        Result held, conn.Exec(absl::StrCat("SELECT DISTINCT ", col, " / ", kPartitionMs, " FROM ",
                                            def, " WHERE ", col, " > $1 AND ", col, " >= 0 AND ",
                                            col, " < $2 LIMIT 64"),
                               Params().Int64(expired_to).Int64(first)));
    for (int row = 0; row < held.rows(); ++row) wanted.insert(held.Int64(row, 0) * kPartitionMs);

    for (int64_t day : wanted) {
      if (existing.count(day) != 0 || expired(day)) continue;
      const int64_t next = day + kPartitionMs;
      const std::string range = absl::StrCat(col, " >= ", day, " AND ", col, " < ", next);
      SH_ASSIGN_OR_RETURN(
          Result any, conn.Exec(absl::StrCat("SELECT 1 FROM ", def, " WHERE ", range, " LIMIT 1")));
      const bool move = any.rows() > 0;
      if (move) {
        // The new partition may not be created while the default one holds rows of its range.
        SH_RETURN_IF_ERROR(conn.Exec(absl::StrCat("CREATE TEMP TABLE sh_moving (LIKE ", table.name,
                                                  ") ON COMMIT DROP"))
                               .status());
        SH_ASSIGN_OR_RETURN(Result moved,
                            conn.Exec(absl::StrCat("WITH d AS (DELETE FROM ", def, " WHERE ", range,
                                                   " RETURNING *) "
                                                   "INSERT INTO sh_moving SELECT * FROM d")));
        counts.moved += moved.affected();
      }
      SH_RETURN_IF_ERROR(
          conn.Exec(absl::StrCat("CREATE TABLE ", PartitionName(table, day), " PARTITION OF ",
                                 table.name, " FOR VALUES FROM (", day, ") TO (", next, ")"))
              .status());
      if (move) {
        SH_RETURN_IF_ERROR(
            conn.Exec(absl::StrCat("INSERT INTO ", table.name, " SELECT * FROM sh_moving"))
                .status());
        SH_RETURN_IF_ERROR(conn.Exec("DROP TABLE sh_moving").status());
      }
      ++counts.created;
    }
    for (int64_t day : existing) {
      if (!expired(day)) continue;
      SH_RETURN_IF_ERROR(
          conn.Exec(absl::StrCat("DROP TABLE ", PartitionName(table, day))).status());
      ++counts.dropped;
    }
    if (expired_to != INT64_MIN) {
      SH_ASSIGN_OR_RETURN(Result trimmed,
                          conn.Exec(absl::StrCat("DELETE FROM ", def, " WHERE ", col, " <= $1"),
                                    Params().Int64(expired_to)));
      counts.deleted += trimmed.affected();
    }
    return absl::OkStatus();
  });
  if (!kept.ok()) return kept;
  report->created += counts.created;
  report->dropped += counts.dropped;
  report->moved += counts.moved;
  report->deleted += counts.deleted;
  if (counts.skipped) ++report->skipped;
  return absl::OkStatus();
}

void PartitionKeeper::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] {
    auto log = GetLogger("storage");
    while (true) {
      {
        absl::MutexLock wait(&mu_);
        if (mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                                 absl::Milliseconds(options_.interval_ms))) {
          return;
        }
      }
      PartitionReport report = RunOnce();
      if (report.created + report.dropped > 0 || report.moved + report.deleted > 0) {
        log->info(
            "PostgreSQL partitions: {} created, {} dropped, {} rows moved, {} expired "
            "rows deleted",
            report.created, report.dropped, report.moved, report.deleted);
      }
      if (!report.failures.empty()) {
        log->warn("PostgreSQL partitions: {} (tried again in {} s)",
                  absl::StrJoin(report.failures, "; "), options_.interval_ms / 1000);
      }
    }
  });
}

void PartitionKeeper::Stop() {
  std::thread thread;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

}  // namespace stackhouse::storage::pg
