#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ebpf/profiling/Process.pb.h"
#include "simulator/java_app_model.h"
#include "simulator/rover_stacks.h"

namespace stackhouse::sim {

// What Rover's Kubernetes analyzers make of one process (grpc-protocol.md §4.4.1).
struct RoverEntity {
  std::string layer;     // MESH, MESH_DP or K8S_SERVICE
  std::string service;   // <name>.<namespace>
  std::string instance;  // pod name
  std::string process;   // executable name
  std::vector<std::string> labels;
};

// One process the simulated Rover finds in a pod, and how busy it is.
struct RoverProcess {
  int32_t pid = 0;
  ProcessKind kind = ProcessKind::kJava;
  std::string exe;  // executable name
  std::string command_line;
  std::string pod;
  std::string container;
  std::string pod_ip;
  double cpu_cores = 1;               // ON_CPU: average cores busy (samples every 9 ms per core)
  double switches_per_s = 1;          // OFF_CPU: context switches per second
  std::vector<RoverEntity> entities;  // one per matching analyzer
};

struct RoverDiscoveryOptions {
  std::string service = "reviews";  // the pods' service (k8s Service and istio canonical name)
  std::string namespace_name = "default";
  int processes = 3;  // processes found in total
  ProcessKind app = ProcessKind::kJava;
  bool mesh = true;         // pods carry an istio-proxy sidecar: MESH and MESH_DP entities
  bool k8s_service = true;  // the pods belong to a k8s Service: K8S_SERVICE entities
  // Processes per pod; 0 = one application and, with `mesh`, its Envoy. A pod of more holds
  // the application, the Envoy (with `mesh`) and then further application processes, each
  // named after its place in the pod (`java-2`, ...) so that their ids differ.
  int pod_processes = 0;
};

// The processes of `options.processes` pods' containers: with `mesh`, pod j holds the application
// (process 2j) and its Envoy sidecar (2j+1); without, one application per pod (other pod sizes:
// `pod_processes`). Each process gets
// one entity per analyzer that matches it (MESH/mesh-application or MESH_DP/mesh-envoy, and
// K8S_SERVICE/k8s-service), all of service `<service>.<namespace>`, instance = pod name,
// process = executable name. Drawn from `rng`.
std::vector<RoverProcess> DiscoverProcesses(const RoverDiscoveryOptions& options, Rng& rng);

skywalking::v3::EBPFProcessEntityMetadata EntityToProto(const RoverEntity& entity);

// The `k8sProcess` Rover reports for one entity of `process`, with the properties host_ip,
// container_ip, container_name, pod_name, pid, command_line and support_ebpf_profiling, in
// Rover's order.
skywalking::v3::EBPFProcessProperties MakeProcessProperties(const RoverProcess& process,
                                                            const RoverEntity& entity,
                                                            const std::string& host_ip);

// Rover's EntityIsSameWithProtocol: layer, service, instance and process names equal, labels
// equal as sorted lists.
bool EntityMatches(const RoverEntity& entity,
                   const skywalking::v3::EBPFProcessEntityMetadata& proto);

// Rover's Kubernetes ParseProcessID: the downstream's process id if it is in the `k8sProcess`
// branch with the same pid and a matching entity, else "".
std::string MatchProcessId(int32_t pid, const RoverEntity& entity,
                           const skywalking::v3::EBPFProcessDownstream& downstream);

// Rover's ProcessStorage for the processes of one run (pkg/process/finders/storage.go): each
// (process, entity) pair is registered on its own. Thread-compatible.
class RoverProcessRegistry {
 public:
  enum class Status { kNotReported, kRegistered, kIgnored };

  struct Entry {
    size_t process = 0;  // index into processes()
    size_t entity = 0;   // index into that process's entities
    Status status = Status::kNotReported;
    std::string id;  // server-assigned process id once registered
  };

  RoverProcessRegistry(std::vector<RoverProcess> processes, std::string agent_id,
                       std::string host_ip, int properties_report_period = 10);

  const std::vector<RoverProcess>& processes() const { return processes_; }
  const std::vector<Entry>& entries() const { return entries_; }
  const std::string& agent_id() const { return agent_id_; }

  // One heartbeat round: the entries to send with reportProcesses (not reported yet, or every
  // entry not ignored on every `properties_report_period`-th round) and the ping list for the
  // registered rest (empty processes = no keepAlive call).
  struct Round {
    std::vector<size_t> report;  // entry indexes, in request order
    skywalking::v3::EBPFProcessReportList report_list;
    skywalking::v3::EBPFProcessPingPkgList ping_list;
  };
  Round NextRound();

  // Applies the reply to `round.report`: each entry takes the id of the first downstream entry
  // that matches it, or is ignored for good. Returns the number of entries registered.
  int ApplyReport(const Round& round, const skywalking::v3::EBPFReportProcessDownstream& reply);

  // The first registered entry with process id `id`, or nullptr.
  const Entry* Find(const std::string& id) const;

  // Registered entries.
  int registered() const;

 private:
  std::vector<RoverProcess> processes_;
  std::string agent_id_;
  std::string host_ip_;
  int properties_report_period_;
  int64_t rounds_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace stackhouse::sim
