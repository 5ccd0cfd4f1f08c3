#include "storage/rocks_span_event_store.h"

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "stackhouse/records.pb.h"
#include "storage/key_codec.h"

namespace stackhouse::storage {
namespace {

constexpr char kEventPrefix = 'e';

std::string TracePrefix(absl::string_view trace_id) {
  std::string key(1, kEventPrefix);
  AppendString(&key, trace_id);
  return key;
}

}  // namespace

absl::Status RocksSpanEventStore::AddEvents(const std::vector<model::SpanAttachedEvent>& events) {
  if (events.empty()) return absl::OkStatus();
  thread_local absl::BitGen gen;
  const int64_t now = clock_->NowMillis();
  WriteBatch batch;
  for (const model::SpanAttachedEvent& e : events) {
    std::string key = TracePrefix(e.trace_id);
    AppendInt64(&key, e.start_seconds);
    AppendInt64(&key, e.start_nanos);
    AppendUint64(&key, absl::Uniform<uint64_t>(gen));  // two equal events never share a key
    records::SpanEventRecord pb;
    pb.set_start_seconds(e.start_seconds);
    pb.set_start_nanos(e.start_nanos);
    pb.set_event(e.event);
    pb.set_end_seconds(e.end_seconds);
    pb.set_end_nanos(e.end_nanos);
    for (const auto& [k, v] : e.tags) {
      pb.add_tag_keys(k);
      pb.add_tag_values(v);
    }
    for (const auto& [k, v] : e.summary) {
      pb.add_summary_keys(k);
      pb.add_summary_values(v);
    }
    pb.set_zipkin(e.zipkin);
    pb.set_segment_id(e.segment_id);
    pb.set_span_id(e.span_id);
    batch.Put(Family::kSpanEvent, key, now, pb.SerializeAsString());
  }
  return db_->Write(std::move(batch));
}

absl::StatusOr<std::vector<model::SpanAttachedEvent>> RocksSpanEventStore::ListByTrace(
    const std::string& trace_id, size_t limit) const {
  std::vector<model::SpanAttachedEvent> events;
  absl::Status decoded;
  if (limit == 0) return events;
  SH_RETURN_IF_ERROR(
      db_->ScanPrefix(Family::kSpanEvent, TracePrefix(trace_id), [&](const Record& record) {
        records::SpanEventRecord pb;
        if (!pb.ParseFromString(record.value) || pb.tag_keys_size() != pb.tag_values_size() ||
            pb.summary_keys_size() != pb.summary_values_size()) {
          decoded = absl::DataLossError(
              absl::StrCat("cannot decode a stored attached event of trace ", trace_id));
          return false;
        }
        model::SpanAttachedEvent& e = events.emplace_back();
        e.start_seconds = pb.start_seconds();
        e.start_nanos = pb.start_nanos();
        e.event = pb.event();
        e.end_seconds = pb.end_seconds();
        e.end_nanos = pb.end_nanos();
        for (int i = 0; i < pb.tag_keys_size(); ++i) {
          e.tags.emplace_back(pb.tag_keys(i), pb.tag_values(i));
        }
        for (int i = 0; i < pb.summary_keys_size(); ++i) {
          e.summary.emplace_back(pb.summary_keys(i), pb.summary_values(i));
        }
        e.zipkin = pb.zipkin();
        e.trace_id = trace_id;
        e.segment_id = pb.segment_id();
        e.span_id = pb.span_id();
        return events.size() < limit;
      }));
  SH_RETURN_IF_ERROR(decoded);
  return events;
}

}  // namespace stackhouse::storage
