#include "storage/rocks_span_event_store.h"

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/key_codec.h"
#include "storage/store_records.h"

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
    batch.Put(Family::kSpanEvent, key, now, EncodeSpanEvent(e));
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
        absl::StatusOr<model::SpanAttachedEvent> e = DecodeSpanEvent(record.value);
        if (!e.ok()) {
          decoded = absl::DataLossError(
              absl::StrCat("cannot decode a stored attached event of trace ", trace_id));
          return false;
        }
        e->trace_id = trace_id;
        events.push_back(std::move(*e));
        return events.size() < limit;
      }));
  SH_RETURN_IF_ERROR(decoded);
  return events;
}

}  // namespace stackhouse::storage
