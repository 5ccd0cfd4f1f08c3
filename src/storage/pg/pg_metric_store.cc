#include "storage/pg/pg_metric_store.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
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

// $9 is the metrics cutoff: a row stamped at or before it has expired and starts afresh.
constexpr char kAddMetrics[] = R"sql(
WITH r AS (
  INSERT INTO sh_metric AS m (metric, entity, step, bucket_ms, label, sum, count, stamp_ms)
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::bytea[],
                       $6::bigint[], $7::bigint[], $8::bigint[])
  ON CONFLICT (metric, entity, step, bucket_ms, label) DO UPDATE SET
    sum = CASE WHEN m.stamp_ms <= $9 THEN EXCLUDED.sum ELSE sh_sat_add(m.sum, EXCLUDED.sum) END,
    count = CASE WHEN m.stamp_ms <= $9 THEN EXCLUDED.count
                 ELSE sh_sat_add(m.count, EXCLUDED.count) END,
    stamp_ms = CASE WHEN m.stamp_ms <= $9 THEN EXCLUDED.stamp_ms
                    ELSE GREATEST(m.stamp_ms, EXCLUDED.stamp_ms) END)
INSERT INTO sh_metric_bucket AS b (metric, entity, step, bucket_ms, label, key, n, stamp_ms)
SELECT * FROM unnest($10::text[], $11::text[], $12::int[], $13::bigint[], $14::bytea[],
                     $15::bigint[], $16::bigint[], $17::bigint[])
ON CONFLICT (metric, entity, step, bucket_ms, label, key) DO UPDATE SET
  n = CASE WHEN b.stamp_ms <= $9 THEN EXCLUDED.n ELSE sh_sat_add(b.n, EXCLUDED.n) END,
  stamp_ms = CASE WHEN b.stamp_ms <= $9 THEN EXCLUDED.stamp_ms
                  ELSE GREATEST(b.stamp_ms, EXCLUDED.stamp_ms) END
)sql";

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
  absl::Time t = absl::FromUnixMillis(minute_ms);
  return absl::ToUnixMillis(absl::FromCivil(absl::ToCivilHour(t, zone_), zone_));
}

int64_t PgMetricStore::DayStart(int64_t minute_ms) const {
  absl::Time t = absl::FromUnixMillis(minute_ms);
  return absl::ToUnixMillis(absl::FromCivil(absl::ToCivilDay(t, zone_), zone_));
}

absl::Status PgMetricStore::Write(const std::string& name, absl::string_view sql,
                                  const Params& params) {
  absl::Status status;
  for (int attempt = 0; attempt < 3; ++attempt) {  // a deadlock between nodes is retried
    status = pool_->ExecPrepared(name, sql, params).status();
    if (!absl::IsAborted(status)) break;
  }
  return status;
}

absl::Status PgMetricStore::AddMetrics(const std::vector<metrics::MetricUpdate>& updates) {
  const int64_t cutoff = MetricsCutoff();
  // One row per key (a statement may not update a row twice), in key order (so that nodes lock
  // rows in the same order): (metric, entity, step, bucket, label) → the sum of its updates.
  using Key = std::tuple<absl::string_view, absl::string_view, int, int64_t, absl::string_view>;
  struct Row {
    metrics::Accumulator sum;
    int64_t stamp_ms;
  };
  std::map<Key, Row> rows;
  for (const metrics::MetricUpdate& u : updates) {
    if (u.metric == nullptr || u.minute_ms <= cutoff) continue;  // expired: never read
    const std::pair<int, int64_t> buckets[] = {
        {StepCode(metrics::Step::kMinute), u.minute_ms},
        {StepCode(metrics::Step::kHour), HourStart(u.minute_ms)},
        {StepCode(metrics::Step::kDay), DayStart(u.minute_ms)}};
    for (const auto& [step, start] : buckets) {
      auto [it, inserted] = rows.try_emplace(
          Key(u.metric->name, u.entity_id, step, start, u.label_value), Row{u.delta, u.minute_ms});
      if (!inserted) {
        it->second.sum.Merge(u.delta);
        it->second.stamp_ms = std::max(it->second.stamp_ms, u.minute_ms);
      }
    }
  }
  if (rows.empty()) return absl::OkStatus();
  std::vector<std::string> metric, entity, label, b_metric, b_entity, b_label;
  std::vector<int32_t> step, b_step;
  std::vector<int64_t> bucket, sum, count, stamp, b_bucket, b_key, b_n, b_stamp;
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
    for (const auto& [bucket_key, n] : row.sum.buckets) {
      b_metric.emplace_back(m);
      b_entity.emplace_back(e);
      b_step.push_back(s);
      b_bucket.push_back(start);
      b_label.emplace_back(l);
      b_key.push_back(bucket_key);
      b_n.push_back(n);
      b_stamp.push_back(row.stamp_ms);
    }
  }
  Params params;
  params.TextArray(metric)
      .TextArray(entity)
      .Int32Array(step)
      .Int64Array(bucket)
      .BytesArray(label)
      .Int64Array(sum)
      .Int64Array(count)
      .Int64Array(stamp)
      .Int64(cutoff)
      .TextArray(b_metric)
      .TextArray(b_entity)
      .Int32Array(b_step)
      .Int64Array(b_bucket)
      .BytesArray(b_label)
      .Int64Array(b_key)
      .Int64Array(b_n)
      .Int64Array(b_stamp);
  return Write("sh_add_metrics", kAddMetrics, params);
}

