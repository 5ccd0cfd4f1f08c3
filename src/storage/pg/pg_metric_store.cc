#include "storage/pg/pg_metric_store.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "storage/metric_codec.h"

namespace stackhouse::storage::pg {
namespace {

// The step column: 1 minute, 2 hour, 3 day.
int StepCode(metrics::Step step) {
  switch (step) {
    case metrics::Step::kMinute:
      return 1;
    case metrics::Step::kHour:
      return 2;
    case metrics::Step::kDay:
      return 3;
  }
  return 1;
}

constexpr int64_t kMinuteMs = 60'000;
// Records a sweep folds at most.
constexpr int kMaxSweptRecords = 10'000;

// $1: the intake records' entities, $2 their minutes, $3 the time written, $4 their updates.
constexpr char kAddIntake[] = R"sql(
INSERT INTO sh_metric_intake (entity, minute_ms, written_ms, updates)
SELECT e, m, $3, u FROM unnest($1::text[], $2::bigint[], $4::bytea[]) AS t(e, m, u)
RETURNING seq, minute_ms, entity
)sql";

// $10 is the metrics cutoff: a row stamped at or before it has expired and starts afresh. $9
// holds each row's buckets as a bigint[] literal (keys ascending, each followed by its count).
constexpr char kUpsertRows[] = R"sql(
INSERT INTO sh_metric AS m (metric, entity, step, bucket_ms, label, sum, count, stamp_ms, buckets)
SELECT u.metric, u.entity, u.step, u.bucket_ms, u.label, u.sum, u.count, u.stamp_ms,
       u.buckets::bigint[]
FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::bytea[], $6::bigint[],
            $7::bigint[], $8::bigint[], $9::text[])
  AS u(metric, entity, step, bucket_ms, label, sum, count, stamp_ms, buckets)
ON CONFLICT (metric, entity, step, bucket_ms, label) DO UPDATE SET
  sum = CASE WHEN m.stamp_ms <= $10 THEN EXCLUDED.sum ELSE sh_sat_add(m.sum, EXCLUDED.sum) END,
  count = CASE WHEN m.stamp_ms <= $10 THEN EXCLUDED.count
               ELSE sh_sat_add(m.count, EXCLUDED.count) END,
  buckets = CASE WHEN m.stamp_ms <= $10 THEN EXCLUDED.buckets
                 ELSE sh_merge_buckets(m.buckets, EXCLUDED.buckets) END,
  stamp_ms = CASE WHEN m.stamp_ms <= $10 THEN EXCLUDED.stamp_ms
                  ELSE GREATEST(m.stamp_ms, EXCLUDED.stamp_ms) END
)sql";

// The stored rows (kind 0) and the unfolded intake records (kind 1) of one metric and entity, in
// one statement: one snapshot, so that a fold committing meanwhile is seen before or after,
// never half. $6 and $7 bound the records' minutes.
constexpr char kReadRows[] = R"sql(
SELECT 0, bucket_ms, label, sum, count, buckets, NULL::bytea FROM sh_metric
WHERE metric = $1 AND entity = $2 AND step = $3::int AND bucket_ms = ANY($4::bigint[])
  AND stamp_ms > $5
UNION ALL
SELECT 1, minute_ms, NULL::bytea, NULL::bigint, NULL::bigint, NULL::bigint[], updates
FROM sh_metric_intake
WHERE entity = $2 AND minute_ms >= $6 AND minute_ms <= $7 AND minute_ms > $5
)sql";

// Decodes intake records (columns: seq, minute, updates) into `into`, appending their seqs to
// `seqs`; an unreadable record is only counted (its seq is appended: it is deleted with the
// rest).
void AddIntakeRecords(const Result& r, PendingMinutes* into, std::vector<int64_t>* seqs,
                      int64_t* unreadable) {
  for (int row = 0; row < r.rows(); ++row) {
    const int64_t seq = r.Int64(row, 0);
    seqs->push_back(seq);
    std::optional<IntakeLogRecord> log = DecodeIntakeLog(r.Bytes(row, 2));
    if (!log || log->minute_ms != r.Int64(row, 1)) {
      ++*unreadable;
      continue;
    }
    std::vector<const metrics::MetricUpdate*> updates;
    updates.reserve(log->updates.size());
    for (const metrics::MetricUpdate& u : log->updates) updates.push_back(&u);
    (*into)[log->minute_ms].Add(updates.data(), updates.size(), static_cast<uint64_t>(seq));
  }
}

