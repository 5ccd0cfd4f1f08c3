#pragma once

#include "common/clock.h"
#include "storage/database.h"
#include "storage/span_event_store.h"

namespace stackhouse::storage {

// SpanEventStore on the span_event family: `e`+trace id+start seconds+start nanos+nonce →
// SpanEventRecord, stamped with the time it was stored (so retention counts from receipt,
// whatever clock the agent has). Thread-safe.
class RocksSpanEventStore final : public SpanEventStore {
 public:
  // `db` and `clock` must outlive the store.
  RocksSpanEventStore(Database* db, const Clock* clock) : db_(db), clock_(clock) {}

  absl::Status AddEvents(const std::vector<model::SpanAttachedEvent>& events) override;
  absl::StatusOr<std::vector<model::SpanAttachedEvent>> ListByTrace(const std::string& trace_id,
                                                                    size_t limit) const override;

 private:
  Database* const db_;
  const Clock* const clock_;
};

}  // namespace stackhouse::storage
