#include "simulator/rover_network.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "simulator/grpc_util.h"
#include "simulator/modes.h"

namespace stackhouse::sim {
namespace {

namespace v3 = skywalking::v3;

constexpr const char* kNetPrefix = "rover_net_p_";

void AddTag(google::protobuf::RepeatedPtrField<v3::KeyStringValuePair>* tags,
            const std::string& key, const std::string& value) {
  v3::KeyStringValuePair* tag = tags->Add();
  tag->set_key(key);
  tag->set_value(value);
}

void SetInstant(v3::Instant* instant, int64_t ms, int32_t extra_nanos) {
  instant->set_seconds(ms / 1000);
  instant->set_nanos(static_cast<int32_t>(ms % 1000) * 1000000 + extra_nanos);
}

// Rover's human-readable sizes (e.g. "1.50KiB").
std::string HumanSize(size_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, "B");
  return absl::StrFormat("%.2fKiB", static_cast<double>(bytes) / 1024);
}

// The peer of `c` as the log body's `server_process`: a process id, or an address.
std::string PeerJson(const MeterConnection& c) {
  if (c.peer == PeerKind::kProcess) return absl::StrCat("{\"process_id\":\"", c.peer_value, "\"}");
  return absl::StrCat("{\"local\":false,\"address\":\"", c.peer_value, "\"}");
}

// One sampled request of `self` over `c` and everything Rover and the agents report about it.
struct Sample {
  std::string trace_id;
  std::string uri;
  std::string reason;  // "slow" or "status_5xx"
  int64_t latency_ms = 0;
  int status = 200;
};

void AddSample(const std::vector<MeterProcess>& processes, size_t index, const MeterConnection& c,
               const Sample& s, int64_t now_ms, NetworkReport* out) {
  const MeterProcess& self = processes[index];
  const MeterProcess* peer = nullptr;
  for (const MeterProcess& p : processes) {
    if (c.peer == PeerKind::kProcess && p.id == c.peer_value) peer = &p;
  }
  const int64_t end = now_ms - 50;
  const int64_t start = end - s.latency_ms;
  const std::string client_segment = absl::StrCat(s.trace_id, ".c");
  const std::string server_segment = absl::StrCat(s.trace_id, ".s");
  const std::string peer_name =
      peer != nullptr ? absl::StrCat(peer->process_name, ":8080") : c.peer_value;

  v3::SegmentObject& client = out->segments.emplace_back();
  client.set_traceid(s.trace_id);
  client.set_tracesegmentid(client_segment);
  client.set_service(self.service);
  client.set_serviceinstance(self.instance);
  v3::SpanObject* entry = client.add_spans();
  entry->set_spanid(0);
  entry->set_parentspanid(-1);
  entry->set_starttime(start - 5);
  entry->set_endtime(end + 5);
  entry->set_operationname(absl::StrCat("GET:/frontend", s.uri));
  entry->set_spantype(v3::Entry);
  entry->set_spanlayer(v3::Http);
  entry->set_componentid(1);
  entry->set_iserror(s.status >= 500);
  v3::SpanObject* exit = client.add_spans();
  exit->set_spanid(1);
  exit->set_parentspanid(0);
  exit->set_starttime(start);
  exit->set_endtime(end);
  exit->set_operationname(s.uri);
  exit->set_peer(peer_name);
  exit->set_spantype(v3::Exit);
  exit->set_spanlayer(v3::Http);
  exit->set_componentid(2);
  exit->set_iserror(s.status >= 500);
  AddTag(exit->mutable_tags(), "http.method", "GET");
  AddTag(exit->mutable_tags(), "http.status_code", absl::StrCat(s.status));
  if (peer != nullptr) {
    v3::SegmentObject& server = out->segments.emplace_back();
    server.set_traceid(s.trace_id);
    server.set_tracesegmentid(server_segment);
    server.set_service(peer->service);
    server.set_serviceinstance(peer->instance);
    v3::SpanObject* served = server.add_spans();
    served->set_spanid(0);
    served->set_parentspanid(-1);
    served->set_starttime(start + 2);
    served->set_endtime(end - 2);
    served->set_operationname(absl::StrCat("GET:", s.uri));
    served->set_spantype(v3::Entry);
    served->set_spanlayer(v3::Http);
    served->set_componentid(1);
    served->set_iserror(s.status >= 500);
    v3::SegmentReference* ref = served->add_refs();
    ref->set_reftype(v3::CrossProcess);
    ref->set_traceid(s.trace_id);
    ref->set_parenttracesegmentid(client_segment);
    ref->set_parentspanid(1);
    ref->set_parentservice(self.service);
    ref->set_parentserviceinstance(self.instance);
    ref->set_parentendpoint(entry->operationname());
    ref->set_networkaddressusedatpeer(peer_name);
  }

  v3::LogData& log = out->logs.emplace_back();
  log.set_timestamp(now_ms);
  log.set_service(self.service);
  log.set_serviceinstance(self.instance);
  log.set_layer(self.layer);
  log.mutable_tracecontext()->set_traceid(s.trace_id);
  AddTag(log.mutable_tags()->mutable_data(), "LOG_KIND", "NET_PROFILING_SAMPLED_TRACE");
  log.mutable_body()->set_type("json");
  log.mutable_body()->mutable_json()->set_json(absl::StrCat(
      "{\"uri\":\"", s.uri, "\",\"reason\":\"", s.reason, "\",\"latency\":", s.latency_ms,
      ",\"trace_provider\":\"skywalking\",\"client_process\":{\"process_id\":\"", self.id,
      "\"},\"server_process\":", PeerJson(c),
      ",\"detect_point\":\"client\",\"component\":\"http\",\"ssl\":", c.ssl ? "true" : "false",
      ",\"status\":", s.status, "}"));

  const std::string header = absl::StrCat("sw8: 1-", s.trace_id, "-", client_segment, "-1");
  const std::string request = absl::StrCat("GET ", s.uri, " HTTP/1.1\r\nHost: ", peer_name, "\r\n",
                                           header, "\r\nAccept: */*\r\n\r\n");
  const std::string body =
      s.status >= 500 ? "{\"error\":\"upstream unavailable\"}" : "{\"items\":[1,2,3]}";
  const std::string response = absl::StrCat(
      "HTTP/1.1 ", s.status, s.status >= 500 ? " Service Unavailable" : " OK",
      "\r\nContent-Type: application/json\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
  auto event = [&](const std::string& name, int64_t at_ms, int64_t until_ms) {
    v3::SpanAttachedEvent& e = out->events.emplace_back();
    e.set_event(name);
    SetInstant(e.mutable_starttime(), at_ms, 1234);
    SetInstant(e.mutable_endtime(), until_ms, 5678);
    e.mutable_tracecontext()->set_type(v3::SpanAttachedEvent::SKYWALKING);
    e.mutable_tracecontext()->set_traceid(s.trace_id);
    e.mutable_tracecontext()->set_tracesegmentid(client_segment);
    e.mutable_tracecontext()->set_spanid("1");
    return &e;
  };
  auto owner = [&](v3::SpanAttachedEvent* e, const MeterProcess& p) {
    AddTag(e->mutable_tags(), "service_name", p.service);
    AddTag(e->mutable_tags(), "service_instance_name", p.instance);
    AddTag(e->mutable_tags(), "process_name", p.process_name);
  };
  auto data = [&](v3::SpanAttachedEvent* e, const std::string& content, const char* direction,
                  const char* type, const char* role) {
    AddTag(e->mutable_tags(), "data_size", HumanSize(content.size()));
    AddTag(e->mutable_tags(), "data_content", content);
    AddTag(e->mutable_tags(), "data_direction", direction);
    AddTag(e->mutable_tags(), "data_type", type);
    AddTag(e->mutable_tags(), "connection_role", role);
  };
  v3::SpanAttachedEvent* sent = event("HTTP Request Sampling", start, start + 1);
  data(sent, request, "outbound", "request", "client");
  owner(sent, self);
  v3::SpanAttachedEvent* write = event("Syscall Write", start, start);
  AddTag(write->mutable_tags(), "package_size", HumanSize(request.size()));
  AddTag(write->mutable_tags(), "package_count", "1");
  AddTag(write->mutable_tags(), "network_name", "eth0");
  AddTag(write->mutable_tags(), "network_index", "2");
  AddTag(write->mutable_tags(), "avg_rtt_time", absl::StrCat(40000 + s.latency_ms * 3, "ns"));
  owner(write, self);
  v3::SpanAttachedEvent* received = event("HTTP Response Sampling", end - 1, end);
  data(received, response, "inbound", "response", "client");
  owner(received, self);
  if (peer != nullptr) {
    v3::SpanAttachedEvent* arrived = event("HTTP Request Sampling", start + 1, start + 2);
    data(arrived, request, "inbound", "request", "server");
    owner(arrived, *peer);
  }
}

}  // namespace

void KeepMeters(v3::MeterDataCollection* collection, bool network) {
  if (collection->meterdata_size() == 0) return;
  const v3::MeterData head = collection->meterdata(0);
  google::protobuf::RepeatedPtrField<v3::MeterData> kept;
  for (v3::MeterData& d : *collection->mutable_meterdata()) {
    const std::string& name = d.has_singlevalue() ? d.singlevalue().name() : d.histogram().name();
    if (absl::StartsWith(name, kNetPrefix) == network) *kept.Add() = std::move(d);
  }
  collection->mutable_meterdata()->Swap(&kept);
  if (collection->meterdata_size() == 0) return;
  v3::MeterData* first = collection->mutable_meterdata(0);
  first->set_service(head.service());
  first->set_serviceinstance(head.serviceinstance());
  first->set_timestamp(head.timestamp());
}

RoverNetworkModel::RoverNetworkModel(uint64_t seed, int64_t interval_ms, ConnectionShape shape)
    : seed_(seed),
      shape_(shape),
      meters_(DeriveSeed(seed, 1), interval_ms, {"/reviews", "global"}, shape) {}

NetworkReport RoverNetworkModel::Report(const std::vector<MeterProcess>& processes, int64_t round,
                                        int64_t now_ms) const {
  NetworkReport out;
  for (size_t i = 0; i < processes.size(); ++i) {
    v3::MeterDataCollection meters = meters_.Report(processes, i, round, now_ms);
    KeepMeters(&meters, true);
    if (meters.meterdata_size() > 0) out.meters.push_back(std::move(meters));

    std::optional<MeterConnection> http;
    for (const MeterConnection& c : ConnectionsOf(processes, i, shape_)) {
      if (!c.client || !c.http || c.peer == PeerKind::kLocal) continue;
      if (!http || (c.peer == PeerKind::kProcess && http->peer != PeerKind::kProcess)) http = c;
    }
    if (!http) continue;
    const uint64_t key = processes[i].key;
    const std::string trace_base =
        absl::StrFormat("%016x.%d.%d", DeriveSeed(seed_, key), round, static_cast<int>(i));
    Sample slow;
    slow.trace_id = absl::StrCat(trace_base, ".1");
    slow.uri = absl::StrCat("/api/reviews/", (key * 7 + round) % 50);
    slow.reason = "slow";
    slow.latency_ms = 600 + static_cast<int64_t>((key * 37 + round * 101) % 1400);
    AddSample(processes, i, *http, slow, now_ms, &out);
    if (round % 2 == 1) {
      Sample failed;
      failed.trace_id = absl::StrCat(trace_base, ".2");
      failed.uri = "/api/ratings";
      failed.reason = "status_5xx";
      failed.latency_ms = 40 + static_cast<int64_t>((key + round) % 20);
      failed.status = 503;
      AddSample(processes, i, *http, failed, now_ms, &out);
    }
  }
  return out;
}

RoverNetworkClient::RoverNetworkClient(const std::shared_ptr<grpc::Channel>& channel,
                                       std::string token, int64_t timeout_ms)
    : token_(std::move(token)),
      timeout_ms_(timeout_ms),
      meter_(v3::MeterReportService::NewStub(channel)),
      trace_(v3::TraceSegmentReportService::NewStub(channel)),
      log_(v3::LogReportService::NewStub(channel)),
      event_(v3::SpanAttachedEventReportService::NewStub(channel)) {}

template <typename Stub, typename Message>
absl::Status RoverNetworkClient::Stream(Stub* stub, const std::vector<Message>& messages) {
  if (messages.empty()) return absl::OkStatus();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms_));
  if (!token_.empty()) context.AddMetadata("authentication", token_);
  v3::Commands reply;
  std::unique_ptr<grpc::ClientWriter<Message>> writer;
  if constexpr (std::is_same_v<Message, v3::MeterDataCollection>) {
    writer = stub->collectBatch(&context, &reply);
  } else {
    writer = stub->collect(&context, &reply);
  }
  for (const Message& m : messages) {
    if (!writer->Write(m)) break;
  }
  writer->WritesDone();
  return FromGrpcStatus(writer->Finish());
}