constexpr char kAddRelations[] = R"sql(
INSERT INTO sh_metric_relation AS r (instance_id, minute_ms, server_side, client_id, server_id,
                                     component)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::text[], $5::text[], $6::int[])
ON CONFLICT (instance_id, minute_ms, server_side, client_id, server_id) DO UPDATE SET
  component = CASE WHEN sh_component_priority(EXCLUDED.component) >
                        sh_component_priority(r.component)
                   THEN EXCLUDED.component ELSE r.component END
)sql";

constexpr char kAddSampledRecords[] = R"sql(
INSERT INTO sh_sampled_record AS s (record, entity, timestamp_ms, trace_id, latency_ms, uri)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[], $5::bigint[], $6::bytea[])
ON CONFLICT (record, entity, timestamp_ms, trace_id) DO UPDATE SET
  latency_ms = EXCLUDED.latency_ms, uri = EXCLUDED.uri
)sql";

}  // namespace

int64_t PgMetricStore::HourStart(int64_t minute_ms) const {
  return BucketStart(metrics::Step::kHour, minute_ms, zone_);
}

int64_t PgMetricStore::DayStart(int64_t minute_ms) const {
  return BucketStart(metrics::Step::kDay, minute_ms, zone_);
}

absl::Status PgMetricStore::Write(const std::string& name, absl::string_view sql,
                                  const Params& params) {
  return pool_->ExecPreparedRetried(name, sql, params).status();
}

PgMetricStore::~PgMetricStore() {
  if (absl::Status s = FoldAll(); !s.ok()) {
    GetLogger("storage")->warn(
        "meter rows: the fold at shutdown failed; a node's sweep folds them later: {}",
        s.ToString());
  }
}

int64_t PgMetricStore::BucketOf(metrics::Step step, int64_t minute_ms) const {
  return BucketStart(step, minute_ms, zone_);
}

size_t PgMetricStore::pending_rows() const {
  absl::MutexLock lock(&mu_);
  return pending_rows_;
}

size_t PgMetricStore::pending_log_records() const {
  absl::MutexLock lock(&mu_);
  size_t n = folding_seqs_.size();
  for (const auto& [minute, p] : pending_) n += p.log_records().size();
  return n;
}

