#include "simulator/rover_process.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace stackhouse::sim {
namespace {

// What a server that follows the spec answers: every k8s process echoed, in order.
skywalking::v3::EBPFReportProcessDownstream EchoAll(
    const skywalking::v3::EBPFProcessReportList& list) {
  skywalking::v3::EBPFReportProcessDownstream reply;
  int n = 0;
  for (const auto& p : list.processes()) {
    auto* down = reply.add_processes();
    down->set_processid(absl::StrCat("id-", p.k8sprocess().entity().processname(), "-",
                                     p.k8sprocess().pid(), "-", n++));
    down->mutable_k8sprocess()->set_pid(p.k8sprocess().pid());
    *down->mutable_k8sprocess()->mutable_entitymetadata() = p.k8sprocess().entity();
  }
  return reply;
}

std::string Property(const skywalking::v3::EBPFProcessProperties& p, const std::string& key) {
  for (const auto& kv : p.k8sprocess().properties()) {
    if (kv.key() == key) return kv.value();
  }
  return "<none>";
}

TEST(DiscoverProcessesTest, MeshPodsHaveAnApplicationAndAnEnvoy) {
  Rng rng(7);
  RoverDiscoveryOptions options;
  options.processes = 3;
  std::vector<RoverProcess> found = DiscoverProcesses(options, rng);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].kind, ProcessKind::kJava);
  EXPECT_EQ(found[0].exe, "java");
  EXPECT_EQ(found[1].kind, ProcessKind::kEnvoy);
  EXPECT_EQ(found[1].container, "istio-proxy");
  EXPECT_EQ(found[0].pod, found[1].pod);
  EXPECT_NE(found[1].pod, found[2].pod);
  EXPECT_EQ(found[2].kind, ProcessKind::kJava);
  EXPECT_NE(found[0].pid, found[1].pid);

  ASSERT_EQ(found[0].entities.size(), 2u);
  EXPECT_EQ(found[0].entities[0].layer, "MESH");
  EXPECT_EQ(found[0].entities[0].labels, std::vector<std::string>{"mesh-application"});
  EXPECT_EQ(found[0].entities[1].layer, "K8S_SERVICE");
  EXPECT_EQ(found[0].entities[1].labels, std::vector<std::string>{"k8s-service"});
  EXPECT_EQ(found[1].entities[0].layer, "MESH_DP");
  EXPECT_EQ(found[1].entities[0].labels, std::vector<std::string>{"mesh-envoy"});
  for (const RoverProcess& p : found) {
    for (const RoverEntity& e : p.entities) {
      EXPECT_EQ(e.service, "reviews.default");
      EXPECT_EQ(e.instance, p.pod);
      EXPECT_EQ(e.process, p.exe);
    }
  }
}

TEST(DiscoverProcessesTest, WithoutMeshEveryProcessIsAnApplication) {
  Rng rng(7);
  RoverDiscoveryOptions options;
  options.processes = 2;
  options.mesh = false;
  options.app = ProcessKind::kGo;
  std::vector<RoverProcess> found = DiscoverProcesses(options, rng);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_NE(found[0].pod, found[1].pod);
  EXPECT_EQ(found[0].kind, ProcessKind::kGo);
  EXPECT_EQ(found[0].exe, "reviews");
  ASSERT_EQ(found[0].entities.size(), 1u);
  EXPECT_EQ(found[0].entities[0].layer, "K8S_SERVICE");
}

TEST(DiscoverProcessesTest, LargePodsHoldFurtherApplicationsWithNamesOfTheirOwn) {
  Rng rng(7);
  RoverDiscoveryOptions options;
  options.processes = 7;
  options.pod_processes = 5;
  std::vector<RoverProcess> found = DiscoverProcesses(options, rng);
  ASSERT_EQ(found.size(), 7u);
  for (int i = 1; i < 5; ++i) EXPECT_EQ(found[i].pod, found[0].pod) << i;
  EXPECT_NE(found[5].pod, found[0].pod);
  EXPECT_EQ(found[6].pod, found[5].pod);
  EXPECT_EQ(found[0].exe, "java");
  EXPECT_EQ(found[1].kind, ProcessKind::kEnvoy);
  EXPECT_EQ(found[2].exe, "java-2");
  EXPECT_EQ(found[4].exe, "java-4");
  EXPECT_EQ(found[4].container, "reviews-4");
  EXPECT_EQ(found[4].entities[0].process, "java-4");  // the process name Rover reports
  EXPECT_EQ(found[5].exe, "java");
  EXPECT_EQ(found[6].kind, ProcessKind::kEnvoy);

  Rng again(7);
  options.mesh = false;
  options.processes = 3;
  options.pod_processes = 3;
  found = DiscoverProcesses(options, again);
  EXPECT_EQ(found[1].exe, "java-1");
  EXPECT_EQ(found[2].exe, "java-2");
  EXPECT_EQ(found[1].pod, found[0].pod);
}

TEST(ProcessPropertiesTest, RoverOrderAndValues) {
  Rng rng(3);
  RoverDiscoveryOptions options;
  std::vector<RoverProcess> found = DiscoverProcesses(options, rng);
  skywalking::v3::EBPFProcessProperties p =
      MakeProcessProperties(found[0], found[0].entities[0], "10.0.0.7");
  ASSERT_TRUE(p.has_k8sprocess());
  EXPECT_EQ(p.k8sprocess().pid(), found[0].pid);
  std::vector<std::string> keys;
  for (const auto& kv : p.k8sprocess().properties()) keys.push_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"host_ip", "container_ip", "container_name", "pod_name",
                                            "pid", "command_line", "support_ebpf_profiling"}));
  EXPECT_EQ(Property(p, "host_ip"), "10.0.0.7");
  EXPECT_EQ(Property(p, "pid"), std::to_string(found[0].pid));
  EXPECT_EQ(Property(p, "pod_name"), found[0].pod);
  EXPECT_EQ(Property(p, "support_ebpf_profiling"), "true");
}

