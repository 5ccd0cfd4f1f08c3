#pragma once

// The stored forms (records.proto) of eBPF processes and tasks, continuous-profiling policies and
// span events, shared by the storage backends. Each encoder leaves out what the backend keeps in
// its key (ids, times); the caller fills those in after decoding. Thread-safe functions.
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/continuous.h"
#include "model/ebpf.h"
#include "model/span_event.h"

namespace stackhouse::storage {

// A process as records::ProcessRecord bytes, without its id and last ping.
std::string EncodeProcess(const model::Process& process);
// DataLoss when `bytes` do not parse; id and last_ping_ms are left empty.
absl::StatusOr<model::Process> DecodeProcess(absl::string_view bytes);

// An eBPF task record as records::EbpfTaskRecord bytes, without its logical id and create time.
std::string EncodeEbpfTask(const model::EbpfTask& task);
// DataLoss when `bytes` do not parse; logical_id and create_time_ms are left empty.
absl::StatusOr<model::EbpfTask> DecodeEbpfTask(absl::string_view bytes);

// A policy as records::ContinuousPolicyRecord bytes, without its service id and update time.
std::string EncodeContinuousPolicy(const model::ContinuousPolicy& policy);
// DataLoss when `bytes` do not parse or name an unknown target or monitor; service_id and
// update_time_ms are left empty.
absl::StatusOr<model::ContinuousPolicy> DecodeContinuousPolicy(absl::string_view bytes);

// An attached event as records::SpanEventRecord bytes, without its trace id.
std::string EncodeSpanEvent(const model::SpanAttachedEvent& event);
// DataLoss when `bytes` do not parse; trace_id is left empty.
absl::StatusOr<model::SpanAttachedEvent> DecodeSpanEvent(absl::string_view bytes);

}  // namespace stackhouse::storage