absl::Status PgMetricStore::AddMetrics(const std::vector<metrics::MetricUpdate>& updates) {
  const int64_t now = clock_->NowMillis();
  const int64_t cutoff = MetricsCutoff();
  std::vector<const metrics::MetricUpdate*> kept;
  kept.reserve(updates.size());
  for (const metrics::MetricUpdate& u : updates) {
    if (u.metric != nullptr && u.minute_ms > cutoff) kept.push_back(&u);  // expired: never read
  }
  if (kept.empty()) return absl::OkStatus();
  // One intake record per minute and entity (readers fetch an entity's records only).
  std::stable_sort(kept.begin(), kept.end(),
                   [](const metrics::MetricUpdate* a, const metrics::MetricUpdate* b) {
                     if (a->minute_ms != b->minute_ms) return a->minute_ms < b->minute_ms;
                     return a->entity_id < b->entity_id;
                   });
  struct Group {
    size_t begin, end;
  };
  std::vector<Group> groups;
  std::vector<std::string> entities, payloads;
  std::vector<int64_t> minutes;
  std::vector<const metrics::MetricUpdate*> group;
  for (size_t begin = 0; begin < kept.size();) {
    size_t end = begin + 1;
    while (end < kept.size() && kept[end]->minute_ms == kept[begin]->minute_ms &&
           kept[end]->entity_id == kept[begin]->entity_id) {
      ++end;
    }
    group.assign(kept.begin() + static_cast<std::ptrdiff_t>(begin),
                 kept.begin() + static_cast<std::ptrdiff_t>(end));
    groups.push_back({begin, end});
    entities.push_back(kept[begin]->entity_id);
    minutes.push_back(kept[begin]->minute_ms);
    payloads.push_back(EncodeIntakeLog(kept[begin]->minute_ms, group));
    begin = end;
  }
  SH_ASSIGN_OR_RETURN(
      Result r,
      pool_->ExecPrepared(
          "sh_add_metric_intake", kAddIntake,
          Params().TextArray(entities).Int64Array(minutes).Int64(now).BytesArray(payloads)));
  // (minute, entity) is unique within the call: it names the record's group.
  absl::flat_hash_map<std::pair<int64_t, std::string>, int64_t> seq_of;
  for (int row = 0; row < r.rows(); ++row) {
    seq_of.emplace(std::make_pair(r.Int64(row, 1), r.String(row, 2)), r.Int64(row, 0));
  }
  int64_t fold_cutoff = INT64_MIN;
  bool sweep = false;
  {
    absl::MutexLock lock(&mu_);
    const int64_t newest_before = newest_minute_;
    for (size_t g = 0; g < groups.size(); ++g) {
      auto seq = seq_of.find(std::make_pair(minutes[g], entities[g]));
      if (seq == seq_of.end()) {
        return absl::InternalError("PostgreSQL did not return an intake record it inserted");
      }
      pending_rows_ +=
          pending_[minutes[g]].Add(kept.data() + groups[g].begin, groups[g].end - groups[g].begin,
                                   static_cast<uint64_t>(seq->second));
      newest_minute_ = std::max(newest_minute_, minutes[g]);
      first_held_ms_.try_emplace(minutes[g], now);
    }
    if (pending_rows_ > max_pending_rows_) {
      fold_cutoff = INT64_MAX;
    } else if (newest_minute_ > newest_before && newest_minute_ > INT64_MIN + kMinuteMs) {
      // The newest minute moved on: fold the minutes before the one preceding it, as
      // RocksMetricStore does (a report of the previous minute may still come).
      fold_cutoff = newest_minute_ - kMinuteMs;
      if (pending_.empty() || pending_.begin()->first >= fold_cutoff) fold_cutoff = INT64_MIN;
    }
    // And every minute held for kMaxPendingAgeMs (its reporters stopped, or report an old time),
    // with the minutes before it.
    for (const auto& [minute, since] : first_held_ms_) {
      if (now - since >= kMaxPendingAgeMs) fold_cutoff = std::max(fold_cutoff, minute + 1);
    }
    if (last_sweep_ms_ == INT64_MIN || now - last_sweep_ms_ >= kMinuteMs) {
      last_sweep_ms_ = now;
      sweep = true;
    }
  }
  // The updates are durable in the log whatever happens below: a failed fold leaves them
  // pending, a failed sweep leaves the records for the next one.
  if (fold_cutoff != INT64_MIN) {
    if (absl::Status s = Fold(fold_cutoff); !s.ok()) {
      GetLogger("storage")->error("meter rows: a fold failed, the rows stay pending: {}",
                                  s.ToString());
    }
  }
  if (sweep) {
    if (absl::Status s = SweepOrphans(); !s.ok()) {
      GetLogger("storage")->error("meter rows: a sweep of the intake log failed: {}", s.ToString());
    }
  }
  return absl::OkStatus();
}

absl::Status PgMetricStore::FoldAll() { return Fold(INT64_MAX); }