absl::Status RoverNetworkClient::Send(const NetworkReport& report) {
  if (absl::Status s = Stream(meter_.get(), report.meters); !s.ok()) return s;
  if (absl::Status s = Stream(trace_.get(), report.segments); !s.ok()) return s;
  if (absl::Status s = Stream(log_.get(), report.logs); !s.ok()) return s;
  return Stream(event_.get(), report.events);
}

std::string RoverNetworkProfiler::Offer(const EbpfTaskSpec& spec) {
  if (tasks_.empty()) round_ = 0;
  for (EbpfTaskSpec& held : tasks_) {
    if (held.SameTaskAs(spec)) {
      held = spec;
      return "extended";
    }
  }
  auto shares_a_process = [&](const EbpfTaskSpec& held) {
    return std::any_of(held.process_ids.begin(), held.process_ids.end(), [&](const auto& id) {
      return std::find(spec.process_ids.begin(), spec.process_ids.end(), id) !=
             spec.process_ids.end();
    });
  };
  const size_t before = tasks_.size();
  tasks_.erase(std::remove_if(tasks_.begin(), tasks_.end(), shares_a_process), tasks_.end());
  const bool replaced = tasks_.size() != before;
  const bool added = !replaced && !tasks_.empty();
  tasks_.push_back(spec);
  return replaced ? "replaced" : added ? "added" : "started";
}

bool RoverNetworkProfiler::Running(int64_t now_ms) {
  tasks_.erase(std::remove_if(tasks_.begin(), tasks_.end(),
                              [&](const EbpfTaskSpec& t) { return now_ms > t.EndTimeMs(); }),
               tasks_.end());
  return std::any_of(tasks_.begin(), tasks_.end(),
                     [&](const EbpfTaskSpec& t) { return now_ms >= t.start_time_ms; });
}

std::vector<std::string> RoverNetworkProfiler::ProcessIds(int64_t now_ms) const {
  std::vector<std::string> ids;
  for (const EbpfTaskSpec& t : tasks_) {
    if (now_ms < t.start_time_ms || now_ms > t.EndTimeMs()) continue;
    for (const std::string& id : t.process_ids) {
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
  }
  return ids;
}

}  // namespace stackhouse::sim
