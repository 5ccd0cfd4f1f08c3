#include "simulator/sim_stats.h"

#include "absl/strings/str_cat.h"

namespace stackhouse::sim {

void SimStats::AddTask(const std::string& task_id) {
  absl::MutexLock lock(&mu_);
  task_ids_.insert(task_id);
}

int64_t SimStats::tasks() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(task_ids_.size());
}

std::string SimStats::Summary(int agents) const {
  return absl::StrCat("agents=", agents, " segments=", segments.load(),
                      " snapshots=", snapshots.load(), " tasks=", tasks(), " polls=", polls.load(),
                      " errors=", errors.load(), " requests=", requests.load(),
                      " dropped=", dropped.load());
}

}  // namespace stackhouse::sim