absl::Status PgMetricStore::WriteFold(Connection& conn, const PendingMinutes& minutes,
                                      const std::vector<int64_t>& seqs) {
  if (!seqs.empty()) {
    SH_ASSIGN_OR_RETURN(
        Result deleted,
        conn.ExecPrepared("sh_delete_metric_intake",
                          "DELETE FROM sh_metric_intake WHERE seq = ANY($1::bigint[])",
                          Params().Int64Array(seqs)));
    if (deleted.affected() != static_cast<int64_t>(seqs.size())) {
      return absl::FailedPreconditionError(
          absl::StrCat("meter intake: ", static_cast<int64_t>(seqs.size()) - deleted.affected(),
                       " of ", seqs.size(), " records were folded by another node"));
    }
  }
  // One row per key (a statement may not update a row twice), in key order (so that nodes lock
  // rows in the same order): (metric, entity, step, bucket, label) → the sum of its rows.
  const int64_t cutoff = MetricsCutoff();
  using Key = std::tuple<absl::string_view, absl::string_view, int, int64_t, absl::string_view>;
  struct Row {
    metrics::Accumulator sum;
    int64_t stamp_ms;
  };
  std::map<Key, Row> rows;
  for (const auto& [minute, pending] : minutes) {
    if (minute <= cutoff) continue;  // expired: its rows would never be read
    const std::pair<int, int64_t> buckets[] = {{StepCode(metrics::Step::kMinute), minute},
                                               {StepCode(metrics::Step::kHour), HourStart(minute)},
                                               {StepCode(metrics::Step::kDay), DayStart(minute)}};
    for (const auto& [series, labels] : pending.series()) {
      const absl::string_view metric = series.first->name;
      const absl::string_view entity = pending.entity(series.second);
      for (const auto& [label, row] : labels) {
        for (const auto& [step, start] : buckets) {
          auto [it, inserted] =
              rows.try_emplace(Key(metric, entity, step, start, label), Row{row, minute});
          if (!inserted) {
            it->second.sum.Merge(row);
            it->second.stamp_ms = std::max(it->second.stamp_ms, minute);
          }
        }
      }
    }
  }
  if (rows.empty()) return absl::OkStatus();
  std::vector<std::string> metric, entity, label, bucket_lists;
  std::vector<int32_t> step;
  std::vector<int64_t> bucket, sum, count, stamp;
  for (const auto& [key, row] : rows) {
    const auto& [m, e, s, start, l] = key;
    metric.emplace_back(m);
    entity.emplace_back(e);
    step.push_back(s);
    bucket.push_back(start);
    label.emplace_back(l);
    sum.push_back(row.sum.sum);
    count.push_back(row.sum.count);
    stamp.push_back(row.stamp_ms);
    std::string& list = bucket_lists.emplace_back("{");
    for (const auto& [bucket_key, n] : row.sum.buckets) {
      absl::StrAppend(&list, list.size() > 1 ? "," : "", bucket_key, ",", n);
    }
    list.push_back('}');
  }
  return conn
      .ExecPrepared("sh_upsert_metric_rows", kUpsertRows,
                    Params()
                        .TextArray(metric)
                        .TextArray(entity)
                        .Int32Array(step)
                        .Int64Array(bucket)
                        .BytesArray(label)
                        .Int64Array(sum)
                        .Int64Array(count)
                        .Int64Array(stamp)
                        .TextArray(bucket_lists)
                        .Int64(cutoff))
      .status();
}

absl::Status PgMetricStore::Fold(int64_t cutoff_ms) {
  PendingMinutes taken;
  std::map<int64_t, int64_t> taken_since;  // minute → first held
  std::vector<int64_t> seqs;
  {
    absl::MutexLock lock(&mu_);
    if (fold_running_) return absl::OkStatus();  // it holds or will take what is older
    auto end = pending_.lower_bound(cutoff_ms);
    if (end == pending_.begin()) return absl::OkStatus();
    for (auto it = pending_.begin(); it != end;) {
      pending_rows_ -= it->second.rows();
      for (uint64_t seq : it->second.log_records()) seqs.push_back(static_cast<int64_t>(seq));
      if (auto since = first_held_ms_.find(it->first); since != first_held_ms_.end()) {
        taken_since[it->first] = since->second;
        first_held_ms_.erase(since);
      }
      taken.insert(pending_.extract(it++));
    }
    folding_seqs_ = seqs;
    fold_running_ = true;
  }
  auto write = [&](Connection& conn) { return WriteFold(conn, taken, seqs); };
  absl::Status written = pool_->Transaction(write);
  if (absl::IsFailedPrecondition(written)) {
    // A sweep took some of the records (this node looked dead to it): fold what is left of
    // them, read back from the log, instead.
    GetLogger("storage")->warn("meter rows: {}; folding the rest", written.message());
    absl::StatusOr<Result> left = pool_->ExecPrepared(
        "sh_reread_metric_intake",
        "SELECT seq, minute_ms, updates FROM sh_metric_intake WHERE seq = ANY($1::bigint[])",
        Params().Int64Array(seqs));
    written = left.status();
    if (left.ok()) {
      taken.clear();
      seqs.clear();
      int64_t unreadable = 0;
      AddIntakeRecords(*left, &taken, &seqs, &unreadable);
      written = pool_->Transaction(write);
    }
  }
  absl::MutexLock lock(&mu_);
  if (!written.ok()) {
    // Back to pending, for a later fold.
    const int64_t now = clock_->NowMillis();
    for (const auto& [minute, p] : taken) {
      pending_rows_ += pending_[minute].Merge(p);
      auto since = taken_since.find(minute);
      int64_t& held = first_held_ms_.try_emplace(minute, now).first->second;
      if (since != taken_since.end()) held = std::min(held, since->second);
    }
  }
  folding_seqs_.clear();
  fold_running_ = false;
  return written;
}

