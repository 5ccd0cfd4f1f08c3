// The stackhouse binary on storage.selector: postgresql: two nodes over one database (a
// throw-away cluster, tests/storage/pg/test_cluster.h) answer as one, hand out each other's
// tasks (by LISTEN/NOTIFY, or by the periodic cache refresh alone), complete trace (Java and
// Go), eBPF On-CPU, Off-CPU, continuous-profiling and network tasks for simulated agents whose
// calls alternate between them with the results of one node, lose nothing acknowledged when one is
// killed mid-ingest, and bad settings stop the start with one clear message.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "ebpf/profiling/Process.grpc.pb.h"
#include "ebpf/profiling/Profile.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "management/Management.grpc.pb.h"
#include "model/ids.h"
#include "nlohmann/json.hpp"
#include "orders_segment.h"
#include "profile/Profile.grpc.pb.h"
#include "server_process.h"
#include "simulator/go_pprof.h"
#include "simulator/grpc_util.h"
#include "simulator/java_agent_client.h"
#include "simulator/profile_task.h"
#include "simulator/rover_client.h"
#include "simulator/rover_continuous.h"
#include "simulator/rover_meters.h"
#include "simulator/rover_network.h"
#include "simulator/rover_process.h"
#include "simulator/rover_stacks.h"
#include "simulator/rover_task.h"
#include "storage/pg/test_cluster.h"
#include "storage/test_dir.h"

namespace stackhouse::testing {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
namespace v3 = skywalking::v3;

// A channel of its own per call (no subchannel shared with a channel to a killed node).
std::shared_ptr<grpc::Channel> FreshChannel(const ServerProcess& node) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(node.GrpcTarget(), grpc::InsecureChannelCredentials(), args);
}

// Polls `done` every 50 ms for up to a minute (a generous deadline, not a timing claim).
bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

json Data(const std::pair<int, std::string>& response) {
  EXPECT_EQ(response.first, 200) << response.second;
  json parsed = json::parse(response.second, nullptr, false);
  EXPECT_FALSE(parsed.is_discarded() || parsed.contains("errors")) << response.second;
  if (parsed.is_discarded()) return json();
  return parsed["data"];
}

// The roots of the merged trees of an analysis (elements whose parent is not an element of
// their tree): name → count.
std::map<std::string, int64_t> Roots(const json& analysis, const char* name, const char* count) {
  std::map<std::string, int64_t> roots;
  for (const json& tree : analysis["trees"]) {
    std::set<std::string> ids;
    for (const json& e : tree["elements"]) ids.insert(e["id"].get<std::string>());
    for (const json& e : tree["elements"]) {
      if (ids.count(e["parentId"].get<std::string>()) == 0) {
        roots[e[name].get<std::string>()] += e[count].get<int64_t>();
      }
    }
  }
  return roots;
}

// Where a scenario's calls go: the operator creates tasks through `create`, the agents' k-th
// call goes to Agent(k), and the results are read from each of `query`.
struct Deployment {
  const ServerProcess* create;
  std::vector<const ServerProcess*> agents;
  std::vector<const ServerProcess*> query;
  const ServerProcess& Agent(size_t k) const { return *agents[k % agents.size()]; }
};

constexpr char kTraceService[] = "order-svc";
constexpr char kGoService[] = "order-go";

// A simulated Java (or Go) agent of `service`, by default kTraceService: the simulator's client
// (one per call, to the node the call goes to) and its task board, which keeps lastCommandTime
// as the Java agent does. Not thread-safe.
class SimJavaAgent {
 public:
  explicit SimJavaAgent(std::string instance, std::string service = kTraceService)
      : instance_(std::move(instance)), service_(std::move(service)) {}

  // getProfileTaskCommands on `node` with the board's lastCommandTime; the commands are offered
  // to the board. Returns how many commands came.
  int Poll(const ServerProcess& node) {
    skywalking::v3::ProfileTaskCommandQuery query;
    query.set_service(service_);
    query.set_serviceinstance(instance_);
    query.set_lastcommandtime(board_.last_command_time());
    absl::StatusOr<skywalking::v3::Commands> commands = Client(node).GetProfileTaskCommands(query);
    EXPECT_TRUE(commands.ok()) << commands.status();
    if (!commands.ok()) return 0;
    for (const auto& command : commands->commands()) {
      absl::StatusOr<sim::ProfileTaskSpec> spec = sim::ParseProfileTaskCommand(command);
      EXPECT_TRUE(spec.ok()) << spec.status();
      if (!spec.ok()) continue;
      std::string reason;
      EXPECT_EQ(board_.Offer(*spec, &reason), sim::TaskBoard::Outcome::kAccepted) << reason;
      tasks_.push_back(*spec);
    }
    return commands->commands_size();
  }

  // Every task received, in order.
  const std::vector<sim::ProfileTaskSpec>& tasks() const { return tasks_; }

  // One collectSnapshot stream to `node`: `stacks` (outermost frame first) as the dumps of
  // `segment` from `first_sequence`, 10 ms apart from `first_time`. `before_dump(i)` runs
  // before the i-th dump is written (a test hook; may block).
  absl::Status Snapshots(const ServerProcess& node, const std::string& task_id,
                         const std::string& segment, int first_sequence,
                         const std::vector<std::vector<std::string>>& stacks, int64_t first_time,
                         const std::function<void(int64_t)>& before_dump = nullptr) {
    std::vector<skywalking::v3::ThreadSnapshot> snapshots;
    for (size_t i = 0; i < stacks.size(); ++i) {
      skywalking::v3::ThreadSnapshot& snapshot = snapshots.emplace_back();
      snapshot.set_taskid(task_id);
      snapshot.set_tracesegmentid(segment);
      snapshot.set_sequence(first_sequence + static_cast<int>(i));
      snapshot.set_time(first_time + static_cast<int64_t>(i) * 10);
      for (const std::string& frame : stacks[i]) {
        snapshot.mutable_stack()->add_codesignatures(frame);
      }
    }
    return Client(node).CollectSnapshots(static_cast<int64_t>(snapshots.size()),
                                         [&](int64_t i) -> const skywalking::v3::ThreadSnapshot& {
                                           if (before_dump) before_dump(i);
                                           return snapshots[static_cast<size_t>(i)];
                                         });
  }

  // One goProfileReport stream to `node`, in 64-byte chunks: the Go agent's CPU profile of the
  // task from `start`, one 10 ms sample per (segment, stack outermost frame first).
  absl::Status GoProfile(
      const ServerProcess& node, const std::string& task_id,
      const std::vector<std::pair<std::string, std::vector<std::string>>>& samples, int64_t start) {
    std::vector<skywalking::v3::ThreadSnapshot> dumps;
    for (const auto& [segment, stack] : samples) {
      skywalking::v3::ThreadSnapshot& dump = dumps.emplace_back();
      dump.set_tracesegmentid(segment);
      for (const std::string& frame : stack) dump.mutable_stack()->add_codesignatures(frame);
    }
    return Client(node).GoProfileReport(task_id, sim::BuildGoCpuProfile(dumps, 10, start), 64);
  }

  // The segment of a 200 ms GET:/orders from `start` calling MySQL.
  absl::Status Segment(const ServerProcess& node, const std::string& trace_id,
                       const std::string& segment_id, int64_t start) {
    return Client(node).CollectSegments(
        {OrdersSegment(service_, instance_, trace_id, segment_id, start)});
  }

  absl::Status Finish(const ServerProcess& node, const std::string& task_id) {
    skywalking::v3::ProfileTaskFinishReport report;
    report.set_service(service_);
    report.set_serviceinstance(instance_);
    report.set_taskid(task_id);
    return Client(node).ReportTaskFinish(report);
  }

  static sim::JavaAgentClient Client(const ServerProcess& node) {
    return sim::JavaAgentClient(sim::MakeAgentChannel(node.GrpcTarget()), "", 10000);
  }

 private:
  const std::string instance_;
  const std::string service_;
  sim::TaskBoard board_;
  std::vector<sim::ProfileTaskSpec> tasks_;
};

// A simulated Rover with one java process of `<name>.default` (label k8s-service), by
// default inventory.default: the simulator's process registry, client (one per call), task
// board and continuous-profiling policy book. Not thread-safe.
class SimRover {
 public:
  static constexpr char kService[] = "inventory.default";
  static constexpr char kLabel[] = "k8s-service";

  explicit SimRover(const std::string& name = "inventory", std::string agent = "rover-sim")
      : registry_(Discover(name), std::move(agent), "10.0.0.7") {}
  SimRover(const SimRover&) = delete;  // the checker refers to this
  SimRover& operator=(const SimRover&) = delete;

  // reportProcesses to `node`.
  void Register(const ServerProcess& node) {
    sim::RoverProcessRegistry::Round round = registry_.NextRound();
    absl::StatusOr<skywalking::v3::EBPFReportProcessDownstream> reply =
        Client(node).ReportProcesses(round.report_list);
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_EQ(registry_.ApplyReport(round, *reply), 1);
  }

  const std::string& process_id() const { return registry_.entries()[0].id; }

  // The registered process's entity (service, instance, process name, layer).
  const sim::RoverEntity& entity() const {
    const sim::RoverProcessRegistry::Entry& entry = registry_.entries()[0];
    return registry_.processes()[entry.process].entities[entry.entity];
  }

  // queryTasks on `node` with the board's latestUpdateTime; the commands are offered to the
  // board (each must start a task, or be a NETWORK task, which the board leaves to the
  // caller). Returns how many commands came.
  int Poll(const ServerProcess& node) {
    skywalking::v3::EBPFProfilingTaskQuery query;
    query.set_roverinstanceid(registry_.agent_id());
    query.set_latestupdatetime(board_.latest_update_time());
    absl::StatusOr<skywalking::v3::Commands> commands = Client(node).QueryTasks(query);
    EXPECT_TRUE(commands.ok()) << commands.status();
    if (!commands.ok()) return 0;
    const int64_t now = NowMs();
    for (const auto& command : commands->commands()) {
      sim::RoverTaskBoard::OfferResult offered = board_.Offer(
          command, [&](const std::string& id) { return registry_.Find(id) != nullptr; }, now);
      EXPECT_EQ(offered.outcome, offered.spec.target == sim::EbpfTarget::kNetwork
                                     ? sim::RoverTaskBoard::Outcome::kNetwork
                                     : sim::RoverTaskBoard::Outcome::kStarted)
          << offered.reason;
      tasks_.push_back(offered.spec);
    }
    return commands->commands_size();
  }

  const std::vector<sim::EbpfTaskSpec>& tasks() const { return tasks_; }

