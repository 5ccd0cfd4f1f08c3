#pragma once

#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "storage/change_feed.h"

namespace stackhouse::service {

// Keeps one node's in-memory caches of shared records (tasks, processes, policies) fresh when
// several nodes share a store: a cache is reloaded soon after the feed says its kind changed,
// and every cache is reloaded every `interval_ms` (on the injected clock) whatever the feed
// says, which bounds the staleness when notifications are lost. Notified reloads of one kind
// start at least kNotifiedGapMs apart, so that a flood of notifications costs a reload per
// kind per gap, not one per notification; a notification within the gap is kept and reloads
// once the gap ends. A failed reload is logged once per run of failures and tried again on the
// next run. Thread-safe.
class CacheRefresher {
 public:
  using Reload = std::function<absl::Status()>;

  // The least time between the start of a kind's reload and a notified reload of that kind.
  static constexpr int64_t kNotifiedGapMs = 500;

  // `clock` must outlive the refresher; `interval_ms` > 0.
  CacheRefresher(const Clock* clock, int64_t interval_ms);
  ~CacheRefresher();  // Stop()
  CacheRefresher(const CacheRefresher&) = delete;
  CacheRefresher& operator=(const CacheRefresher&) = delete;

  // Registers the reload of `kind`'s cache (one per kind; a second replaces the first).
  void Add(storage::ChangeKind kind, Reload reload) ABSL_LOCKS_EXCLUDED(mu_);

  // Marks `kind` for reloading and wakes the thread; never blocks on I/O (a feed listener).
  void OnChange(storage::ChangeKind kind) ABSL_LOCKS_EXCLUDED(mu_);

  // Runs the reloads due now: each marked kind whose last reload began kNotifiedGapMs ago or
  // more (the others stay marked), each kind whose last reload failed, and every kind once
  // `interval_ms` has passed since the last periodic refresh began. Returns how many reloads
  // ran. Kinds without a reload are unmarked and skipped. Calls are serialised.
  int RunDue() ABSL_LOCKS_EXCLUDED(mu_, run_mu_);

  // Runs RunDue on a thread of its own whenever a kind is newly marked, when a marked kind's
  // gap ends (the clock's time, waited for in real time), and at least every `tick` (real
  // time) to look at the clock and retry failed reloads, until Stop. At most once.
  void Start(absl::Duration tick) ABSL_LOCKS_EXCLUDED(mu_);
  // Stops and joins the thread (after the reload it runs, if any). Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  int64_t interval_ms() const { return interval_ms_; }

 private:
  void Run(absl::Duration tick) ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  const Clock* const clock_;
  const int64_t interval_ms_;

  // Serialises RunDue.
  absl::Mutex run_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // Kinds whose last reload failed.
  absl::flat_hash_set<storage::ChangeKind> failing_ ABSL_GUARDED_BY(run_mu_);

  absl::Mutex mu_;
  absl::flat_hash_map<storage::ChangeKind, Reload> reloads_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<storage::ChangeKind> marked_ ABSL_GUARDED_BY(mu_);
  // A kind was marked since RunDue last looked (wakes the thread).
  bool newly_marked_ ABSL_GUARDED_BY(mu_) = false;
  // When each kind's last reload began (none yet: no entry).
  absl::flat_hash_map<storage::ChangeKind, int64_t> last_reload_ms_ ABSL_GUARDED_BY(mu_);
  // How long until the first marked kind's gap ends, as RunDue last saw it (none: infinite).
  absl::Duration until_gap_ends_ ABSL_GUARDED_BY(mu_) = absl::InfiniteDuration();
  int64_t last_periodic_ms_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// With a change feed (several nodes), agents are handed a task only once its time (a trace
// task's creation, an eBPF record's update) is at least this old on the polling node's clock.
// Agents move their cursor to the newest time they were handed; by the time a task is old
// enough, this node has re-read (notified, kNotifiedGapMs apart) the tasks other nodes wrote
// before it, so an agent is not handed a newer task while an older one is still unknown here,
// provided the nodes' clocks differ by less than the rest of this delay (docs/scale-out.md).
inline constexpr int64_t kSharedTaskDelayMs = 2000;

// Publishes `kind` to `feed` (nothing when it is null). A failure is logged as a warning that
// names `what`: the write stands, and the other nodes see it on their next periodic refresh.
void PublishChange(storage::ChangeFeed* feed, storage::ChangeKind kind, absl::string_view what);

}  // namespace stackhouse::service