absl::Status PgMetricStore::SweepOrphans(int64_t min_age_ms) {
  std::vector<int64_t> held;
  {
    absl::MutexLock lock(&mu_);
    held = folding_seqs_;
    for (const auto& [minute, p] : pending_) {
      for (uint64_t seq : p.log_records()) held.push_back(static_cast<int64_t>(seq));
    }
  }
  const int64_t before = clock_->NowMillis() - std::max<int64_t>(0, min_age_ms);
  size_t swept = 0;
  int64_t unreadable = 0;
  absl::Status s = pool_->Transaction([&](Connection& conn) -> absl::Status {
    SH_ASSIGN_OR_RETURN(
        Result r,
        conn.ExecPrepared("sh_sweep_metric_intake",
                          "SELECT seq, minute_ms, updates FROM sh_metric_intake "
                          "WHERE written_ms <= $1 AND NOT (seq = ANY($2::bigint[])) "
                          "ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED",
                          Params().Int64(before).Int64Array(held).Int64(kMaxSweptRecords)));
    PendingMinutes orphans;
    std::vector<int64_t> seqs;
    unreadable = 0;
    AddIntakeRecords(r, &orphans, &seqs, &unreadable);
    swept = seqs.size();
    return WriteFold(conn, orphans, seqs);
  });
  if (s.ok() && swept > 0) {
    GetLogger("storage")->info(
        "meter rows: folded {} intake record(s) no node had folded ({} unreadable, dropped)", swept,
        unreadable);
  }
  return s;
}

