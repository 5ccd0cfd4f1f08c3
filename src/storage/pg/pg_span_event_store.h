#pragma once

#include "common/clock.h"
#include "storage/pg/pg_pool.h"
#include "storage/pg/pg_store_options.h"
#include "storage/span_event_store.h"

namespace stackhouse::storage::pg {

// SpanEventStore on PostgreSQL: table sh_span_event, one row per event (trace, start seconds,
// start nanos, a serial; the time it was stored, records::SpanEventRecord), expiring
// recordDataTTL after it was stored (whatever clock the agent has). A batch is one multi-row
// statement. Thread-safe.
class PgSpanEventStore final : public SpanEventStore {
 public:
  // `pool` and `clock` must outlive the store.
  PgSpanEventStore(Pool* pool, const Clock* clock, const StoreOptions& options)
      : pool_(pool), clock_(clock), options_(options) {}

  absl::Status AddEvents(const std::vector<model::SpanAttachedEvent>& events) override;
  absl::StatusOr<std::vector<model::SpanAttachedEvent>> ListByTrace(const std::string& trace_id,
                                                                    size_t limit) const override;

 private:
  // Constant after construction.
  Pool* const pool_;
  const Clock* const clock_;
  const StoreOptions options_;
};

}  // namespace stackhouse::storage::pg
