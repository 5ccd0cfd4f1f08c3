#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/Command.pb.h"

namespace stackhouse::sim {

// What an eBPF profiling task samples (the command's `TargetType`).
enum class EbpfTarget { kOnCpu, kOffCpu, kNetwork };

// "ON_CPU", "OFF_CPU" or "NETWORK".
absl::string_view EbpfTargetName(EbpfTarget target);

// One `EBPFProfilingTaskQuery` command as Rover reads it (grpc-protocol.md §3.3,
// pkg/profiling/task/base/task.go).
struct EbpfTaskSpec {
  std::string task_id;
  std::vector<std::string> process_ids;  // `ProcessId` split on ',' (nothing trimmed)
  int64_t update_time_ms = 0;            // `TaskUpdateTime`
  EbpfTarget target = EbpfTarget::kOnCpu;
  int64_t start_time_ms = 0;          // `TaskStartTime`
  int64_t duration_s = 0;             // `FixedTriggerDuration`
  std::string extension_config_json;  // `ExtensionConfigJSON`, valid JSON

  // Rover drops a FIXED_TIME command once `now` is past this.
  int64_t EndTimeMs() const { return start_time_ms + duration_s * 1000; }

  // Rover's task identity: tasks with the same identity replace each other. The process ids
  // (sorted), target and trigger type.
  std::string Identity() const;

  // Rover's IsSameTask: same id, same sorted process ids, same start time and types. A
  // re-delivered same task only updates the running one (its duration).
  bool SameTaskAs(const EbpfTaskSpec& other) const;
};

// Parses `command` exactly as Rover's ProfilingTaskFromCommand does, in its order: the command
// name must be `EBPFProfilingTaskQuery`; TaskId, ProcessId, TaskUpdateTime (integer),
// TriggerType (only FIXED_TIME), TargetType (ON_CPU, OFF_CPU or NETWORK), TaskStartTime
// (integer), ExtensionConfigJSON (valid JSON decodable into Rover's config struct: an object or
// `null`; an empty string is invalid) and FixedTriggerDuration (integer seconds) must all be
// present. Integers follow Go's strconv.ParseInt(s, 10, 64): an optional sign and decimal digits.
// InvalidArgument names the first problem. Does not check the process ids.
absl::StatusOr<EbpfTaskSpec> ParseEbpfTaskCommand(const skywalking::v3::Command& command);

// The command OAP sends for `spec` (args in OAP's order, a fresh serial number, `null` extension
// when `spec.extension_config_json` is empty). For tests and --fake-task.
skywalking::v3::Command MakeEbpfTaskCommand(const EbpfTaskSpec& spec);

// Whether `text` is one complete JSON value (RFC 8259 grammar, surrounding whitespace allowed),
// as Go's encoding/json checks before decoding.
bool IsValidJson(absl::string_view text);

// The ON_CPU/OFF_CPU/NETWORK tasks one simulated Rover holds (pkg/profiling/task/manager.go),
// without I/O: Offer is what StartingWatchTask does per command, StartDue starts waiting tasks,
// TakeFlushable/FinishFlush bracket one FlushProfilingData. Thread-compatible.
class RoverTaskBoard {
 public:
  // What Offer did with a command.
  enum class Outcome {
    kStarted,   // a new task: waiting for its start time or running
    kExtended,  // the same task again: its duration was updated
    kReplaced,  // a different task with the identity of one held: the old one was dropped
    kNetwork,   // a NETWORK task: accepted by the parser but not simulated (logged, ignored)
    kExpired,   // parsed, but its end has passed: ignored
    kRejected,  // unparseable, unknown processes, or a runner Rover could not create
  };

  enum class State { kWaiting, kRunning, kStopped };

  struct Task {
    EbpfTaskSpec spec;
    State state = State::kWaiting;
    int64_t started_ms = 0;        // when it started running (`profilingStartTime`)
    int64_t sampled_until_ms = 0;  // data has been produced up to here
    // When Rover stops the running task: start of the run + FixedTriggerDuration.
    int64_t StopMs() const { return started_ms + spec.duration_s * 1000; }
  };

  struct OfferResult {
    Outcome outcome = Outcome::kRejected;
    std::string reason;  // why, for kRejected and kExpired
    EbpfTaskSpec spec;   // the parsed command, unless it did not parse
  };

  // Handles one command at `now_ms`. `known_process` says whether this Rover registered a process
  // id. Only commands that parse, name known processes and (for ON_CPU/OFF_CPU) exactly one
  // process (Rover's runners profile one process) advance latest_update_time(), expired ones
  // included.
  OfferResult Offer(const skywalking::v3::Command& command,
                    const std::function<bool(const std::string&)>& known_process, int64_t now_ms);

  // The next `latestUpdateTime` to send: 0 at start, then the max TaskUpdateTime of accepted
  // commands.
  int64_t latest_update_time() const { return latest_update_time_; }

  // Starts every waiting task whose start time is <= `now_ms` (from `now_ms`); returns how many.
  int StartDue(int64_t now_ms);

  // The earliest start time of a waiting task, or -1.
  int64_t NextStartMs() const;

  // Whether any task is held (Rover opens a flush stream only then).
  bool empty() const { return tasks_.empty(); }

  // The tasks to flush at `now_ms`: running ones are marked stopped when their stop time has
  // come. Pointers stay valid until FinishFlush.
  std::vector<Task*> TakeFlushable(int64_t now_ms);

  // Drops the stopped tasks (after their last data was flushed); returns them.
  std::vector<Task> FinishFlush();

 private:
  std::vector<Task> tasks_;
  int64_t latest_update_time_ = 0;
};

}  // namespace stackhouse::sim