absl::StatusOr<std::vector<metrics::LabeledRows>> PgMetricStore::ReadRows(
    const metrics::MetricDefinition& metric, absl::string_view entity_id,
    const metrics::TimeBuckets& buckets) {
  std::vector<metrics::LabeledRows> series;
  if (buckets.starts_ms.empty()) return series;
  absl::flat_hash_map<int64_t, size_t> index_of;
  int64_t first = buckets.starts_ms.front(), last = buckets.starts_ms.front();
  for (size_t i = 0; i < buckets.starts_ms.size(); ++i) {
    index_of.emplace(buckets.starts_ms[i], i);
    first = std::min(first, buckets.starts_ms[i]);
    last = std::max(last, buckets.starts_ms[i]);
  }
  // The minutes of the last bucket: a day may have 25 hours; BucketOf sorts them out below.
  const int64_t span_ms = buckets.step == metrics::Step::kMinute ? 0
                          : buckets.step == metrics::Step::kHour ? 3'600'000 - kMinuteMs
                                                                 : 25 * 3'600'000 - kMinuteMs;
  const int64_t last_minute = last > INT64_MAX - span_ms ? INT64_MAX : last + span_ms;
  SH_ASSIGN_OR_RETURN(Result r, pool_->ExecPrepared("sh_read_metric_rows", kReadRows,
                                                    Params()
                                                        .Text(metric.name)
                                                        .Text(entity_id)
                                                        .Int64(StepCode(buckets.step))
                                                        .Int64Array(buckets.starts_ms)
                                                        .Int64(MetricsCutoff())
                                                        .Int64(first)
                                                        .Int64(last_minute)));
  absl::flat_hash_map<std::string, size_t> series_of;
  auto add = [&](absl::string_view label, size_t slot, const metrics::Accumulator& row) {
    auto [it, inserted] = series_of.try_emplace(std::string(label), series.size());
    if (inserted) {
      series.push_back({std::string(label), std::vector<std::optional<metrics::Accumulator>>(
                                                buckets.starts_ms.size())});
    }
    std::optional<metrics::Accumulator>& into = series[it->second].rows[slot];
    if (into) {
      into->Merge(row);
    } else {
      into = row;
    }
  };
  for (int row = 0; row < r.rows(); ++row) {
    if (r.Int64(row, 0) == 0) {
      auto slot = index_of.find(r.Int64(row, 1));
      std::optional<std::vector<int64_t>> list = r.Int64Array(row, 5);
      if (!list || list->size() % 2 != 0) {
        return absl::DataLossError(absl::StrCat("unreadable histogram buckets of metric ",
                                                metric.name, " for ", entity_id));
      }
      if (slot == index_of.end()) continue;
      metrics::Accumulator a;
      a.sum = r.Int64(row, 3);
      a.count = r.Int64(row, 4);
      a.buckets.reserve(list->size() / 2);
      for (size_t i = 0; i < list->size(); i += 2) a.buckets.Add((*list)[i], (*list)[i + 1]);
      add(r.Bytes(row, 2), slot->second, a);
      continue;
    }
    std::optional<IntakeLogRecord> log = DecodeIntakeLog(r.Bytes(row, 6));
    if (!log) {
      return absl::DataLossError(absl::StrCat("unreadable meter intake record of ", entity_id));
    }
    auto slot = index_of.find(BucketOf(buckets.step, log->minute_ms));
    if (slot == index_of.end()) continue;
    for (const metrics::MetricUpdate& u : log->updates) {
      if (u.metric->name == metric.name && u.entity_id == entity_id) {
        add(u.label_value, slot->second, u.delta);
      }
    }
  }
  std::sort(series.begin(), series.end(),
            [](const auto& a, const auto& b) { return a.label_value < b.label_value; });
  return series;
}

