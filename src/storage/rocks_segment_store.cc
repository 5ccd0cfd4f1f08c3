#include "storage/rocks_segment_store.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "stackhouse/records.pb.h"
#include "storage/key_codec.h"
#include "storage/segment_record.h"

namespace stackhouse::storage {
namespace {

constexpr char kSegmentPrefix = 'g';
constexpr char kTracePrefix = 't';

std::string SegmentKey(absl::string_view segment_id) {
  std::string key(1, kSegmentPrefix);
  AppendString(&key, segment_id);
  return key;
}

std::string TracePrefix(absl::string_view trace_id, absl::string_view instance_id) {
  std::string key(1, kTracePrefix);
  AppendString(&key, trace_id);
  AppendString(&key, instance_id);
  return key;
}

absl::StatusOr<StoredSegment> Decode(absl::string_view segment_id, const Record& record) {
  records::SegmentRecord pb;
  if (!pb.ParseFromString(record.value)) {
    return absl::DataLossError(absl::StrCat("cannot decode stored segment ", segment_id));
  }
  StoredSegment stored;
  model::SegmentSummary& s = stored.summary;
  s.segment_id = std::string(segment_id);
  s.trace_id = pb.trace_id();
  s.service_id = pb.service_id();
  s.instance_id = pb.instance_id();
  s.endpoint_id = pb.endpoint_id();
  s.endpoint_name = pb.endpoint_name();
  s.start_time_ms = pb.start_time_ms();
  s.latency_ms = pb.latency_ms();
  s.is_error = pb.is_error();
  stored.segment = SegmentFromRecord(pb.segment());
  return stored;
}

}  // namespace

absl::Status RocksSegmentStore::AddSegments(const std::vector<model::Segment>& segments,
                                            const std::vector<model::SegmentSummary>& summaries) {
  if (segments.size() != summaries.size()) {
    return absl::InvalidArgumentError("segments and summaries differ in length");
  }
  WriteBatch batch;
  for (size_t i = 0; i < segments.size(); ++i) {
    const model::SegmentSummary& s = summaries[i];
    records::SegmentRecord pb;
    pb.set_trace_id(s.trace_id);
    pb.set_service_id(s.service_id);
    pb.set_instance_id(s.instance_id);
    pb.set_endpoint_id(s.endpoint_id);
    pb.set_endpoint_name(s.endpoint_name);
    pb.set_start_time_ms(s.start_time_ms);
    pb.set_latency_ms(s.latency_ms);
    pb.set_is_error(s.is_error);
    SegmentToRecord(segments[i], pb.mutable_segment());
    batch.Put(Family::kSegment, SegmentKey(s.segment_id), s.start_time_ms, pb.SerializeAsString());
    std::string index = TracePrefix(s.trace_id, s.instance_id);
    AppendString(&index, s.segment_id);
    batch.Put(Family::kSegment, index, s.start_time_ms, "");
  }
  return db_->Write(std::move(batch));
}

absl::StatusOr<std::optional<StoredSegment>> RocksSegmentStore::GetSegment(
    const std::string& segment_id) const {
  SH_ASSIGN_OR_RETURN(auto record, db_->Get(Family::kSegment, SegmentKey(segment_id)));
  if (!record) return std::nullopt;
  SH_ASSIGN_OR_RETURN(auto stored, Decode(segment_id, *record));
  return stored;
}

absl::StatusOr<std::vector<StoredSegment>> RocksSegmentStore::ListByTraceAndInstance(
    const std::string& trace_id, const std::string& instance_id) const {
  const std::string prefix = TracePrefix(trace_id, instance_id);
  std::vector<std::string> ids;
  SH_RETURN_IF_ERROR(db_->ScanPrefix(Family::kSegment, prefix, [&](const Record& record) {
    KeyReader reader(absl::string_view(record.key).substr(prefix.size()));
    std::string id;
    if (reader.ReadString(&id)) ids.push_back(std::move(id));
    return true;
  }));
  return Load(ids);
}

absl::StatusOr<std::vector<StoredSegment>> RocksSegmentStore::ListByTrace(
    const std::string& trace_id, size_t limit) const {
  std::string prefix(1, kTracePrefix);
  AppendString(&prefix, trace_id);
  std::vector<std::string> ids;
  if (limit == 0) return std::vector<StoredSegment>{};
  SH_RETURN_IF_ERROR(db_->ScanPrefix(Family::kSegment, prefix, [&](const Record& record) {
    KeyReader reader(absl::string_view(record.key).substr(prefix.size()));
    std::string instance;
    std::string id;
    if (reader.ReadString(&instance) && reader.ReadString(&id)) ids.push_back(std::move(id));
    return ids.size() < limit;
  }));
  return Load(ids);
}

absl::StatusOr<std::vector<StoredSegment>> RocksSegmentStore::Load(
    const std::vector<std::string>& ids) const {
  std::vector<StoredSegment> segments;
  for (const std::string& id : ids) {
    SH_ASSIGN_OR_RETURN(auto stored, GetSegment(id));
    if (stored) segments.push_back(std::move(*stored));
  }
  return segments;
}

}  // namespace stackhouse::storage
