#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/channel.h"
#include "language-agent/Meter.grpc.pb.h"
#include "language-agent/Tracing.grpc.pb.h"
#include "logging/Logging.grpc.pb.h"
#include "simulator/rover_meters.h"
#include "simulator/rover_task.h"

namespace stackhouse::sim {

// Keeps only the network-profiling meters of `collection` (rover_net_p_*) when `network`, or
// only the others; the first element left carries the service, instance and time the first
// element had (Rover sets them on the first element only). Empty when nothing is left.
void KeepMeters(skywalking::v3::MeterDataCollection* collection, bool network);

// One report interval of a NETWORK task, as Rover sends it (grpc-protocol.md §4.4.4): the
// network meters of each process, the sampled slow and 5xx HTTP requests (logs), the trace
// segments of those requests (what the language agents on both sides report) and the events
// Rover attaches to their spans.
struct NetworkReport {
  std::vector<skywalking::v3::MeterDataCollection> meters;
  std::vector<skywalking::v3::SegmentObject> segments;
  std::vector<skywalking::v3::LogData> logs;
  std::vector<skywalking::v3::SpanAttachedEvent> events;
};

// What a simulated Rover's network profiling reports for the processes of one task (one
// service instance), deterministically from (seed, process key, round): RoverMeterModel's
// rover_net_p_* meters, and per process one sampled slow request every round and one 5xx
// every second round on its first HTTP client connection (to another process of the instance
// when it has one, else to the remote HTTP service), each with a SkyWalking trace header: its
// LogData (LOG_KIND NET_PROFILING_SAMPLED_TRACE, JSON body in Rover's fields), a client
// segment (entry span 0, exit span 1 to the peer) and, for a peer process, its server segment
// (entry span referring to the exit span), and the attached events naming the exit span: the
// request as sent (outbound), the syscall that wrote it, the response received (inbound) and,
// for a peer process, the request as it arrived (inbound, server side). Thread-safe (immutable).
class RoverNetworkModel {
 public:
  // `shape`: the connections of each process (ConnectionsOf).
  RoverNetworkModel(uint64_t seed, int64_t interval_ms, ConnectionShape shape = {});

  NetworkReport Report(const std::vector<MeterProcess>& processes, int64_t round,
                       int64_t now_ms) const;

 private:
  uint64_t seed_;
  ConnectionShape shape_;
  RoverMeterModel meters_;
};

// The report calls of network profiling: MeterReportService/collectBatch,
// TraceSegmentReportService/collect, LogReportService/collect and
// SpanAttachedEventReportService/collect, each one stream with a deadline and the
// `authentication` metadata when `token` is set. Thread-compatible.
class RoverNetworkClient {
 public:
  RoverNetworkClient(const std::shared_ptr<grpc::Channel>& channel, std::string token,
                     int64_t timeout_ms);

  // Sends `report` in that order (segments before the logs and events that name them), stopping
  // at the first failed call.
  absl::Status Send(const NetworkReport& report);

 private:
  template <typename Stub, typename Message>
  absl::Status Stream(Stub* stub, const std::vector<Message>& messages);

  std::string token_;
  int64_t timeout_ms_;
  std::unique_ptr<skywalking::v3::MeterReportService::Stub> meter_;
  std::unique_ptr<skywalking::v3::TraceSegmentReportService::Stub> trace_;
  std::unique_ptr<skywalking::v3::LogReportService::Stub> log_;
  std::unique_ptr<skywalking::v3::SpanAttachedEventReportService::Stub> event_;
};

// The NETWORK tasks a simulated Rover runs. Like Rover, whose network profiling watches the
// processes of every NETWORK task in one runner, tasks of other processes run side by side (two
// instances triggered a second apart each get their reports); a task sharing a process with a
// running one replaces it; the same task again with a longer duration extends it (keep-alive).
// Accepted from RoverTaskBoard's kNetwork outcome. Thread-compatible.
class RoverNetworkProfiler {
 public:
  // Takes `spec` (a parsed, unexpired NETWORK command naming processes this Rover registered).
  // Returns what happened, for the log: "started", "added", "extended" or "replaced".
  std::string Offer(const EbpfTaskSpec& spec);

  // Whether a task runs at `now_ms` (between its start and start + duration); drops those that
  // have ended.
  bool Running(int64_t now_ms);

  // The processes of the tasks running at `now_ms`, each once, in the tasks' order.
  std::vector<std::string> ProcessIds(int64_t now_ms) const;

  // The tasks held (started or about to start), oldest first.
  const std::vector<EbpfTaskSpec>& tasks() const { return tasks_; }

  // The next report number (counts from 0 each time the runner starts from idle).
  int64_t NextRound() { return round_++; }

 private:
  std::vector<EbpfTaskSpec> tasks_;
  int64_t round_ = 0;
};

}  // namespace stackhouse::sim
