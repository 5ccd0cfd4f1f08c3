#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "language-agent/Tracing.pb.h"
#include "management/Management.pb.h"
#include "simulator/java_app_model.h"

namespace stackhouse::sim {

// Who one simulated JVM is, as its Java agent reports it. Immutable after MakeJavaIdentity.
struct JavaIdentity {
  std::string service;
  std::string instance;    // the agent's default: <32 hex>@<first ipv4>
  std::string process_id;  // GlobalIdGenerator's PROCESS_ID: 32 hex digits
  std::string hostname;    // pod-like: <service>-<hash>-<suffix>
  std::vector<std::string> ipv4s;
  int pid = 1;
  int64_t start_time_ms = 0;
  std::string language = "java";  // the `language` property; "golang" for the Go agent
};

// A new identity for agent number `index` of `service`, drawn from `rng`.
JavaIdentity MakeJavaIdentity(const std::string& service, int index, int64_t now_ms, Rng& rng);

// The Java agent's GlobalIdGenerator: `PROCESS_ID.threadId.(timestampMs * 10000 + seq)`, with seq
// cycling through 0..9999. Used for trace and segment ids. Thread-compatible.
class JavaIdGenerator {
 public:
  explicit JavaIdGenerator(std::string process_id) : process_id_(std::move(process_id)) {}

  std::string Next(int thread_id, int64_t now_ms);

 private:
  std::string process_id_;
  int64_t seq_ = 0;
};

// reportInstanceProperties as the Java agent sends it: OS Name, hostname, one ipv4 per address,
// Process No., language=java, Start Time, JVM Arguments, Jar Dependencies.
skywalking::v3::InstanceProperties MakeInstanceProperties(const JavaIdentity& identity);

// The segment of a request that ran from `start_ms` to `end_ms` (which may cut `plan` short when
// the simulator stops): an Entry span named after the route's endpoint and Exit/Local children for
// the phases that call other systems (Lettuce, HikariCP, MySQL, RestTemplate), with the Java
// plugins' components, layers, peers and tags. Spans are listed in the order they finish, entry
// last, as the agent archives them. An erroneous plan fails one exit span and the entry span
// (status 500, error logs).
skywalking::v3::SegmentObject MakeSegment(const JavaIdentity& identity, const RequestPlan& plan,
                                          const std::string& trace_id,
                                          const std::string& segment_id, int64_t start_ms,
                                          int64_t end_ms, Rng& rng);

}  // namespace stackhouse::sim
