#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/Command.pb.h"

namespace stackhouse::sim {

// One trace-profiling task as a Java agent holds it after reading a `ProfileTaskQuery` command
// (grpc-protocol.md §3.2).
struct ProfileTaskSpec {
  std::string serial_number;
  std::string task_id;
  std::string endpoint_name;
  int64_t duration_minutes = 0;
  int64_t min_duration_threshold_ms = 0;
  int64_t dump_period_ms = 0;
  int64_t max_sampling_count = 0;
  int64_t start_time_ms = 0;
  int64_t create_time_ms = 0;

  // When the agent stops profiling and reports the task finished.
  int64_t EndTimeMs() const { return start_time_ms + duration_minutes * 60'000; }
};

// The Java agent's default `profile.max_parallel`: segments profiled at the same time.
inline constexpr int kMaxParallelProfiling = 5;

// Reads the args of a `ProfileTaskQuery` command by key. InvalidArgument if the command has
// another name, or a numeric arg is missing or not a plain integer.
absl::StatusOr<ProfileTaskSpec> ParseProfileTaskCommand(const skywalking::v3::Command& command);

// The Java agent's acceptance checks, in its order: non-empty endpoint, duration within
// [1, 15] minutes, threshold >= 0, dump period >= 10 ms, sampling count within [1, 9], and an end
// time outside every task in `accepted`. Returns InvalidArgument with the agent's reason.
absl::Status CheckProfileTask(const ProfileTaskSpec& task,
                              const std::vector<ProfileTaskSpec>& accepted);

// The `ProfileTaskQuery` command OAP would send for `task` (args in OAP's order).
skywalking::v3::Command MakeProfileTaskCommand(const ProfileTaskSpec& task);

// The profiling tasks one simulated agent has received: de-duplication by serial number, the
// next `lastCommandTime`, the task currently running, and which tasks still owe a
// `reportTaskFinish`. Thread-safe.
class TaskBoard {
 public:
  // What Offer did with a command.
  enum class Outcome { kAccepted, kDuplicate, kRejected };

  // Handles one received task like the Java agent: a serial number seen before is a duplicate
  // (nothing changes); otherwise `lastCommandTime` advances to the task's create time and the
  // task is accepted or, failing CheckProfileTask, rejected with the reason in `*reason`.
  Outcome Offer(const ProfileTaskSpec& task, std::string* reason) ABSL_LOCKS_EXCLUDED(mu_);

  // The largest create time seen, -1 before any.
  int64_t last_command_time() const ABSL_LOCKS_EXCLUDED(mu_);

  // The accepted, unfinished task running at `now_ms` (start <= now < end); the latest start
  // wins, since an agent runs one task at a time.
  std::optional<ProfileTaskSpec> ActiveTask(int64_t now_ms) const ABSL_LOCKS_EXCLUDED(mu_);

  // Accepted tasks whose end is <= `now_ms` and that were not returned before; each task is
  // returned once, here or by TakeAllUnfinished.
  std::vector<ProfileTaskSpec> TakeEnded(int64_t now_ms) ABSL_LOCKS_EXCLUDED(mu_);

  // Every accepted task not returned before (at shutdown).
  std::vector<ProfileTaskSpec> TakeAllUnfinished() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // The Java agent remembers this many executed serial numbers.
  static constexpr size_t kSerialCacheSize = 64;

  struct Entry {
    ProfileTaskSpec spec;
    bool finished = false;
  };

  mutable absl::Mutex mu_;
  std::deque<std::string> serial_order_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> serials_ ABSL_GUARDED_BY(mu_);
  std::vector<Entry> tasks_ ABSL_GUARDED_BY(mu_);
  int64_t last_command_time_ ABSL_GUARDED_BY(mu_) = -1;
};

}  // namespace stackhouse::sim