TEST(MatchProcessIdTest, NeedsK8sBranchSamePidAndEntityWithLabelsInAnyOrder) {
  using Meta = skywalking::v3::EBPFProcessEntityMetadata;
  RoverEntity entity{"MESH", "reviews.default", "pod-1", "java", {"b", "a"}};
  skywalking::v3::EBPFProcessDownstream down;
  down.set_processid("pid-1");
  down.mutable_k8sprocess()->set_pid(42);
  *down.mutable_k8sprocess()->mutable_entitymetadata() = EntityToProto(entity);
  EXPECT_EQ(MatchProcessId(42, entity, down), "pid-1");
  EXPECT_EQ(MatchProcessId(43, entity, down), "");

  skywalking::v3::EBPFProcessDownstream reordered = down;
  auto* labels = reordered.mutable_k8sprocess()->mutable_entitymetadata()->mutable_labels();
  labels->SwapElements(0, 1);
  EXPECT_EQ(MatchProcessId(42, entity, reordered), "pid-1");

  for (auto mutate : std::vector<void (*)(Meta*)>{
           [](Meta* e) { e->set_layer("K8S_SERVICE"); },
           [](Meta* e) { e->set_servicename("Reviews.default"); },
           [](Meta* e) { e->set_instancename("pod-2"); },
           [](Meta* e) { e->set_processname("envoy"); }, [](Meta* e) { e->add_labels("c"); },
           [](Meta* e) { e->clear_labels(); }}) {
    skywalking::v3::EBPFProcessDownstream changed = down;
    mutate(changed.mutable_k8sprocess()->mutable_entitymetadata());
    EXPECT_EQ(MatchProcessId(42, entity, changed), "");
  }

  // The host branch never matches a Kubernetes process.
  skywalking::v3::EBPFProcessDownstream host;
  host.set_processid("pid-1");
  host.mutable_hostprocess()->set_pid(42);
  *host.mutable_hostprocess()->mutable_entitymetadata() = EntityToProto(entity);
  EXPECT_EQ(MatchProcessId(42, entity, host), "");
}

TEST(RoverProcessRegistryTest, ReportsThenKeepsAliveThenReportsAllEveryTenthRound) {
  Rng rng(1);
  RoverDiscoveryOptions options;
  options.processes = 2;  // one pod: java + envoy, 2 entities each
  RoverProcessRegistry registry(DiscoverProcesses(options, rng), "agent-1", "10.0.0.1");
  ASSERT_EQ(registry.entries().size(), 4u);

  RoverProcessRegistry::Round round = registry.NextRound();
  EXPECT_EQ(round.report.size(), 4u);
  EXPECT_EQ(round.report_list.ebpfagentid(), "agent-1");
  EXPECT_EQ(round.ping_list.processes_size(), 0);
  EXPECT_EQ(registry.ApplyReport(round, EchoAll(round.report_list)), 4);
  EXPECT_EQ(registry.registered(), 4);
  const std::string& id = registry.entries()[0].id;
  ASSERT_NE(registry.Find(id), nullptr);
  EXPECT_EQ(registry.Find("nope"), nullptr);

  for (int r = 2; r <= 9; ++r) {
    round = registry.NextRound();
    EXPECT_TRUE(round.report.empty());
    ASSERT_EQ(round.ping_list.processes_size(), 4);
    EXPECT_EQ(round.ping_list.ebpfagentid(), "agent-1");
    ASSERT_EQ(round.ping_list.processes(0).properties_size(), 1);
    EXPECT_EQ(round.ping_list.processes(0).properties(0).key(), "support_ebpf_profiling");
  }
  round = registry.NextRound();  // the 10th: properties of everything again
  EXPECT_EQ(round.report.size(), 4u);
  EXPECT_EQ(round.ping_list.processes_size(), 0);
}

TEST(RoverProcessRegistryTest, UnmatchedProcessesAreIgnoredForGood) {
  Rng rng(1);
  RoverDiscoveryOptions options;
  options.processes = 1;
  options.mesh = false;
  RoverProcessRegistry registry(DiscoverProcesses(options, rng), "agent-1", "10.0.0.1");
  RoverProcessRegistry::Round round = registry.NextRound();
  skywalking::v3::EBPFReportProcessDownstream reply = EchoAll(round.report_list);
  // A server that normalised the service name: Rover no longer recognises its entity.
  reply.mutable_processes(0)->mutable_k8sprocess()->mutable_entitymetadata()->set_servicename(
      "reviews");
  EXPECT_EQ(registry.ApplyReport(round, reply), 0);
  EXPECT_EQ(registry.entries()[0].status, RoverProcessRegistry::Status::kIgnored);
  for (int r = 0; r < 12; ++r) {
    round = registry.NextRound();
    EXPECT_TRUE(round.report.empty());
    EXPECT_EQ(round.ping_list.processes_size(), 0);
  }
}

TEST(RoverProcessRegistryTest, FailedReportIsRetriedNextRound) {
  Rng rng(1);
  RoverDiscoveryOptions options;
  options.processes = 1;
  RoverProcessRegistry registry(DiscoverProcesses(options, rng), "agent-1", "10.0.0.1");
  RoverProcessRegistry::Round round = registry.NextRound();
  ASSERT_EQ(round.report.size(), 2u);
  // No ApplyReport: the call failed.
  round = registry.NextRound();
  EXPECT_EQ(round.report.size(), 2u);
}

}  // namespace
}  // namespace stackhouse::sim
