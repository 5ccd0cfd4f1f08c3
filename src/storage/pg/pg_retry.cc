#include "storage/pg/pg_retry.h"

#include <algorithm>

namespace stackhouse::storage::pg {

absl::Status RetryWhileUnavailable(
    const RetryOptions& options, const Clock& clock, const std::function<void(int64_t)>& sleep,
    const std::function<absl::Status()>& attempt,
    const std::function<void(int, const absl::Status&, int64_t)>& on_retry) {
  const int64_t deadline = clock.NowMillis() + std::max<int64_t>(options.total_ms, 0);
  int64_t delay = std::max<int64_t>(options.first_delay_ms, 1);
  for (int n = 1;; ++n) {
    absl::Status status = attempt();
    if (status.ok() || !absl::IsUnavailable(status)) return status;
    const int64_t left = deadline - clock.NowMillis();
    if (left <= 0) return status;
    const int64_t wait = std::min({delay, options.max_delay_ms, left});
    on_retry(n, status, wait);
    sleep(wait);
    delay = std::min(delay * 2, std::max<int64_t>(options.max_delay_ms, 1));
  }
}

}  // namespace stackhouse::storage::pg
