#pragma once

#include "common/clock.h"
#include "storage/pg/pg_pool.h"
#include "storage/pg/pg_store_options.h"
#include "storage/segment_store.h"

namespace stackhouse::storage::pg {

// SegmentStore on PostgreSQL: table sh_segment, one row per segment (the summary in columns,
// the segment as a records::SegmentBody), indexed by (trace, instance, segment). A batch is one
// multi-row statement, so it is stored whole or not at all; a segment stored again with the
// same start time replaces the first copy (the key is segment id and start time, since the
// table has a partition per day: one sent again with another start time is a second row, and
// readers return the copy with the latest start). Segments expire recordDataTTL after their
// start time. Thread-safe.
class PgSegmentStore final : public SegmentStore {
 public:
  // `pool` and `clock` must outlive the store.
  PgSegmentStore(Pool* pool, const Clock* clock, const StoreOptions& options)
      : pool_(pool), clock_(clock), options_(options) {}

  absl::Status AddSegments(const std::vector<model::Segment>& segments,
                           const std::vector<model::SegmentSummary>& summaries) override;
  absl::StatusOr<std::optional<StoredSegment>> GetSegment(
      const std::string& segment_id) const override;
  absl::StatusOr<std::vector<StoredSegment>> ListByTraceAndInstance(
      const std::string& trace_id, const std::string& instance_id) const override;
  absl::StatusOr<std::vector<StoredSegment>> ListByTrace(const std::string& trace_id,
                                                         size_t limit) const override;

 private:
  int64_t RecordCutoff() const { return Cutoff(clock_->NowMillis(), options_.record_ttl_ms); }

  // Constant after construction.
  Pool* const pool_;
  const Clock* const clock_;
  const StoreOptions options_;
};

}  // namespace stackhouse::storage::pg
