#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// Trace-profiling domain types (graphql-protocol.md §4.0). Plain values; thread-compatible.
namespace stackhouse::model {

// A trace-profiling task: profile `endpoint_name` of a service from `start_time_ms` for
// `duration_minutes`.
struct ProfileTask {
  std::string id;  // ProfileTaskId(create_time_ms, service_id)
  std::string service_id;
  std::string endpoint_name;
  int64_t start_time_ms = 0;
  int32_t duration_minutes = 0;
  int32_t min_duration_threshold_ms = 0;
  int32_t dump_period_ms = 0;
  int32_t max_sampling_count = 0;
  int64_t create_time_ms = 0;

  int64_t EndTimeMs() const { return start_time_ms + int64_t{duration_minutes} * 60000; }
};

enum class ProfileTaskOperation { kNotified = 1, kExecutionFinished = 2 };

// "NOTIFIED" / "EXECUTION_FINISHED".
const char* ProfileTaskOperationName(ProfileTaskOperation operation);

// What happened to a task at one instance.
struct ProfileTaskLog {
  std::string id;  // ProfileTaskLogId(...)
  std::string task_id;
  std::string instance_id;
  ProfileTaskOperation operation = ProfileTaskOperation::kNotified;
  int64_t operation_time_ms = 0;
};

// The language of the agent that recorded a snapshot.
enum class SnapshotLanguage { kJava = 0, kGo = 1 };

// One thread dump as an agent reports it; frames root (outermost) first.
struct ThreadSnapshot {
  std::string task_id;
  std::string segment_id;
  int64_t dump_time_ms = 0;
  int32_t sequence = 0;
  std::vector<std::string> frames;
};

// A Go agent's trace-profiling upload (grpc-protocol.md §5.4 goProfileReport): one pprof
// profile (perftools.profiles.Profile, serialized, uncompressed) whose samples are labelled with
// the segments they ran for.
struct GoProfile {
  std::string task_id;
  int64_t dump_time_ms = 0;
  std::vector<std::string> segment_ids;  // the labelled segments, in order of first appearance
  std::string pprof;
};

// A Go profile that covers a segment: the profile itself is read by `profile_key` (one stored
// copy for all its segments); the segment's samples are those labelled with `segment_id`.
struct GoSegmentProfile {
  std::string task_id;
  std::string segment_id;
  int64_t dump_time_ms = 0;
  std::string profile_key;
};

}  // namespace stackhouse::model
