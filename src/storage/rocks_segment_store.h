#pragma once

#include "common/clock.h"
#include "storage/database.h"
#include "storage/segment_store.h"

namespace stackhouse::storage {

// SegmentStore on the segment family: `g`+segment id → SegmentRecord (the summary and the
// spans as the project's own SegmentBody record, which also reads the agent's SegmentObject bytes
// that earlier versions stored), `t`+trace id+instance id+segment id → index. Records expire
// recordDataTTL after the segment's start time. Thread-safe.
class RocksSegmentStore final : public SegmentStore {
 public:
  // `db` must outlive the store.
  explicit RocksSegmentStore(Database* db) : db_(db) {}

  absl::Status AddSegments(const std::vector<model::Segment>& segments,
                           const std::vector<model::SegmentSummary>& summaries) override;
  absl::StatusOr<std::optional<StoredSegment>> GetSegment(
      const std::string& segment_id) const override;
  absl::StatusOr<std::vector<StoredSegment>> ListByTraceAndInstance(
      const std::string& trace_id, const std::string& instance_id) const override;
  absl::StatusOr<std::vector<StoredSegment>> ListByTrace(const std::string& trace_id,
                                                         size_t limit) const override;

 private:
  // The live segments of `ids`, in order (those that expired meanwhile left out).
  absl::StatusOr<std::vector<StoredSegment>> Load(const std::vector<std::string>& ids) const;

  Database* const db_;
};

}  // namespace stackhouse::storage
