#pragma once

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "common/clock.h"

namespace stackhouse::storage::pg {

// How long and how often RetryWhileUnavailable tries.
struct RetryOptions {
  int64_t total_ms = 0;           // no attempt starts after this long; 0 = one attempt
  int64_t first_delay_ms = 500;   // the wait after the first failure, doubling after each
  int64_t max_delay_ms = 10'000;  // the longest wait
};

// Calls `attempt` until it succeeds or fails with anything but Unavailable, or until the next
// attempt would start later than `options.total_ms` after the first; returns its last status.
// Before each wait it calls `on_retry(attempt_number, failure, delay_ms)` (attempts count from
// 1) so that the caller logs one line per failed attempt; `sleep(ms)` waits (injected so that
// tests run on a simulated clock). Thread-compatible: it keeps no state.
absl::Status RetryWhileUnavailable(
    const RetryOptions& options, const Clock& clock, const std::function<void(int64_t)>& sleep,
    const std::function<absl::Status()>& attempt,
    const std::function<void(int, const absl::Status&, int64_t)>& on_retry);

}  // namespace stackhouse::storage::pg