absl::StatusOr<std::vector<metrics::LabeledRows>> PgMetricStore::ReadRows(
    const metrics::MetricDefinition& metric, absl::string_view entity_id,
    const metrics::TimeBuckets& buckets) {
  std::vector<metrics::LabeledRows> series;
  if (buckets.starts_ms.empty()) return series;
  absl::flat_hash_map<int64_t, size_t> index_of;
  for (size_t i = 0; i < buckets.starts_ms.size(); ++i) index_of.emplace(buckets.starts_ms[i], i);
  Params params;
  params.Text(metric.name)
      .Text(entity_id)
      .Int64(StepCode(buckets.step))
      .Int64Array(buckets.starts_ms)
      .Int64(MetricsCutoff());
  SH_ASSIGN_OR_RETURN(Result r,
                      pool_->ExecPrepared("sh_read_metric_rows",
                                          "SELECT bucket_ms, label, sum, count FROM sh_metric "
                                          "WHERE metric = $1 AND entity = $2 AND step = $3::int "
                                          "AND bucket_ms = ANY($4::bigint[]) AND stamp_ms > $5",
                                          params));
  absl::flat_hash_map<std::string, size_t> series_of;
  auto row_of = [&](int64_t bucket,
                    absl::string_view label) -> std::optional<metrics::Accumulator>* {
    auto slot = index_of.find(bucket);
    if (slot == index_of.end()) return nullptr;
    auto [it, inserted] = series_of.try_emplace(std::string(label), series.size());
    if (inserted) {
      series.push_back({std::string(label), std::vector<std::optional<metrics::Accumulator>>(
                                                buckets.starts_ms.size())});
    }
    return &series[it->second].rows[slot->second];
  };
  for (int row = 0; row < r.rows(); ++row) {
    std::optional<metrics::Accumulator>* into = row_of(r.Int64(row, 0), r.Bytes(row, 1));
    if (into == nullptr) continue;
    metrics::Accumulator& a = into->emplace();
    a.sum = r.Int64(row, 2);
    a.count = r.Int64(row, 3);
  }
  if (metric.function == metrics::MetricFunction::kHistogramPercentile && !series.empty()) {
    SH_ASSIGN_OR_RETURN(Result b,
                        pool_->ExecPrepared("sh_read_metric_buckets",
                                            "SELECT bucket_ms, label, key, n FROM sh_metric_bucket "
                                            "WHERE metric = $1 AND entity = $2 AND step = $3::int "
                                            "AND bucket_ms = ANY($4::bigint[]) AND stamp_ms > $5",
                                            params));
    for (int row = 0; row < b.rows(); ++row) {
      auto known = series_of.find(b.Bytes(row, 1));
      auto slot = index_of.find(b.Int64(row, 0));
      if (known == series_of.end() || slot == index_of.end()) continue;
      std::optional<metrics::Accumulator>& into = series[known->second].rows[slot->second];
      if (into) into->buckets.Add(b.Int64(row, 2), b.Int64(row, 3));
    }
  }
  std::sort(series.begin(), series.end(),
            [](const auto& a, const auto& b) { return a.label_value < b.label_value; });
  return series;
}

absl::Status PgMetricStore::AddRelations(const std::vector<metrics::RelationRow>& rows) {
  // One row per key, in key order; of two writes of one key the component of higher priority
  // wins, a tie keeps the first.
  using Key = std::tuple<absl::string_view, int64_t, int, absl::string_view, absl::string_view>;
  std::map<Key, int> merged;
  for (const metrics::RelationRow& row : rows) {
    auto [it, inserted] =
        merged.try_emplace(Key(row.instance_id, row.minute_ms, row.server_side ? 1 : 0,
                               row.client_process_id, row.server_process_id),
                           row.component_id);
    if (!inserted && ComponentPriority(row.component_id) > ComponentPriority(it->second)) {
      it->second = row.component_id;
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
  return Write("sh_add_relations", kAddRelations, params);
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