  // queryPolicies on `node` for the process's service with the uuid the book holds (or an
  // empty uuid with `forget`: a restarted Rover); the answer is applied to the book. Returns how
  // many commands came.
  int PollPolicies(const ServerProcess& node, bool forget = false) {
    sim::ContinuousPolicyBook empty;
    const sim::ContinuousPolicyBook& book = forget ? empty : book_;
    absl::StatusOr<skywalking::v3::Commands> reply =
        Client(node).QueryPolicies(book.Query({entity().service}));
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) return 0;
    absl::StatusOr<std::vector<std::string>> changed = book_.Apply(*reply);
    EXPECT_TRUE(changed.ok()) << changed.status();
    return reply->commands_size();
  }

  // The policy the book holds for the process's service, or nullptr.
  const sim::ContinuousPolicy* policy() const { return book_.Find(entity().service); }

  // Rover's continuous-profiling check at `now_ms`, the process's CPU at `cpu` percent and its
  // thread count at `threads`; the tasks it triggers are not reported.
  std::vector<sim::ContinuousChecker::Trigger> Check(double cpu, double threads, int64_t now_ms) {
    cpu_ = cpu;
    threads_ = threads;
    const sim::RoverEntity& e = entity();
    return checker_
        .Check({{1, process_id(), e.service, e.instance, e.process, e.layer}}, book_, now_ms)
        .triggers;
  }

  // reportProfilingTask to `node`: the id of the task the server answers with, or "".
  std::string Report(const ServerProcess& node, const sim::ContinuousChecker::Trigger& trigger) {
    absl::StatusOr<skywalking::v3::Commands> reply =
        Client(node).ReportProfilingTask(trigger.report);
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) return "";
    EXPECT_EQ(reply->commands_size(), 1);
    for (const auto& command : reply->commands()) {
      EXPECT_EQ(command.command(), "ContinuousProfilingReportTask");
      for (const auto& kv : command.args()) {
        if (kv.key() == "TaskId") return kv.value();
      }
    }
    return "";
  }

  // One collectProfilingData stream to `node`: `messages`, the first one carrying `task` with
  // its start as the profiling start and `current_time`. `before_message(i)` runs before the
  // i-th message is written (a test hook; may block).
  absl::Status Upload(const ServerProcess& node, const sim::EbpfTaskSpec& task,
                      int64_t current_time, std::vector<skywalking::v3::EBPFProfilingData> messages,
                      const std::function<void(int64_t)>& before_message = nullptr) {
    if (!messages.empty()) {
      auto* metadata = messages[0].mutable_task();
      metadata->set_taskid(task.task_id);
      metadata->set_processid(process_id());
      metadata->set_profilingstarttime(task.start_time_ms);
      metadata->set_currenttime(current_time);
    }
    return Client(node).CollectProfilingData(
        static_cast<int64_t>(messages.size()),
        [&](int64_t i) -> const skywalking::v3::EBPFProfilingData& {
          if (before_message) before_message(i);
          return messages[static_cast<size_t>(i)];
        });
  }

  static int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

 private:
  static std::vector<sim::RoverProcess> Discover(const std::string& name) {
    sim::RoverDiscoveryOptions options;
    options.service = name;
    options.processes = 1;
    options.mesh = false;
    sim::Rng rng(16);
    return sim::DiscoverProcesses(options, rng);
  }
  static sim::RoverClient Client(const ServerProcess& node) {
    return sim::RoverClient(sim::MakeAgentChannel(node.GrpcTarget()), "", 10000);
  }

  sim::RoverProcessRegistry registry_;
  sim::RoverTaskBoard board_;
  std::vector<sim::EbpfTaskSpec> tasks_;
  sim::ContinuousPolicyBook book_;
  double cpu_ = 0;
  double threads_ = 0;
  // Rover's checker over the values set by Check.
  sim::ContinuousChecker checker_{
      {}, [this](const sim::ContinuousProcess&, sim::MonitorType type, absl::string_view, int64_t) {
        return type == sim::MonitorType::kProcessCpu ? cpu_ : threads_;
      }};
};

constexpr char kTraceAnalysis[] =
    "query($q: [SegmentProfileAnalyzeQuery!]!) { a: getSegmentsProfileAnalyze(queries: $q) "
    "{ tip trees { elements { id parentId codeSignature duration durationChildExcluded count } "
    "} } }";

constexpr char kEbpfAnalysis[] =
    "query($ids: [ID!]!, $r: [EBPFProfilingAnalyzeTimeRange!]!, "
    "$g: EBPFProfilingAnalyzeAggregateType) { a: "
    "analysisEBPFProfilingResult(scheduleIdList: $ids, timeRanges: $r, aggregateType: $g) "
    "{ tip trees { elements { id parentId symbol stackType dumpCount } } } }";

// The merged tree of `segment`'s dumps from `start` on (a range far wider than the dumps).
json TraceTree(const ServerProcess& node, const std::string& segment, int64_t start) {
  return Data(node.GraphQL(kTraceAnalysis,
                           json{{"q",
                                 {{{"segmentId", segment},
                                   {"timeRange", {{"start", start}, {"end", start + 3600000}}}}}}}
                               .dump()))["a"];
}

// The merged tree of `node`'s schedules `ids` from `start` on, counted by `aggregate` (COUNT or
// DURATION).
json EbpfTree(const ServerProcess& node, const json& ids, int64_t start, const char* aggregate) {
  return Data(node.GraphQL(
      kEbpfAnalysis,
      json{{"ids", ids}, {"r", {{{"start", start}, {"end", start + 3600000}}}}, {"g", aggregate}}
          .dump()))["a"];
}

// A Long of the GraphQL answer (a number, or a string of digits).
int64_t Long(const json& value) {
  return value.is_string() ? std::stoll(value.get<std::string>()) : value.get<int64_t>();
}

// The schedules of eBPF task `task_id` as `node` lists them, with times relative to `start`
// (each schedule's id is checked and left out), and the tree of all of them from `start` on by
// COUNT (and, for OFF_CPU, by DURATION as "duration").
json EbpfSchedules(const ServerProcess& node, const std::string& task_id, int64_t start,
                   const std::string& target) {
  json out;
  json schedules = Data(node.GraphQL(
      "query($t: ID!) { s: queryEBPFProfilingSchedules(taskId: $t) { scheduleId startTime "
      "endTime process { name labels } } }",
      json{{"t", task_id}}.dump()))["s"];
  json ids = json::array();
  for (json& schedule : schedules) {
    ids.push_back(schedule["scheduleId"]);
    schedule.erase("scheduleId");
    schedule["startTime"] = Long(schedule["startTime"]) - start;
    schedule["endTime"] = Long(schedule["endTime"]) - start;
  }
  out["schedules"] = schedules;
  out["analysis"] = EbpfTree(node, ids, start, "COUNT");
  if (target == "OFF_CPU") out["duration"] = EbpfTree(node, ids, start, "DURATION");
  return out;
}

// The `target` (ON_CPU or OFF_CPU) fixed-time tasks of `service` as `node` lists them (each
// task's id is checked to be `task_id` and left out), and EbpfSchedules of `task_id`.
json EbpfResult(const ServerProcess& node, const std::string& task_id, int64_t start,
                const std::string& service = SimRover::kService,
                const std::string& target = "ON_CPU") {
  json tasks = Data(node.GraphQL(
      absl::StrCat("query($s: ID) { t: queryEBPFProfilingTasks(serviceId: $s, targets: [", target,
                   "]) { taskId serviceName processLabels targetType triggerType "
                   "fixedTriggerDuration } }"),
      json{{"s", model::ServiceId(service)}}.dump()))["t"];
  for (json& task : tasks) {
    EXPECT_EQ(task["taskId"], task_id);
    task.erase("taskId");
  }
  json out = EbpfSchedules(node, task_id, start, target);
  out["tasks"] = tasks;
  return out;
}

class PostgresqlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conninfo = storage::pg::testing::ClusterEnvironment::NewDatabase();
    ASSERT_TRUE(conninfo.ok()) << conninfo.status();
    // "host=… port=… user=… dbname=… connect_timeout=…" → the server's settings.
    std::map<std::string, std::string> parts;
    for (absl::string_view part : absl::StrSplit(*conninfo, ' ')) {
      std::pair<std::string, std::string> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
      parts[kv.first] = kv.second;
    }
    env_ = {{"SW_STORAGE", "postgresql"},
            {"SW_STORAGE_POSTGRESQL_HOST", parts["host"]},
            {"SW_STORAGE_POSTGRESQL_PORT", parts["port"]},
            {"SW_STORAGE_POSTGRESQL_USER", parts["user"]},
            {"SW_STORAGE_POSTGRESQL_DATABASE", parts["dbname"]},
            {"SW_STORAGE_POSTGRESQL_POOL_SIZE", "4"},
            {"SW_STORAGE_POSTGRESQL_STARTUP_RETRY", "0"}};
    socket_dir_ = parts["host"];
    port_ = parts["port"];
    conninfo_ = *conninfo;
  }

  // Settings of a node whose periodic refresh is far beyond any test: only a notification
  // brings other nodes' changes in time.
  static std::map<std::string, std::string> NotifyOnly() {
    return {{"SW_STORAGE_POSTGRESQL_CACHE_REFRESH_SECONDS", "86400"}};
  }

  std::unique_ptr<ServerProcess> MakeNode(const std::string& name,
                                          std::map<std::string, std::string> overrides = {}) {
    std::map<std::string, std::string> env = env_;
    for (auto& [k, v] : overrides) env[k] = v;
    return std::make_unique<ServerProcess>(dir_.path() + "/" + name, std::move(env));
  }

  static grpc::Status ReportProperties(const ServerProcess& node, const std::string& service,
                                       const std::string& instance) {
    auto stub = skywalking::v3::ManagementService::NewStub(
        grpc::CreateChannel(node.GrpcTarget(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    skywalking::v3::InstanceProperties request;
    request.set_service(service);
    request.set_serviceinstance(instance);
    auto* kv = request.add_properties();
    kv->set_key("language");
    kv->set_value("java");
    skywalking::v3::Commands response;
    return stub->reportInstanceProperties(&context, request, &response);
  }

  // The names of the services `node` lists.
  static std::vector<std::string> Services(const ServerProcess& node) {
    auto [status, body] = node.GraphQL("{ listServices(layer: \"\") { name } }");
    EXPECT_EQ(status, 200) << body;
    std::vector<std::string> names;
    json parsed = json::parse(body, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded() || parsed.contains("errors")) << body;
    if (parsed.is_discarded() || !parsed["data"]["listServices"].is_array()) return names;
    for (const json& service : parsed["data"]["listServices"]) names.push_back(service["name"]);
    return names;
  }

  // The commands a Java agent of order-svc/`instance` polling `node` gets: (TaskId, CreateTime).
  static std::vector<std::pair<std::string, int64_t>> PollTraceTasks(const ServerProcess& node,
                                                                     const std::string& instance,
                                                                     int64_t last_command_time) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v3::ProfileTaskCommandQuery query;
    query.set_service("order-svc");
    query.set_serviceinstance(instance);
    query.set_lastcommandtime(last_command_time);
    v3::Commands commands;
    grpc::Status status = v3::ProfileTask::NewStub(FreshChannel(node))
                              ->getProfileTaskCommands(&context, query, &commands);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::pair<std::string, int64_t>> tasks;
    for (const auto& command : commands.commands()) {
      std::map<std::string, std::string> args;
      for (const auto& kv : command.args()) args[kv.key()] = kv.value();
      tasks.emplace_back(args["TaskId"], std::stoll(args["CreateTime"]));
    }
    return tasks;
  }

  // Creates a trace-profiling task of `service` through `node`'s /graphql; returns its id.
  static std::string CreateTraceTask(const ServerProcess& node,
                                     const std::string& service = kTraceService) {
    auto [status, body] = node.GraphQL(
        "mutation($r: ProfileTaskCreationRequest) { task: createProfileTask(creationRequest: $r) "
        "{ id errorReason } }",
        json{{"r",
              {{"serviceId", model::ServiceId(service)},
               {"endpointName", "GET:/orders"},
               {"startTime", 0},
               {"duration", 5},
               {"minDurationThreshold", 0},
               {"dumpPeriod", 10},
               {"maxSamplingCount", 5}}}}
            .dump());
    EXPECT_EQ(status, 200) << body;
    json parsed = json::parse(body, nullptr, false);
    EXPECT_TRUE(!parsed.is_discarded() && parsed["data"]["task"]["id"].is_string()) << body;
    if (parsed.is_discarded() || !parsed["data"]["task"]["id"].is_string()) return "";
    return parsed["data"]["task"]["id"];
  }

  // Rover `kRover` registers order-svc's java process (label "mesh") with `node`.
  static void ReportRoverProcess(const ServerProcess& node) {
    v3::EBPFProcessReportList report;
    report.set_ebpfagentid(kRover);
    auto* k8s = report.add_processes()->mutable_k8sprocess();
    k8s->mutable_entity()->set_layer("K8S_SERVICE");
    k8s->mutable_entity()->set_servicename("order-svc");
    k8s->mutable_entity()->set_instancename("pod-1");
    k8s->mutable_entity()->set_processname("java");
    k8s->mutable_entity()->add_labels("mesh");
    k8s->set_pid(42);
    auto* support = k8s->add_properties();
    support->set_key("support_ebpf_profiling");
    support->set_value("true");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v3::EBPFReportProcessDownstream downstream;
    grpc::Status status = v3::EBPFProcessService::NewStub(FreshChannel(node))
                              ->reportProcesses(&context, report, &downstream);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // Creates a fixed-time `target` task (ON_CPU by default) of 60 s for `service`'s processes
  // labelled `label` through `node`; its id, or empty when refused (e.g. the node does not know
  // the processes yet).
  static std::string CreateEbpfTask(const ServerProcess& node,
                                    const std::string& service = "order-svc",
                                    const std::string& label = "mesh",
                                    const std::string& target = "ON_CPU") {
    auto [status, body] = node.GraphQL(
        "mutation($r: EBPFProfilingTaskFixedTimeCreationRequest!) { "
        "t: createEBPFProfilingFixedTimeTask(request: $r) { status errorReason id } }",
        json{{"r",
              {{"serviceId", model::ServiceId(service)},
               {"processLabels", {label}},
               {"startTime", 0},
               {"duration", 60},
               {"targetType", target}}}}
            .dump());
    EXPECT_EQ(status, 200) << body;
    json parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded() || !parsed["data"]["t"]["status"].is_boolean() ||
        !parsed["data"]["t"]["status"].get<bool>()) {
      return "";
    }
    return parsed["data"]["t"]["id"];
  }

  // The TaskIds of the commands Rover `kRover` gets from `node`.
  static std::vector<std::string> PollEbpfTasks(const ServerProcess& node) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v3::EBPFProfilingTaskQuery query;
    query.set_roverinstanceid(kRover);
    v3::Commands commands;
    grpc::Status status = v3::EBPFProfilingService::NewStub(FreshChannel(node))
                              ->queryTasks(&context, query, &commands);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> ids;
    for (const auto& command : commands.commands()) {
      for (const auto& kv : command.args()) {
        if (kv.key() == "TaskId") ids.push_back(kv.value());
      }
    }
    return ids;
  }

  static bool Has(const std::vector<std::pair<std::string, int64_t>>& tasks,
                  const std::string& id) {
    return std::any_of(tasks.begin(), tasks.end(), [&](const auto& t) { return t.first == id; });
  }

  // Trace profiling through `d`: the task created through d.create; pod-1 polls Agent(0)
  // until it gets the task, then Agent(1) and Agent(0) again (nothing more: once per
  // instance); pod-2 polls Agent(1) then Agent(0). Their segments and thread dumps go to
  // both; pod-1 reports the task finished. Returns, per query node, what the operator reads:
  // the task and its logs, the profiled segments and both segments' trees (times relative to
  // the task's start, ids and times of the server's making left out).
  static std::vector<json> TraceScenario(const Deployment& d) {
    std::vector<json> results;
    const std::string id = CreateTraceTask(*d.create);
    EXPECT_FALSE(id.empty());
    if (id.empty()) return results;
    SimJavaAgent pod1("pod-1");
    SimJavaAgent pod2("pod-2");
    EXPECT_TRUE(Eventually([&] { return pod1.Poll(d.Agent(0)) > 0; }));
    EXPECT_EQ(pod1.Poll(d.Agent(1)), 0);
    EXPECT_EQ(pod1.Poll(d.Agent(0)), 0);
    EXPECT_TRUE(Eventually([&] { return pod2.Poll(d.Agent(1)) > 0; }));
    EXPECT_EQ(pod2.Poll(d.Agent(0)), 0);
    EXPECT_EQ(pod1.tasks().size(), 1u);
    EXPECT_EQ(pod2.tasks().size(), 1u);
    if (pod1.tasks().size() != 1 || pod2.tasks().size() != 1) return results;
    EXPECT_EQ(pod1.tasks()[0].task_id, id);
    EXPECT_EQ(pod2.tasks()[0].task_id, id);
    const int64_t start = pod1.tasks()[0].start_time_ms;

    const std::vector<std::string> abc = {"Thread.run", "Controller.get", "Repo.find"};
    const std::vector<std::string> ab = {"Thread.run", "Controller.get"};
    EXPECT_TRUE(pod1.Snapshots(d.Agent(0), id, "seg-1", 0, {abc, abc, ab}, start + 20).ok());
    EXPECT_TRUE(pod1.Snapshots(d.Agent(1), id, "seg-1", 3, {abc, abc}, start + 50).ok());
    EXPECT_TRUE(pod1.Segment(d.Agent(1), "trace-1", "seg-1", start + 10).ok());
    EXPECT_TRUE(pod2.Snapshots(d.Agent(1), id, "seg-2", 0, {ab}, start + 5).ok());
    EXPECT_TRUE(pod2.Segment(d.Agent(0), "trace-2", "seg-2", start + 5).ok());
    EXPECT_TRUE(pod1.Finish(d.Agent(0), id).ok());

    for (const ServerProcess* node : d.query) {
      json result;
      json tasks = Data(node->GraphQL(
          "query($s: ID) { t: getProfileTaskList(serviceId: $s, endpointName: \"\") { id "
          "serviceName endpointName duration minDurationThreshold dumpPeriod maxSamplingCount "
          "logs { instanceName operationType } } }",
          json{{"s", model::ServiceId(kTraceService)}}.dump()))["t"];
      for (json& task : tasks) {
        EXPECT_EQ(task["id"], id);
        task.erase("id");
        std::multiset<std::string> logs;
        for (const json& log : task["logs"]) {
          logs.insert(log["instanceName"].get<std::string>() + ":" +
                      log["operationType"].get<std::string>());
        }
        task["logs"] = logs;
      }
      result["tasks"] = tasks;
      std::multiset<std::string> logs;
      const json listed = Data(node->GraphQL(
          "query($t: String) { l: getProfileTaskLogs(taskID: $t) { instanceName operationType } }",
          json{{"t", id}}.dump()))["l"];
      for (const json& log : listed) {
        logs.insert(log["instanceName"].get<std::string>() + ":" +
                    log["operationType"].get<std::string>());
      }
      result["logs"] = logs;
      json segments = Data(node->GraphQL(
          "query($t: ID!) { s: getProfileTaskSegments(taskID: $t) { traceId instanceName "
          "endpointNames duration start spans { spanId parentSpanId segmentId startTime endTime "
          "endpointName type layer component peer isError profiled } } }",
          json{{"t", id}}.dump()))["s"];
      for (json& segment : segments) {
        segment["start"] = std::stoll(segment["start"].get<std::string>()) - start;
        for (json& span : segment["spans"]) {
          span["startTime"] = span["startTime"].get<int64_t>() - start;
          span["endTime"] = span["endTime"].get<int64_t>() - start;
        }
      }
      result["segments"] = segments;
      result["seg-1"] = TraceTree(*node, "seg-1", start);
      result["seg-2"] = TraceTree(*node, "seg-2", start);
      results.push_back(result);
    }
    return results;
  }

  // Trace profiling of Go agents through `d`: the task of kGoService created through d.create;
  // pod-go-1 polls Agent(0) until it gets the task, then Agent(1) (nothing more: once per
  // instance); pod-go-2 polls Agent(1). Each sends its segment to one node and its CPU profile
  // to the other: pod-go-1's of seg-go-1 (5 samples, and 2 of a segment never reported) to
  // Agent(0), pod-go-2's of seg-go-2 (2 samples) to Agent(1). Returns, per query node, the task
  // logs, the profiled segments (times relative to the task's start) and both segments' trees.
  static std::vector<json> GoScenario(const Deployment& d) {
    std::vector<json> results;
    const std::string id = CreateTraceTask(*d.create, kGoService);
    EXPECT_FALSE(id.empty());
    if (id.empty()) return results;
    SimJavaAgent pod1("pod-go-1", kGoService);
    SimJavaAgent pod2("pod-go-2", kGoService);
    EXPECT_TRUE(Eventually([&] { return pod1.Poll(d.Agent(0)) > 0; }));
    EXPECT_EQ(pod1.Poll(d.Agent(1)), 0);
    EXPECT_TRUE(Eventually([&] { return pod2.Poll(d.Agent(1)) > 0; }));
    if (pod1.tasks().size() != 1 || pod2.tasks().size() != 1) {
      ADD_FAILURE() << "the Go agents got " << pod1.tasks().size() << " and " << pod2.tasks().size()
                    << " tasks";
      return results;
    }
    const int64_t start = pod1.tasks()[0].start_time_ms;
    const std::vector<std::string> abc = {"main.main:10", "main.handle:20", "main.hash:30"};
    const std::vector<std::string> ab = {"main.main:10", "main.handle:20"};
    EXPECT_TRUE(pod1.Segment(d.Agent(1), "trace-go-1", "seg-go-1", start + 10).ok());
    EXPECT_TRUE(pod2.Segment(d.Agent(0), "trace-go-2", "seg-go-2", start + 20).ok());
    EXPECT_TRUE(pod1.GoProfile(d.Agent(0), id,
                               {{"seg-go-1", abc},
                                {"seg-go-1", abc},
                                {"seg-go-1", ab},
                                {"seg-go-1", abc},
                                {"seg-go-1", abc},
                                {"seg-go-x", ab},
                                {"seg-go-x", abc}},
                               start)
                    .ok());
    EXPECT_TRUE(pod2.GoProfile(d.Agent(1), id, {{"seg-go-2", ab}, {"seg-go-2", abc}}, start).ok());
    for (const ServerProcess* node : d.query) {
      json result;
      std::multiset<std::string> logs;
      const json listed = Data(node->GraphQL(
          "query($t: String) { l: getProfileTaskLogs(taskID: $t) { instanceName operationType } }",
          json{{"t", id}}.dump()))["l"];
      for (const json& log : listed) {
        logs.insert(log["instanceName"].get<std::string>() + ":" +
                    log["operationType"].get<std::string>());
      }
      result["logs"] = logs;
      json segments = Data(node->GraphQL(
          "query($t: ID!) { s: getProfileTaskSegments(taskID: $t) { traceId instanceName "
          "start spans { segmentId profiled } } }",
          json{{"t", id}}.dump()))["s"];
      for (json& segment : segments) {
        segment["start"] = std::stoll(segment["start"].get<std::string>()) - start;
      }
      std::sort(segments.begin(), segments.end(),
                [](const json& x, const json& y) { return x["traceId"] < y["traceId"]; });
      result["segments"] = segments;
      result["seg-go-1"] = TraceTree(*node, "seg-go-1", start);
      result["seg-go-2"] = TraceTree(*node, "seg-go-2", start);
      results.push_back(result);
    }
    return results;
  }

  // eBPF fixed-time profiling of `target` (ON_CPU or OFF_CPU) through `d`: a SimRover (of
  // inventory.default for ON_CPU, of payments.default with an agent id of its own for OFF_CPU)
  // registers with Agent(0), the task is created through d.create, Rover polls Agent(0) until
  // it gets it, then Agent(1) and Agent(0) again (nothing more), and uploads four times, to
  // Agent(0), Agent(1), ..., stacks of the simulator's Java model for the target (OFF_CPU: with
  // switch counts and durations). The last upload arrives late: its current time is before the
  // third's (a slow stream through one node overtaken by the next through the other). Returns,
  // per query node, EbpfResult; `*counts` is the number of samples (ON_CPU) or switches
  // (OFF_CPU) uploaded, `*duration_ns` (OFF_CPU) their time off CPU.
  static std::vector<json> EbpfScenario(const Deployment& d, int64_t* counts,
                                        const std::string& target = "ON_CPU",
                                        int64_t* duration_ns = nullptr) {
    std::vector<json> results;
    const bool on_cpu = target == "ON_CPU";
    SimRover rover(on_cpu ? "inventory" : "payments", on_cpu ? "rover-sim" : "rover-off-cpu");
    const std::string service = rover.entity().service;
    rover.Register(d.Agent(0));
    std::string id;
    EXPECT_TRUE(Eventually([&] {
      id = CreateEbpfTask(*d.create, service, SimRover::kLabel, target);
      return !id.empty();
    }));
    if (id.empty()) return results;
    EXPECT_TRUE(Eventually([&] { return rover.Poll(d.Agent(0)) > 0; }));
    EXPECT_EQ(rover.Poll(d.Agent(1)), 0);
    EXPECT_EQ(rover.Poll(d.Agent(0)), 0);
    EXPECT_EQ(rover.tasks().size(), 1u);
    if (rover.tasks().size() != 1) return results;
    const sim::EbpfTaskSpec& task = rover.tasks()[0];
    EXPECT_EQ(task.task_id, id);
    EXPECT_EQ(task.target, on_cpu ? sim::EbpfTarget::kOnCpu : sim::EbpfTarget::kOffCpu);
    EXPECT_EQ(task.duration_s, 60);
    EXPECT_EQ(task.process_ids, std::vector<std::string>{rover.process_id()});

    const sim::StackModel model(sim::ProcessKind::kJava, task.target, 24, 7);
    *counts = 0;
    if (duration_ns != nullptr) *duration_ns = 0;
    const int64_t current_times[] = {5000, 10000, 20000, 15000};
    for (int upload = 0; upload < 4; ++upload) {
      std::vector<skywalking::v3::EBPFProfilingData> messages;
      for (int i = upload * 4; i < upload * 4 + 12; ++i) {
        const int32_t count = 1 + i % 3;
        const int64_t duration = on_cpu ? 0 : count * (i + 1) * int64_t{100'000};
        messages.push_back(model.Message(static_cast<size_t>(i), count, duration));
        *counts += count;
        if (duration_ns != nullptr) *duration_ns += duration;
      }
      EXPECT_TRUE(rover
                      .Upload(d.Agent(static_cast<size_t>(upload)), task,
                              task.start_time_ms + current_times[upload], std::move(messages))
                      .ok());
    }
    for (const ServerProcess* node : d.query) {
      results.push_back(EbpfResult(*node, id, task.start_time_ms, service, target));
    }
    return results;
  }

  // Continuous profiling through `d`: a SimRover of checkout.default (an agent id of its own)
  // registers with Agent(0); the operator sets the service's policy through d.create (ON_CPU
  // when the process's CPU is at or over 80 % for 3 s of 10, OFF_CPU when it has 500 threads or
  // more for 3 s of 10); Rover polls Agent(0) until it gets the policy, then Agent(1) with its
  // uuid (nothing new) and without (the same uuid again). Its checker, the CPU at 95 % and 40
  // threads, triggers an ON_CPU task after three seconds, which Rover reports through Agent(1)
  // and profiles for 10 s, uploading to Agent(0) then Agent(1). Returns, per query node, what
  // the operator reads: the continuous tasks with their causes, the policy's targets with their
  // trigger counts, the monitored instances and the task's EbpfSchedules (times relative to
  // Rover's start of the task; the task's start, checked to be when it was reported, relative
  // to the first query node's); `*samples` is the number of samples uploaded.
  static std::vector<json> ContinuousScenario(const Deployment& d, int64_t* samples) {
    std::vector<json> results;
    *samples = 0;
    SimRover rover("checkout", "rover-continuous");
    const std::string service = rover.entity().service;
    const std::string service_id = model::ServiceId(service);
    rover.Register(d.Agent(0));
    auto item = [](const char* type, const char* threshold) {
      return json{{"type", type}, {"threshold", threshold}, {"period", 10},
                  {"count", 3},   {"uriList", nullptr},     {"uriRegex", nullptr}};
    };
    const json set = Data(d.create->GraphQL(
        "mutation($r: ContinuousProfilingPolicyCreation!) { "
        "p: setContinuousProfilingPolicy(request: $r) { status errorReason } }",
        json{{"r",
              {{"serviceId", service_id},
               {"targets",
                {{{"targetType", "ON_CPU"}, {"checkItems", {item("PROCESS_CPU", "80")}}},
                 {{"targetType", "OFF_CPU"},
                  {"checkItems", {item("PROCESS_THREAD_COUNT", "500")}}}}}}}}
            .dump()))["p"];
    EXPECT_EQ(set["status"], true) << set;

    // The policy as Rover parses it, with the same uuid through either node.
    EXPECT_TRUE(Eventually([&] { return rover.PollPolicies(d.Agent(0)) > 0; }));
    if (rover.policy() == nullptr) {
      ADD_FAILURE() << "no policy";
      return results;
    }
    const std::string uuid = rover.policy()->uuid;
    EXPECT_FALSE(uuid.empty());
    const std::vector<sim::ContinuousTarget>& targets = rover.policy()->targets;
    EXPECT_EQ(targets.size(), 2u);
    if (targets.size() == 2 && targets[0].items.size() == 1 && targets[1].items.size() == 1) {
      EXPECT_EQ(targets[0].target, sim::EbpfTarget::kOnCpu);
      EXPECT_EQ(targets[0].items[0].type, sim::MonitorType::kProcessCpu);
      EXPECT_EQ(targets[0].items[0].threshold, 80);
      EXPECT_EQ(targets[1].target, sim::EbpfTarget::kOffCpu);
      EXPECT_EQ(targets[1].items[0].type, sim::MonitorType::kThreadCount);
      EXPECT_EQ(targets[1].items[0].threshold, 500);
      EXPECT_EQ(targets[1].items[0].period_s, 10);
      EXPECT_EQ(targets[1].items[0].count, 3);
    } else {
      ADD_FAILURE() << "unexpected policy targets";
    }
    EXPECT_EQ(rover.PollPolicies(d.Agent(1)), 0);
    EXPECT_EQ(rover.PollPolicies(d.Agent(1), /*forget=*/true), 1);
    EXPECT_TRUE(rover.policy() != nullptr && rover.policy()->uuid == uuid);
    EXPECT_EQ(rover.PollPolicies(d.Agent(0)), 0);

    // Three checks a second apart: the third triggers ON_CPU (and OFF_CPU never).
    const int64_t now = SimRover::NowMs();
    EXPECT_TRUE(rover.Check(95, 40, now - 2000).empty());
    EXPECT_TRUE(rover.Check(95, 40, now - 1000).empty());
    const std::vector<sim::ContinuousChecker::Trigger> triggers = rover.Check(95, 40, now);
    EXPECT_EQ(triggers.size(), 1u);
    if (triggers.size() != 1) return results;
    EXPECT_EQ(triggers[0].target, sim::EbpfTarget::kOnCpu);
    EXPECT_EQ(triggers[0].process_id, rover.process_id());
    const int64_t before_report = SimRover::NowMs();
    const std::string id = rover.Report(d.Agent(1), triggers[0]);
    const int64_t after_report = SimRover::NowMs();
    EXPECT_FALSE(id.empty());
    if (id.empty()) return results;
    // A triggered task is never handed out by queryTasks.
    EXPECT_EQ(rover.Poll(d.Agent(0)), 0);
    EXPECT_EQ(rover.Poll(d.Agent(1)), 0);

    // Rover profiles the process from `now`: two uploads of 5 s each, through either node.
    sim::EbpfTaskSpec task;
    task.task_id = id;
    task.process_ids = {rover.process_id()};
    task.start_time_ms = now;
    const sim::StackModel model(sim::ProcessKind::kJava, sim::EbpfTarget::kOnCpu, 8, 3);
    for (int upload = 0; upload < 2; ++upload) {
      std::vector<skywalking::v3::EBPFProfilingData> messages;
      for (int i = 0; i < 8; ++i) {
        messages.push_back(model.Message(static_cast<size_t>(i), 1 + upload + i % 2, 0));
        *samples += 1 + upload + i % 2;
      }
      EXPECT_TRUE(rover
                      .Upload(d.Agent(static_cast<size_t>(upload)), task, now + 5000 * (upload + 1),
                              std::move(messages))
                      .ok());
    }

    int64_t first_start = -1;
    for (const ServerProcess* node : d.query) {
      json result;
      json tasks;
      // Eventually: the task list of a node that did not store the task.
      EXPECT_TRUE(Eventually([&] {
        tasks = Data(node->GraphQL(
            "query($s: ID) { t: queryEBPFProfilingTasks(serviceId: $s, targets: [], "
            "triggerType: CONTINUOUS_PROFILING) { taskId serviceName processId processName "
            "serviceInstanceName taskStartTime triggerType targetType fixedTriggerDuration "
            "continuousProfilingCauses { type singleValue { threshold current } message } } }",
            json{{"s", service_id}}.dump()))["t"];
        return tasks.size() == 1;
      }));
      int64_t start = -1;
      for (json& t : tasks) {
        EXPECT_EQ(t["taskId"], id);
        EXPECT_EQ(t["processId"], rover.process_id());
        EXPECT_EQ(t["serviceInstanceName"], rover.entity().instance);
        t.erase("taskId");
        start = Long(t["taskStartTime"]);
        EXPECT_GE(start, before_report);
        EXPECT_LE(start, after_report);
        if (first_start < 0) first_start = start;
        t["taskStartTime"] = start - first_start;
      }
      result["tasks"] = tasks;
      json watched = Data(node->GraphQL(
          "query($s: ID!) { t: queryContinuousProfilingServiceTargets(serviceId: $s) { type "
          "checkItems { type threshold period count uriList uriRegex } triggeredCount "
          "lastTriggerTimestamp } m: queryContinuousProfilingMonitoringInstances(serviceId: $s, "
          "target: ON_CPU) { name triggeredCount lastTriggerTimestamp processes { name "
          "triggeredCount } } }",
          json{{"s", service_id}}.dump()));
      for (json& t : watched["t"]) {
        if (!t["lastTriggerTimestamp"].is_null()) {
          t["lastTriggerTimestamp"] = Long(t["lastTriggerTimestamp"]) - start;
        }
      }
      for (json& m : watched["m"]) {
        if (!m["lastTriggerTimestamp"].is_null()) {
          m["lastTriggerTimestamp"] = Long(m["lastTriggerTimestamp"]) - start;
        }
      }
      result["targets"] = watched["t"];
      result["instances"] = watched["m"];
      result["profile"] = EbpfSchedules(*node, id, now, "ON_CPU");
      results.push_back(result);
    }
    return results;
  }

  // Network profiling through `d`: a SimRover of frontend.default (an agent id of its own)
  // registers with Agent(0); the task for its instance is created through d.create; Rover polls
  // Agent(0) until it gets the task, then Agent(1) and Agent(0) again (nothing more), starts it
  // and sends two rounds of the simulator's network report (meters, sampled requests, segments,
  // attached events), to Agent(0) then Agent(1). Returns, per query node, the NETWORK tasks of
  // the instance (the id checked and left out) and its process topology over the last day.
  static std::vector<json> NetworkScenario(const Deployment& d) {
    std::vector<json> results;
    SimRover rover("frontend", "rover-network");
    const sim::RoverEntity entity = rover.entity();
    const std::string service_id = model::ServiceId(entity.service);
    const std::string instance_id = model::InstanceId(service_id, entity.instance);
    rover.Register(d.Agent(0));
    std::string id;
    EXPECT_TRUE(Eventually([&] {
      auto [status, body] = d.create->GraphQL(
          "mutation($r: EBPFProfilingNetworkTaskRequest!) { "
          "t: createEBPFNetworkProfiling(request: $r) { status errorReason id } }",
          json{{"r", {{"instanceId", instance_id}, {"samplings", json::array()}}}}.dump());
      json parsed = json::parse(body, nullptr, false);
      if (status != 200 || parsed.is_discarded() || parsed["data"]["t"]["status"] != true) {
        return false;
      }
      id = parsed["data"]["t"]["id"];
      return true;
    }));
    if (id.empty()) return results;
    EXPECT_TRUE(Eventually([&] { return rover.Poll(d.Agent(0)) > 0; }));
    EXPECT_EQ(rover.Poll(d.Agent(1)), 0);
    EXPECT_EQ(rover.Poll(d.Agent(0)), 0);
    EXPECT_EQ(rover.tasks().size(), 1u);
    if (rover.tasks().size() != 1) return results;
    const sim::EbpfTaskSpec& task = rover.tasks()[0];
    EXPECT_EQ(task.task_id, id);
    EXPECT_EQ(task.target, sim::EbpfTarget::kNetwork);
    EXPECT_EQ(task.process_ids, std::vector<std::string>{rover.process_id()});
    sim::RoverNetworkProfiler profiler;
    EXPECT_EQ(profiler.Offer(task), "started");
    const int64_t now = SimRover::NowMs();
    EXPECT_TRUE(profiler.Running(now));

    const sim::RoverNetworkModel model(5, 10000);
    const std::vector<sim::MeterProcess> processes = {
        {1, rover.process_id(), entity.service, entity.instance, entity.process, entity.layer}};
    for (int round = 0; round < 2; ++round) {
      const sim::NetworkReport report = model.Report(processes, profiler.NextRound(), now);
      EXPECT_FALSE(report.meters.empty());
      EXPECT_FALSE(report.logs.empty());
      const ServerProcess& node = d.Agent(static_cast<size_t>(round));
      absl::Status sent =
          sim::RoverNetworkClient(sim::MakeAgentChannel(node.GrpcTarget()), "", 10000).Send(report);
      EXPECT_TRUE(sent.ok()) << sent;
    }

    auto minute = [](int64_t ms) {
      return absl::FormatTime("%Y-%m-%d %H%M", absl::FromUnixMillis(ms), absl::UTCTimeZone());
    };
    // A day either side: whatever the nodes' time zone.
    const json duration = {
        {"start", minute(now - 86400000)}, {"end", minute(now + 86400000)}, {"step", "MINUTE"}};
    for (const ServerProcess* node : d.query) {
      json result;
      json tasks = Data(node->GraphQL(
          "query($s: ID, $i: ID) { t: queryEBPFProfilingTasks(serviceId: $s, serviceInstanceId: "
          "$i, targets: [NETWORK], triggerType: FIXED_TIME) { taskId serviceName "
          "serviceInstanceName targetType triggerType fixedTriggerDuration } }",
          json{{"s", service_id}, {"i", instance_id}}.dump()))["t"];
      for (json& t : tasks) {
        EXPECT_EQ(t["taskId"], id);
        EXPECT_EQ(t["serviceInstanceName"], entity.instance);
        t.erase("taskId");
      }
      result["tasks"] = tasks;
      result["topology"] = Data(node->GraphQL(
          "query($i: ID!, $d: Duration!) { t: getProcessTopology(serviceInstanceId: $i, "
          "duration: $d) { nodes { id name isReal } calls { source target detectPoints "
          "sourceComponents targetComponents } } }",
          json{{"i", instance_id}, {"d", duration}}.dump()))["t"];
      results.push_back(result);
    }
    return results;
  }

  // The environment of a node over a fresh database of the test cluster of its own.
  std::map<std::string, std::string> FreshDatabaseEnv() {
    auto conninfo = storage::pg::testing::ClusterEnvironment::NewDatabase();
    EXPECT_TRUE(conninfo.ok()) << conninfo.status();
    std::map<std::string, std::string> env = env_;
    if (!conninfo.ok()) return env;
    for (absl::string_view part : absl::StrSplit(*conninfo, ' ')) {
      std::pair<std::string, std::string> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
      if (kv.first == "dbname") env["SW_STORAGE_POSTGRESQL_DATABASE"] = kv.second;
    }
    return env;
  }

  static constexpr char kRover[] = "rover-1";

  TestDir dir_;
  std::map<std::string, std::string> env_;
  std::string conninfo_;    // the test database's libpq conninfo
  std::string socket_dir_;  // the test cluster's unix socket directory
  std::string port_;
};

TEST_F(PostgresqlServerTest, TwoNodesOverOneDatabaseAnswerAsOneAndSurviveASigkill) {
  auto a = MakeNode("a");
  auto b = MakeNode("b");
  ASSERT_TRUE(a->Start()) << a->Log();
  ASSERT_TRUE(b->Start()) << b->Log();  // the schema is there already: nothing to migrate
  EXPECT_THAT(a->Log(), HasSubstr("storage: PostgreSQL database"));
  EXPECT_EQ(a->HttpGet("/healthz").first, 200);

  // What an agent reports to one node, the other answers.
  ASSERT_TRUE(ReportProperties(*a, "order-svc", "pod-1").ok());
  ASSERT_TRUE(ReportProperties(*b, "billing-svc", "pod-1").ok());
  EXPECT_THAT(Services(*b), ::testing::ElementsAre("billing-svc", "order-svc"));
  EXPECT_EQ(Services(*a), Services(*b));

  // A node killed mid-flight loses nothing it acknowledged; the other keeps answering, and a
  // restarted node finds everything.
  EXPECT_EQ(a->Stop(SIGKILL), std::optional<int>(-SIGKILL));
  EXPECT_THAT(Services(*b), ::testing::ElementsAre("billing-svc", "order-svc"));
  auto restarted = MakeNode("a");
  ASSERT_TRUE(restarted->Start()) << restarted->Log();
  EXPECT_THAT(Services(*restarted), ::testing::ElementsAre("billing-svc", "order-svc"));
  EXPECT_EQ(b->Stop(SIGTERM), std::optional<int>(0)) << b->Log();
  EXPECT_EQ(restarted->Stop(SIGTERM), std::optional<int>(0)) << restarted->Log();
}

TEST_F(PostgresqlServerTest, TasksCreatedOnOneNodeReachAgentsPollingTheOtherByNotify) {
  // A refresh period far beyond the test: only a notification can bring the tasks in time.
  auto a = MakeNode("a", NotifyOnly());
  auto b = MakeNode("b", NotifyOnly());
  ASSERT_TRUE(a->Start()) << a->Log();
  ASSERT_TRUE(b->Start()) << b->Log();
  EXPECT_THAT(b->Log(), HasSubstr("on other nodes' changes (LISTEN sh_changes)"));
  EXPECT_TRUE(PollTraceTasks(*b, "pod-1", -1).empty());

  // A trace task created through A is handed out by B, to each agent once by its
  // lastCommandTime; a restarted agent (-1) gets it again, from either node.
  const std::string id = CreateTraceTask(*a);
  ASSERT_FALSE(id.empty());
  std::vector<std::pair<std::string, int64_t>> polled;
  ASSERT_TRUE(Eventually([&] {
    polled = PollTraceTasks(*b, "pod-1", -1);
    return Has(polled, id);
  })) << b->Log();
  ASSERT_EQ(polled.size(), 1u);
  EXPECT_TRUE(PollTraceTasks(*b, "pod-1", polled[0].second).empty());
  EXPECT_TRUE(PollTraceTasks(*a, "pod-1", polled[0].second).empty());
  EXPECT_TRUE(Has(PollTraceTasks(*a, "pod-2", -1), id));

  // eBPF: Rover registers with B; A learns of its process (and labels), the task created
  // through A reaches Rover through B.
  ReportRoverProcess(*b);
  std::string ebpf_id;
  ASSERT_TRUE(Eventually([&] {
    ebpf_id = CreateEbpfTask(*a);
    return !ebpf_id.empty();
  })) << a->Log();
  ASSERT_TRUE(Eventually([&] {
    std::vector<std::string> ids = PollEbpfTasks(*b);
    return std::find(ids.begin(), ids.end(), ebpf_id) != ids.end();
  })) << b->Log();

  // B's listening connection is killed: it connects again, and what is created meanwhile or
  // afterwards still reaches it.
  auto pool = storage::pg::Pool::Create({conninfo_, 1, 0});
  ASSERT_TRUE(pool.ok()) << pool.status();
  auto killed = (*pool)->Exec(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
      "WHERE application_name = 'stackhouse-listen'");
  ASSERT_TRUE(killed.ok()) << killed.status();
  EXPECT_EQ(killed->Int64(0, 0), 2);  // one per node
  ASSERT_TRUE(Eventually([&] {
    return b->Log().find("listening for other nodes' changes again") != std::string::npos &&
           a->Log().find("listening for other nodes' changes again") != std::string::npos;
  })) << b->Log();
  auto network_task = a->GraphQL(
      "mutation($r: EBPFProfilingNetworkTaskRequest!) { "
      "t: createEBPFNetworkProfiling(request: $r) { status errorReason id } }",
      json{{"r",
            {{"instanceId", model::InstanceId(model::ServiceId("order-svc"), "pod-1")},
             {"samplings", json::array()}}}}
          .dump());
  json network = json::parse(network_task.second, nullptr, false);
  ASSERT_TRUE(!network.is_discarded() && network["data"]["t"]["status"] == true)
      << network_task.second;
  const std::string network_id = network["data"]["t"]["id"];
  ASSERT_TRUE(Eventually([&] {
    std::vector<std::string> ids = PollEbpfTasks(*b);
    return std::find(ids.begin(), ids.end(), network_id) != ids.end();
  })) << b->Log();

  EXPECT_EQ(a->Stop(SIGTERM), std::optional<int>(0)) << a->Log();
  EXPECT_EQ(b->Stop(SIGTERM), std::optional<int>(0)) << b->Log();
}

TEST_F(PostgresqlServerTest, WithoutNotificationsThePeriodicRefreshAloneBringsTheTasks) {
  const std::map<std::string, std::string> refresh_only = {
      {"SW_STORAGE_POSTGRESQL_LISTEN_NOTIFY", "false"},
      {"SW_STORAGE_POSTGRESQL_CACHE_REFRESH_SECONDS", "1"}};
  auto a = MakeNode("a", refresh_only);
  auto b = MakeNode("b", refresh_only);
  ASSERT_TRUE(a->Start()) << a->Log();
  ASSERT_TRUE(b->Start()) << b->Log();
  EXPECT_THAT(b->Log(), HasSubstr("caches re-read every 1 s (listenNotify is off)"));

  const std::string id = CreateTraceTask(*a);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(Eventually([&] { return Has(PollTraceTasks(*b, "pod-1", -1), id); })) << b->Log();

  ReportRoverProcess(*b);
  std::string ebpf_id;
  ASSERT_TRUE(Eventually([&] {
    ebpf_id = CreateEbpfTask(*a);
    return !ebpf_id.empty();
  })) << a->Log();
  ASSERT_TRUE(Eventually([&] {
    std::vector<std::string> ids = PollEbpfTasks(*b);
    return std::find(ids.begin(), ids.end(), ebpf_id) != ids.end();
  })) << b->Log();
  EXPECT_EQ(a->Stop(SIGTERM), std::optional<int>(0)) << a->Log();
  EXPECT_EQ(b->Stop(SIGTERM), std::optional<int>(0)) << b->Log();
}

TEST_F(PostgresqlServerTest, AgentsSpreadOverTwoNodesCompleteTasksAsOnOneNode) {
  // A refresh period far beyond the test: what one node learns of the other's writes comes by
  // notification or from the database itself.
  auto a = MakeNode("a", NotifyOnly());
  auto b = MakeNode("b", NotifyOnly());
  ASSERT_TRUE(a->Start()) << a->Log();
  ASSERT_TRUE(b->Start()) << b->Log();
  // Created through A; the agents' calls go to B first, then A, B, ...; both answer.
  const Deployment two{a.get(), {b.get(), a.get()}, {a.get(), b.get()}};
  const std::vector<json> trace = TraceScenario(two);
  const std::vector<json> go = GoScenario(two);
  int64_t samples = 0;
  const std::vector<json> ebpf = EbpfScenario(two, &samples);
  int64_t switches = 0;
  int64_t off_cpu_ns = 0;
  const std::vector<json> off_cpu = EbpfScenario(two, &switches, "OFF_CPU", &off_cpu_ns);
  int64_t continuous_samples = 0;
  const std::vector<json> continuous = ContinuousScenario(two, &continuous_samples);
  const std::vector<json> network = NetworkScenario(two);
  EXPECT_EQ(a->Stop(SIGTERM), std::optional<int>(0)) << a->Log();
  EXPECT_EQ(b->Stop(SIGTERM), std::optional<int>(0)) << b->Log();
  ASSERT_EQ(trace.size(), 2u);
  ASSERT_EQ(go.size(), 2u);
  ASSERT_EQ(ebpf.size(), 2u);
  ASSERT_EQ(off_cpu.size(), 2u);
  ASSERT_EQ(continuous.size(), 2u);
  ASSERT_EQ(network.size(), 2u);
  EXPECT_EQ(trace[0], trace[1]);
  EXPECT_EQ(go[0], go[1]);
  EXPECT_EQ(ebpf[0], ebpf[1]);
  EXPECT_EQ(off_cpu[0], off_cpu[1]);
  EXPECT_EQ(continuous[0], continuous[1]);
  EXPECT_EQ(network[0], network[1]);

  // What they answer: one NOTIFIED log per instance however often it polled which node, both
  // segments, seg-1's five dumps from both nodes merged in sequence order.
  const json logs = {"pod-1:EXECUTION_FINISHED", "pod-1:NOTIFIED", "pod-2:NOTIFIED"};
  EXPECT_EQ(trace[0]["logs"], logs);
  ASSERT_EQ(trace[0]["tasks"].size(), 1u);
  EXPECT_EQ(trace[0]["tasks"][0]["logs"], logs);
  ASSERT_EQ(trace[0]["segments"].size(), 2u);
  EXPECT_EQ(trace[0]["segments"][0]["traceId"], "trace-1");
  EXPECT_EQ(trace[0]["segments"][0]["start"], 10);
  EXPECT_EQ(trace[0]["segments"][1]["traceId"], "trace-2");
  auto row = [](const char* id, const char* parent, const char* frame, int duration, int excluded,
                int count) {
    return json{{"id", id},
                {"parentId", parent},
                {"codeSignature", frame},
                {"duration", duration},
                {"durationChildExcluded", excluded},
                {"count", count}};
  };
  EXPECT_EQ(
      trace[0]["seg-1"],
      (json{{"tip", nullptr},
            {"trees",
             {{{"elements",
                {row("1", "0", "Thread.run", 40, 0, 5), row("2", "1", "Controller.get", 40, 20, 5),
                 row("3", "2", "Repo.find", 20, 20, 4)}}}}}}));
  // Go: one NOTIFIED log per instance; each segment profiled, its tree walked from the pprof
  // leaf (grpc-protocol.md §4.6: the two leaf frames under a virtual root), whichever node had
  // the profile and which the segment; the samples of the unreported segment nowhere.
  EXPECT_EQ(go[0]["logs"], json({"pod-go-1:NOTIFIED", "pod-go-2:NOTIFIED"}));
  ASSERT_EQ(go[0]["segments"].size(), 2u) << go[0].dump();
  EXPECT_EQ(go[0]["segments"][0]["traceId"], "trace-go-1");
  EXPECT_EQ(go[0]["segments"][0]["start"], 10);
  EXPECT_EQ(go[0]["segments"][0]["spans"][0]["profiled"], true);
  EXPECT_EQ(go[0]["segments"][1]["traceId"], "trace-go-2");
  EXPECT_EQ(go[0]["segments"][1]["instanceName"], "pod-go-2");
  EXPECT_EQ(
      go[0]["seg-go-1"],
      (json{
          {"tip", nullptr},
          {"trees",
           {{{"elements",
              {row("0", "-1", "root", 50, 0, 5), row("1", "0", "main.hash:30", 40, 0, 4),
               row("2", "0", "main.handle:20", 10, 0, 1), row("3", "1", "main.handle:20", 40, 0, 4),
               row("4", "2", "main.main:10", 10, 10, 1),
               row("5", "3", "main.main:10", 40, 40, 4)}}}}}}))
      << go[0].dump();
  int64_t go_counted = 0;
  for (const auto& [frame, count] : Roots(go[0]["seg-go-2"], "codeSignature", "count")) {
    go_counted += count;
  }
  EXPECT_EQ(go_counted, 2);
  // One schedule from the task's start to the latest current time uploaded, whichever node had
  // it and in whatever order the uploads arrived.
  ASSERT_EQ(ebpf[0]["schedules"].size(), 1u);
  EXPECT_EQ(ebpf[0]["schedules"][0]["startTime"], 0);
  EXPECT_EQ(ebpf[0]["schedules"][0]["endTime"], 20000);
  int64_t counted = 0;
  for (const auto& [symbol, count] : Roots(ebpf[0]["analysis"], "symbol", "dumpCount")) {
    counted += count;
  }
  EXPECT_EQ(counted, samples);
  // Off-CPU likewise, counted by switches and by time off CPU.
  ASSERT_EQ(off_cpu[0]["tasks"].size(), 1u);
  EXPECT_EQ(off_cpu[0]["tasks"][0]["targetType"], "OFF_CPU");
  EXPECT_EQ(off_cpu[0]["tasks"][0]["serviceName"], "payments.default");
  ASSERT_EQ(off_cpu[0]["schedules"].size(), 1u);
  EXPECT_EQ(off_cpu[0]["schedules"][0]["startTime"], 0);
  EXPECT_EQ(off_cpu[0]["schedules"][0]["endTime"], 20000);
  auto total = [](const json& analysis) {
    int64_t sum = 0;
    for (const auto& [symbol, count] : Roots(analysis, "symbol", "dumpCount")) sum += count;
    return sum;
  };
  EXPECT_EQ(total(off_cpu[0]["analysis"]), switches);
  EXPECT_EQ(total(off_cpu[0]["duration"]), off_cpu_ns);
  EXPECT_NE(off_cpu[0]["analysis"], off_cpu[0]["duration"]);
  // Continuous: the one task triggered, with its cause, counted once on its target, instance
  // and process; its samples merged from both nodes.
  const json& c = continuous[0];
  ASSERT_EQ(c["tasks"].size(), 1u);
  EXPECT_EQ(c["tasks"][0]["taskStartTime"], 0);
  EXPECT_EQ(c["tasks"][0]["triggerType"], "CONTINUOUS_PROFILING");
  EXPECT_EQ(c["tasks"][0]["targetType"], "ON_CPU");
  EXPECT_EQ(c["tasks"][0]["serviceName"], "checkout.default");
  ASSERT_EQ(c["tasks"][0]["continuousProfilingCauses"].size(), 1u);
  EXPECT_EQ(c["tasks"][0]["continuousProfilingCauses"][0]["type"], "PROCESS_CPU");
  EXPECT_EQ(c["tasks"][0]["continuousProfilingCauses"][0]["message"],
            "PROCESS_CPU: current 95.00% >= threshold 80.00%");
  ASSERT_EQ(c["targets"].size(), 2u);
  EXPECT_EQ(c["targets"][0]["type"], "ON_CPU");
  EXPECT_EQ(c["targets"][0]["triggeredCount"], 1);
  EXPECT_EQ(c["targets"][0]["lastTriggerTimestamp"], 0);
  EXPECT_EQ(c["targets"][1]["type"], "OFF_CPU");
  EXPECT_EQ(c["targets"][1]["triggeredCount"], 0);
  EXPECT_EQ(c["targets"][1]["checkItems"][0]["threshold"], "500");
  ASSERT_EQ(c["instances"].size(), 1u);
  EXPECT_EQ(c["instances"][0]["name"], c["tasks"][0]["serviceInstanceName"]);
  EXPECT_EQ(c["instances"][0]["triggeredCount"], 1);
  EXPECT_EQ(c["instances"][0]["lastTriggerTimestamp"], 0);
  ASSERT_EQ(c["profile"]["schedules"].size(), 1u);
  EXPECT_EQ(c["profile"]["schedules"][0]["startTime"], 0);
  EXPECT_EQ(c["profile"]["schedules"][0]["endTime"], 10000);
  EXPECT_EQ(total(c["profile"]["analysis"]), continuous_samples);
  // Network: the task as created (600 s), and the topology of what both nodes received: the
  // simulator's process calls a remote HTTP service (client side) and is called by a local peer
  // (server side), each peer a virtual process.
  ASSERT_EQ(network[0]["tasks"].size(), 1u);
  EXPECT_EQ(network[0]["tasks"][0]["targetType"], "NETWORK");
  EXPECT_EQ(network[0]["tasks"][0]["fixedTriggerDuration"], 600);
  const json& topology = network[0]["topology"];
  std::map<std::string, json> nodes;  // id → node
  for (const json& n : topology["nodes"]) nodes[n["id"].get<std::string>()] = n;
  std::set<std::string> calls;  // "source name>target name:detect points"
  for (const json& call : topology["calls"]) {
    const json& source = nodes[call["source"].get<std::string>()];
    const json& target = nodes[call["target"].get<std::string>()];
    calls.insert(absl::StrCat(source["name"].get<std::string>(), source["isReal"] ? "" : "?", ">",
                              target["name"].get<std::string>(), target["isReal"] ? "" : "?", ":",
                              call["detectPoints"].dump()));
  }
  EXPECT_EQ(calls, (std::set<std::string>{"java>UNKNOWN_REMOTE?:[\"CLIENT\"]",
                                          "UNKNOWN_LOCAL?>java:[\"SERVER\"]"}))
      << topology.dump();

  // The same scenario on one node over a database of its own, and on one RocksDB node.
  auto single = std::make_unique<ServerProcess>(dir_.path() + "/single", FreshDatabaseEnv());
  ASSERT_TRUE(single->Start()) << single->Log();
  const Deployment one{single.get(), {single.get()}, {single.get()}};
  EXPECT_EQ(TraceScenario(one), std::vector<json>{trace[0]});
  EXPECT_EQ(GoScenario(one), std::vector<json>{go[0]});
  EXPECT_EQ(EbpfScenario(one, &samples), std::vector<json>{ebpf[0]});
  EXPECT_EQ(EbpfScenario(one, &switches, "OFF_CPU", &off_cpu_ns), std::vector<json>{off_cpu[0]});
  EXPECT_EQ(ContinuousScenario(one, &continuous_samples), std::vector<json>{continuous[0]});
  EXPECT_EQ(NetworkScenario(one), std::vector<json>{network[0]});
  EXPECT_EQ(single->Stop(SIGTERM), std::optional<int>(0)) << single->Log();
  auto rocks = std::make_unique<ServerProcess>(dir_.path() + "/rocks");
  ASSERT_TRUE(rocks->Start()) << rocks->Log();
  const Deployment embedded{rocks.get(), {rocks.get()}, {rocks.get()}};
  EXPECT_EQ(TraceScenario(embedded), std::vector<json>{trace[0]});
  EXPECT_EQ(GoScenario(embedded), std::vector<json>{go[0]});
  EXPECT_EQ(EbpfScenario(embedded, &samples), std::vector<json>{ebpf[0]});
  EXPECT_EQ(EbpfScenario(embedded, &switches, "OFF_CPU", &off_cpu_ns),
            std::vector<json>{off_cpu[0]});
  EXPECT_EQ(ContinuousScenario(embedded, &continuous_samples), std::vector<json>{continuous[0]});
  EXPECT_EQ(NetworkScenario(embedded), std::vector<json>{network[0]});
  EXPECT_EQ(rocks->Stop(SIGTERM), std::optional<int>(0)) << rocks->Log();
}

TEST_F(PostgresqlServerTest, ANodeKilledMidIngestLosesNothingAcknowledged) {
  auto a = MakeNode("a", NotifyOnly());
  auto b = MakeNode("b", NotifyOnly());
  ASSERT_TRUE(a->Start()) << a->Log();
  ASSERT_TRUE(b->Start()) << b->Log();

  // A trace task and an eBPF task created through A, received by agents polling B.
  const std::string trace_id = CreateTraceTask(*a);
  ASSERT_FALSE(trace_id.empty());
  SimJavaAgent agent("pod-1");
  ASSERT_TRUE(Eventually([&] { return agent.Poll(*b) > 0; })) << b->Log();
  const int64_t trace_start = agent.tasks()[0].start_time_ms;
  ASSERT_TRUE(agent.Segment(*b, "trace-k", "seg-k", trace_start + 10).ok());
  SimRover rover;
  rover.Register(*b);
  std::string ebpf_id;
  ASSERT_TRUE(Eventually([&] {
    ebpf_id = CreateEbpfTask(*a, SimRover::kService, SimRover::kLabel);
    return !ebpf_id.empty();
  })) << a->Log();
  ASSERT_TRUE(Eventually([&] { return rover.Poll(*b) > 0; })) << b->Log();
  const sim::EbpfTaskSpec task = rover.tasks()[0];

  // Round k: a snapshot stream of kDumps dumps whose outermost frame is "stream-<k>" and an
  // upload of every stack of the simulator's model twice, under "upload-<k>"; both to B when
  // k is even, to A when odd. What got an OK is counted here, on the agents' side.
  constexpr int kDumps = 40;
  constexpr int kStacks = 16;
  const sim::StackModel model(sim::ProcessKind::kJava, sim::EbpfTarget::kOnCpu, kStacks, 3);
  std::map<std::string, int64_t> acked_dumps;    // "stream-<k>" → dumps acknowledged
  std::map<std::string, int64_t> acked_samples;  // "upload-<k>" → samples acknowledged
  std::set<int> acked_rounds;
  auto stream = [&](const ServerProcess& node, int k,
                    const std::function<void(int64_t)>& hook = nullptr) {
    const std::string marker = absl::StrCat("stream-", k);
    std::vector<std::vector<std::string>> stacks(kDumps, {marker, "Thread.run", "Worker.loop"});
    absl::Status status = agent.Snapshots(node, trace_id, "seg-k", k * kDumps, stacks,
                                          trace_start + 20 + k * kDumps * 10, hook);
    if (status.ok()) acked_dumps[marker] = kDumps;
    return status;
  };
  auto upload = [&](const ServerProcess& node, int k,
                    const std::function<void(int64_t)>& hook = nullptr) {
    const std::string marker = absl::StrCat("upload-", k);
    std::vector<skywalking::v3::EBPFProfilingData> messages;
    for (int i = 0; i < kStacks; ++i) {
      skywalking::v3::EBPFProfilingData& message =
          messages.emplace_back(model.Message(static_cast<size_t>(i), 2, 0));
      for (auto& stack : *message.mutable_oncpu()->mutable_stacks()) {
        if (stack.stacktype() != skywalking::v3::PROCESS_USER_SPACE) continue;
        stack.add_stacksymbols(marker);  // outermost
        stack.set_stackid(1000 * (k + 1) + i);
      }
    }
    absl::Status status =
        rover.Upload(node, task, task.start_time_ms + 1000 * (k + 1), std::move(messages), hook);
    if (status.ok()) acked_samples[marker] = 2 * kStacks;
    return status;
  };
  auto round = [&](const ServerProcess& node, int k) {
    const bool dumps = stream(node, k).ok();
    const bool samples = upload(node, k).ok();
    if (dumps && samples) acked_rounds.insert(k);
  };
  for (int k = 0; k < 4; ++k) round(k % 2 == 0 ? *b : *a, k);

  // Round 4: B is killed while both streams are half sent.
  absl::Notification dumps_half_sent, samples_half_sent, killed;
  auto pause_at_half = [&](absl::Notification* half_sent, int64_t half) {
    return [&killed, half_sent, half](int64_t i) {
      if (i != half) return;
      half_sent->Notify();
      killed.WaitForNotificationWithTimeout(absl::Seconds(60));  // a hang guard
    };
  };
  absl::Status dumps_status, samples_status;
  std::thread java(
      [&] { dumps_status = stream(*b, 4, pause_at_half(&dumps_half_sent, kDumps / 2)); });
  std::thread rover_thread(
      [&] { samples_status = upload(*b, 4, pause_at_half(&samples_half_sent, kStacks / 2)); });
  EXPECT_TRUE(dumps_half_sent.WaitForNotificationWithTimeout(absl::Seconds(60)));
  EXPECT_TRUE(samples_half_sent.WaitForNotificationWithTimeout(absl::Seconds(60)));
  EXPECT_EQ(b->Stop(SIGKILL), std::optional<int>(-SIGKILL));
  killed.Notify();
  java.join();
  rover_thread.join();
  EXPECT_FALSE(dumps_status.ok()) << "a stream cut by the kill must not be acknowledged";
  EXPECT_FALSE(samples_status.ok()) << "an upload cut by the kill must not be acknowledged";

  // Rounds 5-7 while B is down (its rounds fail), 8-9 with B restarted.
  for (int k = 5; k < 8; ++k) round(k % 2 == 0 ? *b : *a, k);
  auto restarted = MakeNode("b", NotifyOnly());
  ASSERT_TRUE(restarted->Start()) << restarted->Log();
  for (int k = 8; k < 10; ++k) round(k % 2 == 0 ? *restarted : *a, k);
  EXPECT_EQ(acked_rounds, (std::set<int>{0, 1, 2, 3, 5, 7, 8, 9}));

  // Everything acknowledged, by either node, is answered by the survivor and the restarted
  // node alike; the cut round may have been stored in part, never more than was sent.
  std::vector<json> answers;
  for (const ServerProcess* node : {a.get(), restarted.get()}) {
    const json tree = TraceTree(*node, "seg-k", trace_start);
    std::map<std::string, int64_t> dumps = Roots(tree, "codeSignature", "count");
    const json ebpf = EbpfResult(*node, ebpf_id, task.start_time_ms);
    std::map<std::string, int64_t> samples = Roots(ebpf["analysis"], "symbol", "dumpCount");
    for (const auto& [marker, count] : acked_dumps) EXPECT_EQ(dumps[marker], count) << marker;
    for (const auto& [marker, count] : acked_samples) EXPECT_EQ(samples[marker], count) << marker;
    EXPECT_LE(dumps["stream-4"], kDumps);
    EXPECT_LE(samples["upload-4"], 2 * kStacks);
    for (const auto& [marker, count] : dumps) {
      EXPECT_TRUE(acked_dumps.count(marker) == 1 || marker == "stream-4") << marker;
    }
    for (const auto& [marker, count] : samples) {
      EXPECT_TRUE(acked_samples.count(marker) == 1 || marker == "upload-4") << marker;
    }
    // One schedule, up to the latest acknowledged upload (round 9's time).
    ASSERT_EQ(ebpf["schedules"].size(), 1u);
    EXPECT_EQ(ebpf["schedules"][0]["endTime"], 10000);
    answers.push_back(json{{"trace", tree}, {"ebpf", ebpf}});
  }
  EXPECT_EQ(answers[0], answers[1]);
  EXPECT_EQ(a->Stop(SIGTERM), std::optional<int>(0)) << a->Log();
  EXPECT_EQ(restarted->Stop(SIGTERM), std::optional<int>(0)) << restarted->Log();
}

TEST_F(PostgresqlServerTest, BadStorageSettingsStopTheStartWithOneClearMessage) {
  {
    auto node = MakeNode("x", {{"SW_STORAGE", "cassandra"}});
    EXPECT_EQ(node->RunToExit(), 1);
    EXPECT_THAT(node->Log(), HasSubstr("storage.selector: invalid value \"cassandra\" "
                                       "(expected rocksdb or postgresql)"));
  }
  {
    auto node = MakeNode("x", {{"SW_STORAGE_POSTGRESQL_POOL_SIZE", "0"}});
    EXPECT_EQ(node->RunToExit(), 1);
    EXPECT_THAT(node->Log(), HasSubstr("storage.postgresql.poolSize: value 0 is out of range"));
  }
  {
    auto node = MakeNode("x", {{"SW_STORAGE_POSTGRESQL_CACHE_REFRESH_SECONDS", "0"}});
    EXPECT_EQ(node->RunToExit(), 1);
    EXPECT_THAT(node->Log(),
                HasSubstr("storage.postgresql.cacheRefreshSeconds: value 0 is out of range"));
  }
  {
    // Nobody listens there: tried again for a second (0.5 s, then the rest), then given up.
    auto node = MakeNode("x", {{"SW_STORAGE_POSTGRESQL_HOST", dir_.path()},
                               {"SW_STORAGE_POSTGRESQL_CONNECT_TIMEOUT", "2"},
                               {"SW_STORAGE_POSTGRESQL_STARTUP_RETRY", "1"}});
    EXPECT_EQ(node->RunToExit(), 1);
    EXPECT_THAT(node->Log(), HasSubstr("storage.postgresql: cannot connect to database"));
    EXPECT_THAT(node->Log(), HasSubstr("(attempt 1; trying again in 0.5 s)"));
    EXPECT_THAT(node->Log(), Not(HasSubstr("terminate called")));
  }
  {
    // A database that does not exist.
    auto node = MakeNode("x", {{"SW_STORAGE_POSTGRESQL_DATABASE", "no_such_db"}});
    EXPECT_EQ(node->RunToExit(), 1);
    EXPECT_THAT(node->Log(), HasSubstr("no_such_db"));
  }
}

TEST_F(PostgresqlServerTest, ADatabaseLostMidIngestFailsCallsUntilItIsBackWithoutARestart) {
  // The node reaches the cluster through a socket directory of its own (a symbolic link to the
  // cluster's socket), so that the test can take the database away from this node alone.
  const std::string link_dir = dir_.path() + "/db-link";
  ASSERT_EQ(mkdir(link_dir.c_str(), 0700), 0);
  const std::string socket = "/.s.PGSQL." + port_;
  const std::string link = link_dir + socket;
  ASSERT_EQ(symlink((socket_dir_ + socket).c_str(), link.c_str()), 0);
  auto node = MakeNode("a", {{"SW_STORAGE_POSTGRESQL_HOST", link_dir}});
  ASSERT_TRUE(node->Start()) << node->Log();
  ASSERT_TRUE(ReportProperties(*node, "order-svc", "pod-1").ok());

  // Lost: no new connection can be made, and the node's open ones are cut.
  ASSERT_EQ(unlink(link.c_str()), 0);
  auto admin = storage::pg::Connection::Open(conninfo_);
  ASSERT_TRUE(admin.ok()) << admin.status();
  auto cut = (*admin)->Exec(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
      "WHERE datname = current_database() AND application_name LIKE 'stackhouse%'");
  ASSERT_TRUE(cut.ok()) << cut.status();
  EXPECT_GE(cut->Int64(0, 0), 1);
  const grpc::Status lost = ReportProperties(*node, "lost-svc", "pod-1");
  EXPECT_EQ(lost.error_code(), grpc::StatusCode::UNAVAILABLE) << lost.error_message();
  const auto [health, reason] = node->HttpGet("/healthz");
  EXPECT_EQ(health, 503);
  EXPECT_THAT(reason, HasSubstr("PostgreSQL unreachable"));

  // Back: the same process serves again, with everything it acknowledged and nothing of the
  // call it refused.
  ASSERT_EQ(symlink((socket_dir_ + socket).c_str(), link.c_str()), 0);
  EXPECT_TRUE(Eventually([&] { return ReportProperties(*node, "billing-svc", "pod-1").ok(); }))
      << node->Log();
  EXPECT_THAT(Services(*node), ::testing::ElementsAre("billing-svc", "order-svc"));
  EXPECT_EQ(node->HttpGet("/healthz").first, 200);
  EXPECT_EQ(node->Stop(SIGTERM), std::optional<int>(0)) << node->Log();
}

TEST_F(PostgresqlServerTest, ANodeStartedBeforeItsDatabaseComesUpOnceTheDatabaseIs) {
  // The node connects through a socket directory where no server listens yet; once it has
  // failed an attempt, the cluster's socket appears there (a symbolic link), as when the
  // database starts after the node.
  const std::string late_dir = dir_.path() + "/late-db";
  ASSERT_EQ(mkdir(late_dir.c_str(), 0700), 0);
  auto node = MakeNode("a", {{"SW_STORAGE_POSTGRESQL_HOST", late_dir},
                             {"SW_STORAGE_POSTGRESQL_STARTUP_RETRY", "60"}});
  std::thread database_comes_up([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (node->Log().find("trying again in") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const std::string socket = "/.s.PGSQL." + port_;
    EXPECT_EQ(symlink((socket_dir_ + socket).c_str(), (late_dir + socket).c_str()), 0);
  });
  const bool started = node->Start(60000);
  database_comes_up.join();
  ASSERT_TRUE(started) << node->Log();
  EXPECT_THAT(node->Log(), HasSubstr("(attempt 1; trying again in 0.5 s)"));
  EXPECT_THAT(node->Log(), HasSubstr("storage: PostgreSQL database"));
  EXPECT_EQ(node->HttpGet("/healthz").first, 200);
  EXPECT_EQ(node->Stop(SIGTERM), std::optional<int>(0)) << node->Log();
}

}  // namespace
}  // namespace stackhouse::testing
