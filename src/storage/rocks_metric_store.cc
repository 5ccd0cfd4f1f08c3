#include "storage/rocks_metric_store.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "storage/key_codec.h"
#include "storage/metric_codec.h"
#include "storage/varint.h"

namespace stackhouse::storage {
namespace {

constexpr int64_t kMinuteMs = 60'000;

BucketStep StepOf(metrics::Step step) {
  switch (step) {
    case metrics::Step::kMinute:
      return BucketStep::kMinute;
    case metrics::Step::kHour:
      return BucketStep::kHour;
    case metrics::Step::kDay:
      return BucketStep::kDay;
  }
  return BucketStep::kMinute;
}

std::string RelationPrefix(absl::string_view instance_id) {
  std::string key(1, kRelationRowTag);
  AppendString(&key, instance_id);
  return key;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RocksMetricStore>> RocksMetricStore::Open(Database* db,
                                                                         absl::TimeZone zone,
                                                                         size_t max_pending_rows) {
  auto store = absl::WrapUnique(new RocksMetricStore(db, zone, max_pending_rows));
  uint64_t next = 0;
  int64_t unknown_metrics = 0;
  absl::MutexLock lock(&store->mu_);
  absl::Status s =
      db->ScanPrefix(Family::kMeter, std::string(1, kIntakeLogTag), [&](const Record& record) {
        std::optional<uint64_t> sequence = IntakeLogSequence(record.key);
        if (!sequence) return true;  // not written by this version: left alone
        next = std::max(next, *sequence + 1);
        std::optional<IntakeLogRecord> log = DecodeIntakeLog(record.value);
        if (!log) {
          store->unreadable_records_.push_back(*sequence);
          return true;
        }
        unknown_metrics += log->unknown_metrics;
        std::vector<const metrics::MetricUpdate*> updates;
        updates.reserve(log->updates.size());
        for (const metrics::MetricUpdate& u : log->updates) updates.push_back(&u);
        store->AddPendingLocked(log->minute_ms, updates.data(), updates.size(), *sequence);
        return true;
      });
  if (!s.ok()) return s;
  store->next_record_.store(next);
  if (!store->unreadable_records_.empty() || unknown_metrics > 0) {
    GetLogger("storage")->warn(
        "meter intake log: {} unreadable record(s) and {} update(s) of metrics this version "
        "does not have left out",
        store->unreadable_records_.size(), unknown_metrics);
  }
  return store;
}

int64_t RocksMetricStore::HourStart(int64_t minute_ms) const {
  return BucketStart(metrics::Step::kHour, minute_ms, zone_);
}

int64_t RocksMetricStore::DayStart(int64_t minute_ms) const {
  return BucketStart(metrics::Step::kDay, minute_ms, zone_);
}

int64_t RocksMetricStore::BucketOf(metrics::Step step, int64_t minute_ms) const {
  return BucketStart(step, minute_ms, zone_);
}

size_t RocksMetricStore::pending_rows() const {
  absl::MutexLock lock(&mu_);
  return pending_rows_ + (folding_ ? folding_rows_ : 0);
}

size_t RocksMetricStore::pending_log_records() const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [minute, p] : pending_) n += p.log_records().size();
  if (folding_) {
    for (const auto& [minute, p] : *folding_) n += p.log_records().size();
  }
  return n;
}

void RocksMetricStore::AddPendingLocked(int64_t minute_ms,
                                        const metrics::MetricUpdate* const* updates, size_t count,
                                        uint64_t record) {
  pending_rows_ += pending_[minute_ms].Add(updates, count, record);
  newest_minute_ = std::max(newest_minute_, minute_ms);
}

absl::Status RocksMetricStore::AddMetrics(const std::vector<metrics::MetricUpdate>& updates) {
  std::vector<const metrics::MetricUpdate*> kept;
  kept.reserve(updates.size());
  for (const metrics::MetricUpdate& u : updates) {
    if (u.metric != nullptr) kept.push_back(&u);
  }
  if (kept.empty()) return absl::OkStatus();
  // One log record per minute (a data set has one time, so usually one record): a fold then
  // deletes the records of exactly the minutes it wrote.
  std::stable_sort(kept.begin(), kept.end(),
                   [](const metrics::MetricUpdate* a, const metrics::MetricUpdate* b) {
                     return a->minute_ms < b->minute_ms;
                   });
  struct Group {
    size_t begin, end;
    uint64_t record;
  };
  std::vector<Group> groups;
  WriteBatch batch;
  std::vector<const metrics::MetricUpdate*> group;
  for (size_t begin = 0; begin < kept.size();) {
    size_t end = begin;
    while (end < kept.size() && kept[end]->minute_ms == kept[begin]->minute_ms) ++end;
    group.assign(kept.begin() + static_cast<std::ptrdiff_t>(begin),
                 kept.begin() + static_cast<std::ptrdiff_t>(end));
    const uint64_t record = next_record_.fetch_add(1);
    const int64_t minute = kept[begin]->minute_ms;
    batch.Put(Family::kMeter, IntakeLogKey(record), minute, EncodeIntakeLog(minute, group));
    groups.push_back({begin, end, record});
    begin = end;
  }
  // Durable (acknowledgeable) from here on; the pending rows are what the log holds.
  SH_RETURN_IF_ERROR(db_->Write(std::move(batch)));

  int64_t cutoff = INT64_MIN;
  {
    absl::MutexLock lock(&mu_);
    const int64_t newest_before = newest_minute_;
    for (const Group& g : groups) {
      AddPendingLocked(kept[g.begin]->minute_ms, kept.data() + g.begin, g.end - g.begin, g.record);
    }
    if (pending_rows_ > max_pending_rows_) {
      cutoff = INT64_MAX;
    } else if (newest_minute_ > newest_before && newest_minute_ > INT64_MIN + kMinuteMs) {
      // The newest minute moved on: fold the minutes before the one preceding it. A report of
      // the previous minute may still come (reporters' clocks and intervals differ); one of an
      // older minute adds a merge operand to its rows at the next fold.
      cutoff = newest_minute_ - kMinuteMs;
      if (pending_.empty() || pending_.begin()->first >= cutoff) cutoff = INT64_MIN;
    }
  }
  if (cutoff != INT64_MIN) {
    if (absl::Status s = Fold(cutoff); !s.ok()) {
      // The updates are durable in the log and still pending; the next fold tries again.
      GetLogger("storage")->error("meter rows: a fold failed, the rows stay pending: {}",
                                  s.ToString());
    }
  }
  return absl::OkStatus();
}

absl::Status RocksMetricStore::FoldAll() { return Fold(INT64_MAX); }

absl::Status RocksMetricStore::Fold(int64_t cutoff_ms) {
  std::shared_ptr<const PendingMinutes> folding;
  std::vector<uint64_t> unreadable;
  size_t row_count = 0;
  {
    absl::MutexLock lock(&mu_);
    if (fold_running_) return absl::OkStatus();  // it holds or will take what is older
    auto end = pending_.lower_bound(cutoff_ms);
    if (end == pending_.begin() && unreadable_records_.empty()) return absl::OkStatus();
    auto taken = std::make_shared<PendingMinutes>();
    for (auto it = pending_.begin(); it != end;) {
      row_count += it->second.rows();
      taken->insert(pending_.extract(it++));
    }
    pending_rows_ -= row_count;
    folding_rows_ = row_count;
    unreadable.swap(unreadable_records_);
    folding_ = taken;
    folding = std::move(taken);
    fold_running_ = true;
  }

  // Each row's minute, hour and day operand (one encoded value). A fold of several minutes of
  // one hour writes an hour operand per minute: summing them first cost more than the operands.
  struct Operand {
    std::string key;
    int64_t timestamp_ms;
    const std::string* value;
  };
  std::vector<std::string> values;
  values.reserve(row_count);  // never reallocates: the operands point into it
  std::vector<Operand> operands;
  operands.reserve(row_count * 3);
  WriteBatch batch;
  for (const auto& [minute, pending] : *folding) {
    for (uint64_t record : pending.log_records())
      batch.Delete(Family::kMeter, IntakeLogKey(record));
    if (db_->IsExpired(Family::kMeter, minute)) continue;  // its rows would be dropped anyway
    const int64_t hour = HourStart(minute), day = DayStart(minute);
    for (const auto& [series, labels] : pending.series()) {
      const std::string prefix = MetricSeriesPrefix(BucketStep::kMinute, series.first->name,
                                                    pending.entity(series.second));
      for (const auto& [label, row] : labels) {
        values.push_back(EncodeAccumulator(row));
        const std::string* value = &values.back();
        operands.push_back(
            {MetricRowKey(prefix, BucketStep::kMinute, minute, label), minute, value});
        operands.push_back({MetricRowKey(prefix, BucketStep::kHour, hour, label), minute, value});
        operands.push_back({MetricRowKey(prefix, BucketStep::kDay, day, label), minute, value});
      }
    }
  }
  for (uint64_t record : unreadable) batch.Delete(Family::kMeter, IntakeLogKey(record));
  // In key order, RocksDB's memtable inserts each key next to the previous one.
  std::sort(operands.begin(), operands.end(),
            [](const Operand& a, const Operand& b) { return a.key < b.key; });
  for (Operand& o : operands) {
    batch.Merge(Family::kMeter, std::move(o.key), o.timestamp_ms, *o.value);
  }

  absl::Status written;
  {
    absl::WriterMutexLock fold_lock(&fold_mu_);
    written = db_->Write(std::move(batch));
    absl::MutexLock lock(&mu_);
    if (!written.ok()) {
      // Back to pending, to be folded by a later fold.
      for (const auto& [minute, p] : *folding) pending_rows_ += pending_[minute].Merge(p);
      unreadable_records_.insert(unreadable_records_.end(), unreadable.begin(), unreadable.end());
    }
    folding_.reset();
    folding_rows_ = 0;
    fold_running_ = false;
  }
  return written;
}

absl::Status RocksMetricStore::AddRelations(const std::vector<metrics::RelationRow>& rows) {
  const std::vector<const metrics::RelationRow*> to_write = written_relations_.ToWrite(rows);
  if (to_write.empty()) return absl::OkStatus();
  WriteBatch batch;
  for (const metrics::RelationRow* row : to_write) {
    std::string key = RelationPrefix(row->instance_id);
    AppendInt64(&key, row->minute_ms);
    key.push_back(row->server_side ? 's' : 'c');
    AppendString(&key, row->client_process_id);
    AppendString(&key, row->server_process_id);
    batch.Merge(Family::kMeter, std::move(key), row->minute_ms, EncodeComponent(row->component_id));
  }
  SH_RETURN_IF_ERROR(db_->Write(std::move(batch)));
  written_relations_.Remember(to_write);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<metrics::RelationRow>> RocksMetricStore::ReadRelations(
    absl::string_view instance_id, int64_t start_minute_ms, int64_t end_minute_ms) const {
  std::vector<metrics::RelationRow> rows;
  if (end_minute_ms < start_minute_ms) return rows;
  const std::string prefix = RelationPrefix(instance_id);
  std::string begin = prefix, end = prefix;
  AppendInt64(&begin, start_minute_ms);
  if (end_minute_ms == INT64_MAX) {
    end = PrefixSuccessor(prefix);
  } else {
    AppendInt64(&end, end_minute_ms + 1);
  }
  absl::Status decode_error;
  absl::Status s = db_->Scan(Family::kMeter, begin, end, [&](const Record& record) {
    // After the prefix: minute (8 bytes), side ('c' or 's'), client, server.
    absl::string_view rest = absl::string_view(record.key).substr(prefix.size());
    metrics::RelationRow row;
    row.instance_id = std::string(instance_id);
    KeyReader minute(rest);
    std::optional<int> component = DecodeComponent(record.value);
    if (!minute.ReadInt64(&row.minute_ms) || rest.size() < 9 || !component) {
      decode_error = absl::DataLossError(absl::StrCat("unreadable relation row of ", instance_id));
      return false;
    }
    const char side_byte = rest[8];
    KeyReader names(rest.substr(9));
    if (!names.ReadString(&row.client_process_id) || !names.ReadString(&row.server_process_id)) {
      decode_error = absl::DataLossError(absl::StrCat("unreadable relation row of ", instance_id));
      return false;
    }
    row.server_side = side_byte == 's';
    row.component_id = *component;
    rows.push_back(std::move(row));
    return true;
  });
  if (!s.ok()) return s;
  if (!decode_error.ok()) return decode_error;
  return rows;
}

absl::StatusOr<std::vector<metrics::LabeledRows>> RocksMetricStore::ReadRows(
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
  const std::string prefix = MetricSeriesPrefix(StepOf(buckets.step), metric.name, entity_id);
  std::string begin = prefix, end = prefix;
  AppendInt64(&begin, first);
  if (last == INT64_MAX) {
    end = PrefixSuccessor(prefix);
  } else {
    AppendInt64(&end, last + 1);
  }
  absl::flat_hash_map<std::string, size_t> series_of;
  auto add = [&](const std::string& label, size_t slot, metrics::Accumulator row) {
    auto [it, inserted] = series_of.try_emplace(label, series.size());
    if (inserted) {
      series.push_back(
          {label, std::vector<std::optional<metrics::Accumulator>>(buckets.starts_ms.size())});
    }
    std::optional<metrics::Accumulator>& into = series[it->second].rows[slot];
    if (into) {
      into->Merge(row);
    } else {
      into = std::move(row);
    }
  };
  // The pending rows and the stored ones under one fold_mu_ hold: each row is in one of them.
  absl::ReaderMutexLock fold_lock(&fold_mu_);
  {
    // Pending rows are keyed by the catalog's definition (what the analyzer and the log use).
    const metrics::MetricDefinition* canonical = metrics::FindMetric(metric.name);
    const metrics::MetricDefinition* key = canonical != nullptr ? canonical : &metric;
    absl::MutexLock lock(&mu_);
    auto overlay = [&](const PendingMinutes& minutes) {
      for (const auto& [minute, pending] : minutes) {
        const PendingMinute::LabelRows* found = pending.Find(key, entity_id);
        if (found == nullptr || db_->IsExpired(Family::kMeter, minute)) continue;
        auto slot = index_of.find(BucketOf(buckets.step, minute));
        if (slot == index_of.end()) continue;
        for (const auto& [label, row] : *found) add(label, slot->second, row);
      }
    };
    overlay(pending_);
    if (folding_) overlay(*folding_);
  }
  absl::Status decode_error;
  absl::Status s = db_->Scan(Family::kMeter, begin, end, [&](const Record& record) {
    KeyReader reader(absl::string_view(record.key).substr(prefix.size()));
    int64_t bucket;
    std::optional<metrics::Accumulator> row = DecodeAccumulator(record.value);
    if (!reader.ReadInt64(&bucket) || !row) {
      decode_error = absl::DataLossError(
          absl::StrCat("unreadable row of metric ", metric.name, " for ", entity_id));
      return false;
    }
    auto slot = index_of.find(bucket);
    if (slot == index_of.end()) return true;  // a bucket between the requested ones
    add(record.key.substr(prefix.size() + 8), slot->second, std::move(*row));
    return true;
  });
  if (!s.ok()) return s;
  if (!decode_error.ok()) return decode_error;
  std::sort(series.begin(), series.end(),
            [](const auto& a, const auto& b) { return a.label_value < b.label_value; });
  return series;
}

namespace {

std::string RecordPrefix(absl::string_view record, absl::string_view entity_id) {
  std::string key;
  AppendString(&key, record);
  AppendString(&key, entity_id);
  return key;
}

}  // namespace

absl::Status RocksMetricStore::AddSampledRecords(
    const std::vector<metrics::SampledTrace>& records) {
  if (records.empty()) return absl::OkStatus();
  WriteBatch batch;
  for (const metrics::SampledTrace& r : records) {
    std::string key = RecordPrefix(r.record, r.entity_id);
    AppendInt64(&key, r.value.timestamp_ms);
    key.append(r.value.trace_id);
    std::string value;
    PutVarint64(&value, static_cast<uint64_t>(std::max<int64_t>(0, r.value.latency_ms)));
    value.append(r.value.uri);
    batch.Put(Family::kSampledRecord, key, r.value.timestamp_ms, value);
  }
  return db_->Write(std::move(batch));
}

absl::StatusOr<std::vector<metrics::SampledRecord>> RocksMetricStore::TopRecords(
    absl::string_view record, absl::string_view entity_id, int64_t start_ms, int64_t end_ms,
    int limit, bool ascending) {
  std::vector<metrics::SampledRecord> out;
  if (limit <= 0 || end_ms <= start_ms) return out;
  const std::string prefix = RecordPrefix(record, entity_id);
  std::string begin = prefix, end = prefix;
  AppendInt64(&begin, start_ms);
  AppendInt64(&end, end_ms);
  absl::Status decode_error;
  absl::Status s = db_->Scan(Family::kSampledRecord, begin, end, [&](const Record& stored) {
    absl::string_view rest = absl::string_view(stored.key).substr(prefix.size());
    KeyReader reader(rest);
    metrics::SampledRecord r;
    absl::string_view value = stored.value;
    uint64_t latency;
    if (!reader.ReadInt64(&r.timestamp_ms) || !GetVarint64(&value, &latency)) {
      decode_error = absl::DataLossError(absl::StrCat("unreadable sampled record of ", entity_id));
      return false;
    }
    r.trace_id = std::string(rest.substr(8));
    r.latency_ms = static_cast<int64_t>(std::min<uint64_t>(latency, INT64_MAX));
    r.uri = std::string(value);
    out.push_back(std::move(r));
    return true;
  });
  if (!s.ok()) return s;
  if (!decode_error.ok()) return decode_error;
  auto order = [ascending](const metrics::SampledRecord& a, const metrics::SampledRecord& b) {
    if (a.latency_ms != b.latency_ms) {
      return ascending ? a.latency_ms < b.latency_ms : a.latency_ms > b.latency_ms;
    }
    return a.timestamp_ms > b.timestamp_ms;  // newer first among equals
  };
  if (out.size() > static_cast<size_t>(limit)) {
    std::partial_sort(out.begin(), out.begin() + limit, out.end(), order);
    out.resize(static_cast<size_t>(limit));
  } else {
    std::sort(out.begin(), out.end(), order);
  }
  return out;
}

}  // namespace stackhouse::storage
