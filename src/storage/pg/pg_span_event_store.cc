#include "storage/pg/pg_span_event_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/store_records.h"

namespace stackhouse::storage::pg {

absl::Status PgSpanEventStore::AddEvents(const std::vector<model::SpanAttachedEvent>& events) {
  if (events.empty()) return absl::OkStatus();
  std::vector<std::string> traces, bodies;
  std::vector<int64_t> seconds;
  std::vector<int32_t> nanos;
  for (const model::SpanAttachedEvent& e : events) {
    traces.push_back(e.trace_id);
    seconds.push_back(e.start_seconds);
    nanos.push_back(e.start_nanos);
    bodies.push_back(EncodeSpanEvent(e));
  }
  Params params;
  params.TextArray(traces).Int64Array(seconds).Int32Array(nanos).BytesArray(bodies).Int64(
      clock_->NowMillis());
  return pool_
      ->ExecPrepared("sh_add_span_events",
                     "INSERT INTO sh_span_event (trace_id, start_seconds, start_nanos, body, "
                     "stored_ms) SELECT t, s, n, b, $5 FROM unnest($1::text[], $2::bigint[], "
                     "$3::int[], $4::bytea[]) AS x(t, s, n, b)",
                     params)
      .status();
}

absl::StatusOr<std::vector<model::SpanAttachedEvent>> PgSpanEventStore::ListByTrace(
    const std::string& trace_id, size_t limit) const {
  std::vector<model::SpanAttachedEvent> events;
  if (limit == 0) return events;
  SH_ASSIGN_OR_RETURN(
      Result r,
      pool_->ExecPrepared("sh_list_span_events",
                          "SELECT body FROM sh_span_event WHERE trace_id = $1 AND stored_ms > $2 "
                          "ORDER BY start_seconds, start_nanos, id LIMIT $3",
                          Params()
                              .Text(trace_id)
                              .Int64(Cutoff(clock_->NowMillis(), options_.record_ttl_ms))
                              .Int64(static_cast<int64_t>(
                                  std::min<size_t>(limit, static_cast<size_t>(INT64_MAX))))));
  events.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    absl::StatusOr<model::SpanAttachedEvent> e = DecodeSpanEvent(r.Bytes(row, 0));
    if (!e.ok()) {
      return absl::DataLossError(
          absl::StrCat("cannot decode a stored attached event of trace ", trace_id));
    }
    e->trace_id = trace_id;
    events.push_back(std::move(*e));
  }
  return events;
}

}  // namespace stackhouse::storage::pg
