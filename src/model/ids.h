#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// SkyWalking-compatible identifiers (grpc-protocol.md §5.1, graphql-protocol.md §0.3). Every
// formula here must stay bit-exact: agents, Rover, booster-ui and swctl build or decode them.
// All functions are pure and thread-safe.
namespace stackhouse::model {

// Replacement for blank (empty or whitespace-only) names in ids.
inline constexpr absl::string_view kBlankName = "_blank";

// True if `s` is empty or only whitespace (Java's String.isBlank for ASCII).
bool IsBlank(absl::string_view s);

// Truncates `name` to at most `max_utf16_units` UTF-16 code units, as Java's substring does
// (OAP's name normalisation, §5.3). Never splits a UTF-8 sequence; a supplementary character
// counts as two units and is dropped whole if only one unit would fit.
std::string TruncateName(absl::string_view name, int max_utf16_units);

// `B64(name) + "." + (normal ? "1" : "0")`, with blank names as "_blank".
std::string ServiceId(absl::string_view service_name, bool normal = true);

// `serviceId + "_" + B64(instanceName)`.
std::string InstanceId(absl::string_view service_id, absl::string_view instance_name);

// `serviceId + "_" + B64(endpointName)`.
std::string EndpointId(absl::string_view service_id, absl::string_view endpoint_name);

// `SHA256HEX(processName + "_" + instanceId)`: process name first.
std::string ProcessId(absl::string_view process_name, absl::string_view instance_id);

// `sourceProcessId + "-" + destProcessId`.
std::string ProcessRelationId(absl::string_view source_process_id,
                              absl::string_view dest_process_id);

// `decimal(createTimeMs) + "_" + serviceId`.
std::string ProfileTaskId(int64_t create_time_ms, absl::string_view service_id);

// `taskId + "_" + instanceId + "_" + operationType + "_" + operationTime`.
std::string ProfileTaskLogId(absl::string_view task_id, absl::string_view instance_id,
                             int operation_type, int64_t operation_time_ms);

// `taskId + "_" + segmentId + "_" + sequence`.
std::string ThreadSnapshotId(absl::string_view task_id, absl::string_view segment_id, int sequence);

// Appends `value` as a JSON string literal as Gson writes it (HTML-safe escaping).
void AppendGsonString(std::string* out, absl::string_view value);

// Compact JSON array of strings as Gson writes it (HTML-safe escaping), e.g. `["a","b"]`.
std::string GsonStringArray(const std::vector<std::string>& values);

// The eBPF task logical id: `SHA256HEX(serviceId ‖ labelsJson ‖ LE64(startTime))`, where
// labelsJson is "" for no labels, else GsonStringArray(labels).
std::string EbpfTaskLogicalId(absl::string_view service_id, const std::vector<std::string>& labels,
                              int64_t start_time_ms);

// The eBPF task row id: `SHA256HEX(logicalId ‖ LE64(createTime))`.
std::string EbpfTaskRowId(absl::string_view logical_id, int64_t create_time_ms);

// `SHA256HEX(taskId + "_" + processId + "_" + decimal(profilingStartTime))`.
std::string EbpfScheduleId(absl::string_view task_id, absl::string_view process_id,
                           int64_t profiling_start_time_ms);

// `"_"`-joined stack ids: kernel first, then user; either may be absent (negative).
std::string EbpfStackIdList(int32_t kernel_stack_id, int32_t user_stack_id);

// `SHA256HEX(scheduleId ‖ stackIdList ‖ LE64(uploadTime))`.
std::string EbpfDataRowId(absl::string_view schedule_id, absl::string_view stack_id_list,
                          int64_t upload_time_ms);

// `SHA512HEX(configurationJson)`: the continuous-profiling policy version token.
std::string ContinuousPolicyUuid(absl::string_view configuration_json);

// A decoded service id.
struct ServiceIdParts {
  std::string name;
  bool normal = true;
};

// A decoded instance or endpoint id.
struct ChildIdParts {
  std::string service_id;
  std::string name;
};

// Decodes a service id; InvalidArgument naming the id when it is not `B64.flag`.
absl::StatusOr<ServiceIdParts> DecodeServiceId(absl::string_view service_id);

// Decodes an instance or endpoint id (`serviceId_B64`); InvalidArgument when malformed.
absl::StatusOr<ChildIdParts> DecodeChildId(absl::string_view id);

// Lower-case hex SHA-256 / SHA-512 of `data`.
std::string Sha256Hex(absl::string_view data);
std::string Sha512Hex(absl::string_view data);

}  // namespace stackhouse::model
