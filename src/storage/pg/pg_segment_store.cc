#include "storage/pg/pg_segment_store.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/segment_record.h"

namespace stackhouse::storage::pg {
namespace {

constexpr char kAddSegments[] = R"sql(
INSERT INTO sh_segment AS g (segment_id, trace_id, instance_id, service_id, endpoint_id,
                             endpoint_name, start_time_ms, latency_ms, is_error, body)
SELECT s, t, i, v, e, n, st, l, err <> 0, b
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::bigint[], $8::int[], $9::int[], $10::bytea[]) AS x(s, t, i, v, e, n, st, l, err, b)
ON CONFLICT (segment_id, start_time_ms) DO UPDATE SET
  trace_id = EXCLUDED.trace_id, instance_id = EXCLUDED.instance_id,
  service_id = EXCLUDED.service_id, endpoint_id = EXCLUDED.endpoint_id,
  endpoint_name = EXCLUDED.endpoint_name, latency_ms = EXCLUDED.latency_ms, is_error = EXCLUDED.is_error, body = EXCLUDED.body
)sql";

// A segment is unique per day partition (its key includes its start time), so one sent again
// with another start time is stored twice; readers return the copy with the latest start.
constexpr char kColumns[] =
    "segment_id, trace_id, instance_id, service_id, endpoint_id, endpoint_name, "
    "start_time_ms, latency_ms, is_error, body FROM sh_segment ";

absl::StatusOr<std::vector<StoredSegment>> Segments(const Result& r) {
  std::vector<StoredSegment> segments;
  segments.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    StoredSegment& stored = segments.emplace_back();
    model::SegmentSummary& s = stored.summary;
    s.segment_id = r.String(row, 0);
    s.trace_id = r.String(row, 1);
    s.instance_id = r.String(row, 2);
    s.service_id = r.String(row, 3);
    s.endpoint_id = r.String(row, 4);
    s.endpoint_name = r.String(row, 5);
    s.start_time_ms = r.Int64(row, 6);
    s.latency_ms = static_cast<int32_t>(r.Int64(row, 7));
    s.is_error = r.Bool(row, 8);
    auto segment = DecodeSegment(r.Bytes(row, 9));
    if (!segment.ok()) {
      return absl::DataLossError(absl::StrCat(segment.status().message(), " (", s.segment_id, ")"));
    }
    stored.segment = std::move(*segment);
  }
  return segments;
}

}  // namespace

absl::Status PgSegmentStore::AddSegments(const std::vector<model::Segment>& segments,
                                         const std::vector<model::SegmentSummary>& summaries) {
  if (segments.size() != summaries.size()) {
    return absl::InvalidArgumentError("segments and summaries differ in length");
  }
  if (segments.empty()) return absl::OkStatus();
  // One row per segment id, the last copy winning (as a later write would).
  absl::flat_hash_map<std::string, size_t> last;
  for (size_t i = 0; i < summaries.size(); ++i) last[summaries[i].segment_id] = i;
  std::vector<std::string> ids, traces, instances, services, endpoint_ids, endpoint_names, bodies;
  std::vector<int64_t> starts;
  std::vector<int32_t> latencies, errors;
  for (size_t i = 0; i < summaries.size(); ++i) {
    const model::SegmentSummary& s = summaries[i];
    if (last[s.segment_id] != i) continue;
    ids.push_back(s.segment_id);
    traces.push_back(s.trace_id);
    instances.push_back(s.instance_id);
    services.push_back(s.service_id);
    endpoint_ids.push_back(s.endpoint_id);
    endpoint_names.push_back(s.endpoint_name);
    starts.push_back(s.start_time_ms);
    latencies.push_back(s.latency_ms);
    errors.push_back(s.is_error ? 1 : 0);
    bodies.push_back(EncodeSegment(segments[i]));
  }
  Params params;
  params.TextArray(ids)
      .TextArray(traces)
      .TextArray(instances)
      .TextArray(services)
      .TextArray(endpoint_ids)
      .TextArray(endpoint_names)
      .Int64Array(starts)
      .Int32Array(latencies)
      .Int32Array(errors)
      .BytesArray(bodies);
  return pool_->ExecPrepared("sh_add_segments", kAddSegments, params).status();
}

absl::StatusOr<std::optional<StoredSegment>> PgSegmentStore::GetSegment(
    const std::string& segment_id) const {
  SH_ASSIGN_OR_RETURN(
      Result r, pool_->ExecPrepared("sh_get_segment",
                                    absl::StrCat("SELECT ", kColumns,
                                                 "WHERE segment_id = $1 AND start_time_ms > $2 "
                                                 "ORDER BY start_time_ms DESC LIMIT 1"),
                                    Params().Text(segment_id).Int64(RecordCutoff())));
  SH_ASSIGN_OR_RETURN(auto segments, Segments(r));
  if (segments.empty()) return std::nullopt;
  return std::move(segments[0]);
}

absl::StatusOr<std::vector<StoredSegment>> PgSegmentStore::ListByTraceAndInstance(
    const std::string& trace_id, const std::string& instance_id) const {
  SH_ASSIGN_OR_RETURN(
      Result r,
      pool_->ExecPrepared("sh_segments_of_trace_instance",
                          absl::StrCat("SELECT DISTINCT ON (segment_id) ", kColumns,
                                       "WHERE trace_id = $1 AND instance_id = $2 "
                                       "AND start_time_ms > $3 "
                                       "ORDER BY segment_id, start_time_ms DESC"),
                          Params().Text(trace_id).Text(instance_id).Int64(RecordCutoff())));
  return Segments(r);
}

absl::StatusOr<std::vector<StoredSegment>> PgSegmentStore::ListByTrace(const std::string& trace_id,
                                                                       size_t limit) const {
  if (limit == 0) return std::vector<StoredSegment>{};
  SH_ASSIGN_OR_RETURN(
      Result r,
      pool_->ExecPrepared("sh_segments_of_trace",
                          absl::StrCat("SELECT DISTINCT ON (instance_id, segment_id) ", kColumns,
                                       "WHERE trace_id = $1 AND start_time_ms > $2 "
                                       "ORDER BY instance_id, segment_id, "
                                       "start_time_ms DESC LIMIT $3"),
                          Params()
                              .Text(trace_id)
                              .Int64(RecordCutoff())
                              .Int64(static_cast<int64_t>(
                                  std::min<size_t>(limit, static_cast<size_t>(INT64_MAX))))));
  return Segments(r);
}

}  // namespace stackhouse::storage::pg
