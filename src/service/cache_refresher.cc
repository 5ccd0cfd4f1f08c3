#include "service/cache_refresher.h"

#include <algorithm>
#include <utility>

#include "common/logging.h"

namespace stackhouse::service {

CacheRefresher::CacheRefresher(const Clock* clock, int64_t interval_ms)
    : clock_(clock), interval_ms_(interval_ms), last_periodic_ms_(clock->NowMillis()) {}

CacheRefresher::~CacheRefresher() { Stop(); }

void CacheRefresher::Add(storage::ChangeKind kind, Reload reload) {
  absl::MutexLock lock(&mu_);
  reloads_[kind] = std::move(reload);
}

void CacheRefresher::OnChange(storage::ChangeKind kind) {
  absl::MutexLock lock(&mu_);
  // A kind marked already (waiting for its gap to end) does not wake the thread again.
  if (marked_.insert(kind).second) newly_marked_ = true;
}

int CacheRefresher::RunDue() {
  absl::MutexLock run(&run_mu_);
  std::vector<std::pair<storage::ChangeKind, Reload>> due;
  {
    absl::MutexLock lock(&mu_);
    const int64_t now = clock_->NowMillis();
    newly_marked_ = false;
    until_gap_ends_ = absl::InfiniteDuration();
    // A clock set back restarts the period rather than stopping the refreshes.
    const bool periodic = now - last_periodic_ms_ >= interval_ms_ || now < last_periodic_ms_;
    if (periodic) last_periodic_ms_ = now;
    for (storage::ChangeKind kind : storage::kAllChangeKinds) {
      // A kind whose last reload failed is tried again on every run.
      if (!periodic && !marked_.contains(kind) && !failing_.contains(kind)) continue;
      auto last = last_reload_ms_.find(kind);
      // A notified kind waits for its gap to end (a clock set back ends it).
      if (!periodic && !failing_.contains(kind) && last != last_reload_ms_.end() &&
          now >= last->second && now - last->second < kNotifiedGapMs) {
        until_gap_ends_ =
            std::min(until_gap_ends_, absl::Milliseconds(last->second + kNotifiedGapMs - now));
        continue;
      }
      marked_.erase(kind);
      auto it = reloads_.find(kind);
      if (it == reloads_.end()) continue;
      due.emplace_back(kind, it->second);
      last_reload_ms_[kind] = now;
    }
  }
  auto log = GetLogger("storage");
  for (const auto& [kind, reload] : due) {
    const absl::Status reloaded = reload();
    if (reloaded.ok()) {
      if (failing_.erase(kind)) log->info("the {} cache is reloaded again", ChangeKindName(kind));
      continue;
    }
    if (failing_.insert(kind).second) {
      log->error("could not reload the {} cache (tried again every run until it works): {}",
                 ChangeKindName(kind), reloaded.ToString());
    }
  }
  return static_cast<int>(due.size());
}

void CacheRefresher::Start(absl::Duration tick) {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this, tick] { Run(tick); });
}

void CacheRefresher::Run(absl::Duration tick) {
  auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || newly_marked_; };
  mu_.Lock();
  while (!stop_) {
    mu_.AwaitWithTimeout(absl::Condition(&woken), std::min(tick, until_gap_ends_));
    if (stop_) break;
    mu_.Unlock();
    RunDue();
    mu_.Lock();
  }
  mu_.Unlock();
}

void CacheRefresher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void PublishChange(storage::ChangeFeed* feed, storage::ChangeKind kind, absl::string_view what) {
  if (feed == nullptr) return;
  if (absl::Status published = feed->Publish(kind); !published.ok()) {
    GetLogger("storage")->warn(
        "could not tell the other nodes of {} (they see it on their next cache refresh): {}", what,
        published.ToString());
  }
}

}  // namespace stackhouse::service