absl::Status PgMetricStore::AddRelations(const std::vector<metrics::RelationRow>& rows) {
  // Only rows that change what this node wrote lately; one row per key, in key order; of two
  // writes of one key the component of higher priority wins, a tie keeps the first.
  using Key = std::tuple<absl::string_view, int64_t, int, absl::string_view, absl::string_view>;
  const std::vector<const metrics::RelationRow*> to_write = written_relations_.ToWrite(rows);
  std::map<Key, int> merged;
  for (const metrics::RelationRow* row : to_write) {
    auto [it, inserted] =
        merged.try_emplace(Key(row->instance_id, row->minute_ms, row->server_side ? 1 : 0,
                               row->client_process_id, row->server_process_id),
                           row->component_id);
    if (!inserted && ComponentPriority(row->component_id) > ComponentPriority(it->second)) {
      it->second = row->component_id;
    }
  }
  if (merged.empty()) return absl::OkStatus();
  std::vector<std::string> instances, clients, servers;
  std::vector<int64_t> minutes;
  std::vector<int32_t> sides, components;
  for (const auto& [key, component] : merged) {
    const auto& [instance, minute, side, client, server] = key;
    instances.emplace_back(instance);
    minutes.push_back(minute);
    sides.push_back(side);
    clients.emplace_back(client);
    servers.emplace_back(server);
    components.push_back(component);
  }
  Params params;
  params.TextArray(instances)
      .Int64Array(minutes)
      .Int32Array(sides)
      .TextArray(clients)
      .TextArray(servers)
      .Int32Array(components);
  SH_RETURN_IF_ERROR(Write("sh_add_relations", kAddRelations, params));
  written_relations_.Remember(to_write);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<metrics::RelationRow>> PgMetricStore::ReadRelations(
    absl::string_view instance_id, int64_t start_minute_ms, int64_t end_minute_ms) const {
  std::vector<metrics::RelationRow> rows;
  if (end_minute_ms < start_minute_ms) return rows;
  SH_ASSIGN_OR_RETURN(
      Result r,
      pool_->ExecPrepared("sh_read_relations",
                          "SELECT minute_ms, server_side, client_id, server_id, component "
                          "FROM sh_metric_relation WHERE instance_id = $1 AND minute_ms >= $2 "
                          "AND minute_ms <= $3 AND minute_ms > $4 "
                          "ORDER BY minute_ms, server_side, client_id, server_id",
                          Params()
                              .Text(instance_id)
                              .Int64(start_minute_ms)
                              .Int64(end_minute_ms)
                              .Int64(MetricsCutoff())));
  rows.resize(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    metrics::RelationRow& out = rows[static_cast<size_t>(row)];
    out.instance_id = std::string(instance_id);
    out.minute_ms = r.Int64(row, 0);
    out.server_side = r.Int64(row, 1) != 0;
    out.client_process_id = r.String(row, 2);
    out.server_process_id = r.String(row, 3);
    out.component_id = static_cast<int>(r.Int64(row, 4));
  }
  return rows;
}

absl::Status PgMetricStore::AddSampledRecords(const std::vector<metrics::SampledTrace>& records) {
  // One row per (record, entity, time, trace id), the last copy winning.
  using Key = std::tuple<absl::string_view, absl::string_view, int64_t, absl::string_view>;
  std::map<Key, const metrics::SampledRecord*> last;
  for (const metrics::SampledTrace& r : records) {
    last[Key(r.record, r.entity_id, r.value.timestamp_ms, r.value.trace_id)] = &r.value;
  }
  if (last.empty()) return absl::OkStatus();
  std::vector<std::string> names, entities, traces, uris;
  std::vector<int64_t> times, latencies;
  for (const auto& [key, value] : last) {
    const auto& [record, entity, time, trace] = key;
    names.emplace_back(record);
    entities.emplace_back(entity);
    times.push_back(time);
    traces.emplace_back(trace);
    latencies.push_back(std::max<int64_t>(0, value->latency_ms));
    uris.push_back(value->uri);
  }
  Params params;
  params.TextArray(names)
      .TextArray(entities)
      .Int64Array(times)
      .BytesArray(traces)
      .Int64Array(latencies)
      .BytesArray(uris);
  return Write("sh_add_sampled_records", kAddSampledRecords, params);
}

absl::StatusOr<std::vector<metrics::SampledRecord>> PgMetricStore::TopRecords(
    absl::string_view record, absl::string_view entity_id, int64_t start_ms, int64_t end_ms,
    int limit, bool ascending) {
  std::vector<metrics::SampledRecord> out;
  if (limit <= 0 || end_ms <= start_ms) return out;
  // Newer first among equal latencies, as RocksDB's store answers.
  const std::string sql = absl::StrCat(
      "SELECT timestamp_ms, trace_id, latency_ms, uri FROM sh_sampled_record "
      "WHERE record = $1 AND entity = $2 AND timestamp_ms >= $3 AND timestamp_ms < $4 "
      "AND timestamp_ms > $5 ORDER BY latency_ms ",
      ascending ? "ASC" : "DESC", ", timestamp_ms DESC, trace_id LIMIT $6");
  SH_ASSIGN_OR_RETURN(
      Result r, pool_->ExecPrepared(ascending ? "sh_top_records_asc" : "sh_top_records_desc", sql,
                                    Params()
                                        .Text(record)
                                        .Text(entity_id)
                                        .Int64(start_ms)
                                        .Int64(end_ms)
                                        .Int64(Cutoff(clock_->NowMillis(), options_.record_ttl_ms))
                                        .Int64(limit)));
  out.resize(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    metrics::SampledRecord& s = out[static_cast<size_t>(row)];
    s.timestamp_ms = r.Int64(row, 0);
    s.trace_id = r.String(row, 1);
    s.latency_ms = r.Int64(row, 2);
    s.uri = r.String(row, 3);
  }
  return out;
}

}  // namespace stackhouse::storage::pg
