#include "simulator/rover_process.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace stackhouse::sim {
namespace {

// Kubernetes' alphabet for generated name parts (no vowels, no look-alikes).
constexpr char kNameAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";

std::string RandomName(size_t length, Rng& rng) {
  std::uniform_int_distribution<size_t> pick(0, sizeof(kNameAlphabet) - 2);
  std::string out;
  for (size_t i = 0; i < length; ++i) out.push_back(kNameAlphabet[pick(rng)]);
  return out;
}

double Uniform(double lo, double hi, Rng& rng) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

void AddProperty(skywalking::v3::EBPFKubernetesProcessMetadata* metadata, const char* key,
                 std::string value) {
  auto* kv = metadata->add_properties();
  kv->set_key(key);
  kv->set_value(std::move(value));
}

std::vector<std::string> SortedLabels(const std::vector<std::string>& labels) {
  std::vector<std::string> out = labels;
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<RoverProcess> DiscoverProcesses(const RoverDiscoveryOptions& options, Rng& rng) {
  const std::string service = absl::StrCat(options.service, ".", options.namespace_name);
  const std::string template_hash = RandomName(9, rng);
  std::uniform_int_distribution<int32_t> pid_range(10'000, 4'000'000);
  absl::flat_hash_set<int32_t> pids;
  std::vector<RoverProcess> out;
  std::string pod;
  std::string pod_ip;
  const int per_pod = options.pod_processes > 0 ? options.pod_processes : (options.mesh ? 2 : 1);
  for (int i = 0; i < options.processes; ++i) {
    const int place = i % per_pod;  // in the pod
    bool sidecar = options.mesh && place == 1;
    if (place == 0) {
      pod = absl::StrCat(options.service, "-v1-", template_hash, "-", RandomName(5, rng));
      pod_ip = absl::StrCat("10.244.", std::uniform_int_distribution<int>(0, 3)(rng), ".",
                            std::uniform_int_distribution<int>(2, 254)(rng));
    }
    RoverProcess p;
    do {
      p.pid = pid_range(rng);
    } while (!pids.insert(p.pid).second);
    p.pod = pod;
    p.pod_ip = pod_ip;
    if (sidecar) {
      p.kind = ProcessKind::kEnvoy;
      p.exe = "envoy";
      p.container = "istio-proxy";
      p.command_line =
          "/usr/local/bin/envoy -c etc/istio/proxy/envoy-rev.json --drain-time-s 45 "
          "--drain-strategy immediate --local-address-ip-version v4 --file-flush-interval-msec "
          "1000 --disable-hot-restart --allow-unknown-static-fields -l warning "
          "--component-log-level misc:error --concurrency 2";
      p.cpu_cores = Uniform(0.1, 0.6, rng);
      p.switches_per_s = Uniform(500, 3000, rng);
    } else if (options.app == ProcessKind::kGo) {
      p.kind = ProcessKind::kGo;
      p.exe = options.service;
      p.container = options.service;
      p.command_line = absl::StrCat("/app/", options.service, " --port=9080 --db=mysql:3306");
      p.cpu_cores = Uniform(0.2, 1.2, rng);
      p.switches_per_s = Uniform(1000, 6000, rng);
    } else {
      p.kind = ProcessKind::kJava;
      p.exe = "java";
      p.container = options.service;
      p.command_line = absl::StrCat(
          "java -XX:+UseG1GC -XX:MaxRAMPercentage=75.0 -Djava.security.egd=file:/dev/./urandom "
          "-Dserver.port=9080 -jar /app/",
          options.service, ".jar");
      p.cpu_cores = Uniform(0.4, 1.8, rng);
      p.switches_per_s = Uniform(800, 4000, rng);
    }
    if (place >= 2 || (!options.mesh && place == 1)) {
      // A further application process of the pod.
      p.exe = absl::StrCat(p.exe, "-", place);
      p.container = absl::StrCat(p.container, "-", place);
    }
    // Rover's analyzers, in its configuration order.
    if (options.mesh) {
      p.entities.push_back({sidecar ? "MESH_DP" : "MESH",
                            service,
                            p.pod,
                            p.exe,
                            {sidecar ? "mesh-envoy" : "mesh-application"}});
    }
    if (options.k8s_service) {
      p.entities.push_back({"K8S_SERVICE", service, p.pod, p.exe, {"k8s-service"}});
    }
    out.push_back(std::move(p));
  }
  return out;
}

skywalking::v3::EBPFProcessEntityMetadata EntityToProto(const RoverEntity& entity) {
  skywalking::v3::EBPFProcessEntityMetadata proto;
  proto.set_layer(entity.layer);
  proto.set_servicename(entity.service);
  proto.set_instancename(entity.instance);
  proto.set_processname(entity.process);
  for (const std::string& label : entity.labels) proto.add_labels(label);
  return proto;
}

skywalking::v3::EBPFProcessProperties MakeProcessProperties(const RoverProcess& process,
                                                            const RoverEntity& entity,
                                                            const std::string& host_ip) {
  skywalking::v3::EBPFProcessProperties properties;
  auto* k8s = properties.mutable_k8sprocess();
  k8s->set_pid(process.pid);
  *k8s->mutable_entity() = EntityToProto(entity);
  AddProperty(k8s, "host_ip", host_ip);
  AddProperty(k8s, "container_ip", process.pod_ip);
  AddProperty(k8s, "container_name", process.container);
  AddProperty(k8s, "pod_name", process.pod);
  AddProperty(k8s, "pid", absl::StrCat(process.pid));
  AddProperty(k8s, "command_line", process.command_line);
  AddProperty(k8s, "support_ebpf_profiling", "true");
  return properties;
}

bool EntityMatches(const RoverEntity& entity,
                   const skywalking::v3::EBPFProcessEntityMetadata& proto) {
  std::vector<std::string> labels(proto.labels().begin(), proto.labels().end());
  std::sort(labels.begin(), labels.end());
  return SortedLabels(entity.labels) == labels && entity.layer == proto.layer() &&
         entity.service == proto.servicename() && entity.instance == proto.instancename() &&
         entity.process == proto.processname();
}

std::string MatchProcessId(int32_t pid, const RoverEntity& entity,
                           const skywalking::v3::EBPFProcessDownstream& downstream) {
  if (!downstream.has_k8sprocess()) return "";
  const auto& k8s = downstream.k8sprocess();
  if (k8s.pid() != pid || !k8s.has_entitymetadata() ||
      !EntityMatches(entity, k8s.entitymetadata())) {
    return "";
  }
  return downstream.processid();
}

RoverProcessRegistry::RoverProcessRegistry(std::vector<RoverProcess> processes,
                                           std::string agent_id, std::string host_ip,
                                           int properties_report_period)
    : processes_(std::move(processes)),
      agent_id_(std::move(agent_id)),
      host_ip_(std::move(host_ip)),
      properties_report_period_(std::max(properties_report_period, 1)) {
  for (size_t p = 0; p < processes_.size(); ++p) {
    for (size_t e = 0; e < processes_[p].entities.size(); ++e) {
      Entry entry;
      entry.process = p;
      entry.entity = e;
      entries_.push_back(std::move(entry));
    }
  }
}

RoverProcessRegistry::Round RoverProcessRegistry::NextRound() {
  Round round;
  round.report_list.set_ebpfagentid(agent_id_);
  round.ping_list.set_ebpfagentid(agent_id_);
  bool all_properties = ++rounds_ % properties_report_period_ == 0;
  std::vector<size_t> keep_alive;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& entry = entries_[i];
    if (entry.status == Status::kNotReported) {
      round.report.push_back(i);
    } else if (entry.status == Status::kRegistered) {
      keep_alive.push_back(i);
    }
  }
  if (all_properties) {
    round.report.insert(round.report.end(), keep_alive.begin(), keep_alive.end());
    keep_alive.clear();
  }
  for (size_t i : round.report) {
    const RoverProcess& process = processes_[entries_[i].process];
    *round.report_list.add_processes() =
        MakeProcessProperties(process, process.entities[entries_[i].entity], host_ip_);
  }
  for (size_t i : keep_alive) {
    const RoverProcess& process = processes_[entries_[i].process];
    auto* ping = round.ping_list.add_processes();
    *ping->mutable_entitymetadata() = EntityToProto(process.entities[entries_[i].entity]);
    auto* kv = ping->add_properties();
    kv->set_key("support_ebpf_profiling");
    kv->set_value("true");
  }
  return round;
}

int RoverProcessRegistry::ApplyReport(const Round& round,
                                      const skywalking::v3::EBPFReportProcessDownstream& reply) {
  int registered = 0;
  for (size_t i : round.report) {
    Entry& entry = entries_[i];
    const RoverProcess& process = processes_[entry.process];
    std::string id;
    for (const auto& downstream : reply.processes()) {
      id = MatchProcessId(process.pid, process.entities[entry.entity], downstream);
      if (!id.empty()) break;
    }
    if (id.empty()) {
      entry.status = Status::kIgnored;
      continue;
    }
    entry.status = Status::kRegistered;
    entry.id = std::move(id);
    ++registered;
  }
  return registered;
}

const RoverProcessRegistry::Entry* RoverProcessRegistry::Find(const std::string& id) const {
  for (const Entry& entry : entries_) {
    if (entry.status == Status::kRegistered && entry.id == id) return &entry;
  }
  return nullptr;
}

int RoverProcessRegistry::registered() const {
  return static_cast<int>(std::count_if(entries_.begin(), entries_.end(), [](const Entry& e) {
    return e.status == Status::kRegistered;
  }));
}

}  // namespace stackhouse::sim
