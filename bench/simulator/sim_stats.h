#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"

namespace stackhouse::sim {

// Counters of one simulator run, shared by all agents. Thread-safe.
class SimStats {
 public:
  std::atomic<int64_t> requests{0};   // simulated requests finished
  std::atomic<int64_t> segments{0};   // segments the server acknowledged
  std::atomic<int64_t> snapshots{0};  // thread snapshots the server acknowledged
  std::atomic<int64_t> polls{0};      // getProfileTaskCommands calls made
  std::atomic<int64_t> errors{0};     // failed calls
  std::atomic<int64_t> dropped{0};    // segments and snapshots lost to full queues

  // Records that an agent accepted task `task_id`; tasks() counts distinct ids.
  void AddTask(const std::string& task_id) ABSL_LOCKS_EXCLUDED(mu_);
  int64_t tasks() const ABSL_LOCKS_EXCLUDED(mu_);

  // "agents=2 segments=123 snapshots=4567 tasks=1 polls=30 errors=0 requests=130 dropped=0".
  std::string Summary(int agents) const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> task_ids_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stackhouse::sim
