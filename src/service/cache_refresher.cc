#include "service/cache_refresher.h"

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
  marked_.insert(kind);
}

int CacheRefresher::RunDue() {
  absl::MutexLock run(&run_mu_);
  std::vector<std::pair<storage::ChangeKind, Reload>> due;
  {
    absl::MutexLock lock(&mu_);
    const int64_t now = clock_->NowMillis();
    // A clock set back restarts the period rather than stopping the refreshes.
    if (now - last_periodic_ms_ >= interval_ms_ || now < last_periodic_ms_) {
      last_periodic_ms_ = now;
      for (storage::ChangeKind kind : storage::kAllChangeKinds) marked_.insert(kind);
    }
    for (storage::ChangeKind kind : storage::kAllChangeKinds) {
      // A kind whose last reload failed is tried again on every run.
      if (!marked_.erase(kind) && !failing_.contains(kind)) continue;
      auto it = reloads_.find(kind);
      if (it != reloads_.end()) due.emplace_back(kind, it->second);
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
  auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !marked_.empty(); };
  mu_.Lock();
  while (!stop_) {
    mu_.AwaitWithTimeout(absl::Condition(&woken), tick);
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
