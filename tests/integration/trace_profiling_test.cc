// Trace profiling end to end against the real binary: an operator creates a task over GraphQL,
// two Java agents poll it over gRPC, one streams thread snapshots and its segment, the server
// is killed and restarted in the middle, and the operator reads segments and the merged tree.
// Then the same for a Go agent, which uploads a pprof profile labelled with segment ids.
#include <signal.h>

#include <chrono>
#include <thread>

#include "common/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "language-agent/Tracing.grpc.pb.h"
#include "model/ids.h"
#include "nlohmann/json.hpp"
#include "orders_segment.h"
#include "perftools/profile.pb.h"
#include "profile/Profile.grpc.pb.h"
#include "server_process.h"
#include "storage/database.h"
#include "storage/rocks_profile_store.h"
#include "storage/test_dir.h"

namespace stackhouse::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr char kToken[] = "agent-secret";
constexpr char kService[] = "order-svc";

// A channel of its own (no subchannel shared with channels to an earlier, killed server).
std::shared_ptr<grpc::Channel> FreshChannel(const ServerProcess& server) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(server.GrpcTarget(), grpc::InsecureChannelCredentials(), args);
}

class TraceProfilingTest : public ::testing::Test {
 protected:
  std::unique_ptr<ServerProcess> StartServer() {
    auto server = std::make_unique<ServerProcess>(
        dir_.path() + "/data", std::map<std::string, std::string>{{"SW_AUTHENTICATION", kToken}});
    EXPECT_TRUE(server->Start()) << server->Log();
    return server;
  }

  std::unique_ptr<skywalking::v3::ProfileTask::Stub> ProfileStub(const ServerProcess& server) {
    return skywalking::v3::ProfileTask::NewStub(FreshChannel(server));
  }

  static void Authenticate(grpc::ClientContext* context, const std::string& token = kToken) {
    context->AddMetadata("authentication", token);
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }

  // Polls like a Java agent; returns the commands' args by key.
  std::vector<std::map<std::string, std::string>> Poll(const ServerProcess& server,
                                                       const std::string& instance,
                                                       int64_t last_command_time) {
    grpc::ClientContext context;
    Authenticate(&context);
    skywalking::v3::ProfileTaskCommandQuery query;
    query.set_service(kService);
    query.set_serviceinstance(instance);
    query.set_lastcommandtime(last_command_time);
    skywalking::v3::Commands commands;
    grpc::Status status = ProfileStub(server)->getProfileTaskCommands(&context, query, &commands);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::map<std::string, std::string>> out;
    for (const auto& command : commands.commands()) {
      EXPECT_EQ(command.command(), "ProfileTaskQuery");
      std::map<std::string, std::string> args;
      for (const auto& kv : command.args()) args[kv.key()] = kv.value();
      out.push_back(args);
    }
    return out;
  }

  grpc::Status SendSnapshots(const ServerProcess& server, const std::string& task_id,
                             int first_sequence,
                             const std::vector<std::vector<std::string>>& stacks,
                             int64_t first_time, const std::string& token = kToken,
                             const std::string& segment_id = "seg-1") {
    grpc::ClientContext context;
    Authenticate(&context, token);
    skywalking::v3::Commands response;
    auto writer = ProfileStub(server)->collectSnapshot(&context, &response);
    for (size_t i = 0; i < stacks.size(); ++i) {
      skywalking::v3::ThreadSnapshot snapshot;
      snapshot.set_taskid(task_id);
      snapshot.set_tracesegmentid(segment_id);
      snapshot.set_sequence(first_sequence + static_cast<int>(i));
      snapshot.set_time(first_time + static_cast<int64_t>(i) * 10);
      for (const std::string& frame : stacks[i])
        snapshot.mutable_stack()->add_codesignatures(frame);
      if (!writer->Write(snapshot)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  grpc::Status SendSegment(const ServerProcess& server, int64_t start,
                           const std::string& trace_id = "trace-1",
                           const std::string& segment_id = "seg-1",
                           const std::string& instance = "pod-1") {
    auto stub = skywalking::v3::TraceSegmentReportService::NewStub(FreshChannel(server));
    grpc::ClientContext context;
    Authenticate(&context);
    skywalking::v3::Commands response;
    auto writer = stub->collect(&context, &response);
    writer->Write(OrdersSegment(kService, instance, trace_id, segment_id, start));
    writer->WritesDone();
    return writer->Finish();
  }

  static constexpr char kCreateTask[] =
      "mutation($r: ProfileTaskCreationRequest) { task: createProfileTask(creationRequest: $r) "
      "{ id errorReason } }";

  // The variables of kCreateTask: GET:/orders for 5 minutes from now, dumps every 10 ms.
  static std::string TaskRequest(const std::string& service_id) {
    return json{{"r",
                 {{"serviceId", service_id},
                  {"endpointName", "GET:/orders"},
                  {"startTime", 0},
                  {"duration", 5},
                  {"minDurationThreshold", 0},
                  {"dumpPeriod", 10},
                  {"maxSamplingCount", 5}}}}
        .dump();
  }

  static json Data(const std::pair<int, std::string>& response) {
    EXPECT_EQ(response.first, 200) << response.second;
    json parsed = json::parse(response.second);
    EXPECT_FALSE(parsed.contains("errors")) << response.second;
    return parsed["data"];
  }

  // The sequences of the dumps of `segment_id` stored in the data directory (the server must
  // not be running).
  std::vector<int32_t> StoredSequences(const std::string& segment_id) {
    storage::DatabaseOptions options;
    options.data_dir = dir_.path() + "/data";
    auto db = storage::Database::Open(options, &SystemClock::Instance());
    EXPECT_TRUE(db.ok()) << db.status();
    std::vector<int32_t> sequences;
    if (!db.ok()) return sequences;
    storage::RocksProfileStore store(db->get(), &SystemClock::Instance());
    EXPECT_TRUE(
        store
            .ScanDumps(segment_id,
                       [&](const storage::StoredDump& d) { sequences.push_back(d.sequence); })
            .ok());
    return sequences;
  }

  TestDir dir_;
};

TEST_F(TraceProfilingTest, WholeFlowSurvivesARestart) {
  auto server = StartServer();
  const std::string service_id = model::ServiceId(kService);

  // The operator creates a task; a second, overlapping one is refused with OAP's reason.
  const std::string create = kCreateTask;
  const std::string request = TaskRequest(service_id);
  json created = Data(server->GraphQL(create, request));
  ASSERT_TRUE(created["task"]["errorReason"].is_null()) << created.dump();
  const std::string task_id = created["task"]["id"];
  EXPECT_THAT(task_id, ::testing::EndsWith("_" + service_id));
  EXPECT_EQ(Data(server->GraphQL(create, request))["task"]["errorReason"],
            "current service already has monitor task execute at this time");

  // Two agents poll the same task; each gets it once, with its own serial number.
  auto pod1 = Poll(*server, "pod-1", -1);
  auto pod2 = Poll(*server, "pod-2", -1);
  ASSERT_EQ(pod1.size(), 1u);
  ASSERT_EQ(pod2.size(), 1u);
  EXPECT_EQ(pod1[0]["TaskId"], task_id);
  EXPECT_EQ(pod1[0]["EndpointName"], "GET:/orders");
  EXPECT_EQ(pod1[0]["Duration"], "5");
  EXPECT_EQ(pod1[0]["DumpPeriod"], "10");
  EXPECT_EQ(pod1[0]["MaxSamplingCount"], "5");
  EXPECT_EQ(pod1[0]["MinDurationThreshold"], "0");
  EXPECT_NE(pod1[0]["SerialNumber"], pod2[0]["SerialNumber"]);
  const int64_t create_time = std::stoll(pod1[0]["CreateTime"]);
  const int64_t start_time = std::stoll(pod1[0]["StartTime"]);
  EXPECT_TRUE(Poll(*server, "pod-1", create_time).empty());

  // A wrong token is refused and stores nothing.
  grpc::ClientContext denied;
  Authenticate(&denied, "wrong");
  skywalking::v3::ProfileTaskCommandQuery query;
  query.set_service(kService);
  skywalking::v3::Commands commands;
  EXPECT_EQ(ProfileStub(*server)->getProfileTaskCommands(&denied, query, &commands).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(SendSnapshots(*server, task_id, 100, {{"X"}}, start_time, "wrong").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // pod-1 dumps its slow request: snapshots arrive before the segment.
  const std::vector<std::string> abc = {"Thread.run", "Controller.get", "Repo.find"};
  const std::vector<std::string> ab = {"Thread.run", "Controller.get"};
  ASSERT_TRUE(SendSnapshots(*server, task_id, 0, {abc, abc, ab}, start_time + 20).ok());

  // The server dies; acknowledged snapshots and the task survive.
  EXPECT_EQ(server->Stop(SIGKILL), std::optional<int>(-SIGKILL));
  server = StartServer();
  grpc::Status after_restart = SendSnapshots(*server, task_id, 3, {abc, abc}, start_time + 50);
  ASSERT_TRUE(after_restart.ok()) << after_restart.error_code() << " "
                                  << after_restart.error_message() << server->Log();
  ASSERT_TRUE(SendSegment(*server, start_time + 10).ok());
  // pod-2 profiles a request of another trace (two profiled traces: a regression test for
  // segments of several groups being kept alive together).
  ASSERT_TRUE(SendSnapshots(*server, task_id, 0, {ab}, start_time + 5, kToken, "seg-2").ok());
  ASSERT_TRUE(SendSegment(*server, start_time + 5, "trace-2", "seg-2", "pod-2").ok());
  // A restarted agent (lastCommandTime -1) is handed the task again.
  EXPECT_EQ(Poll(*server, "pod-2", -1).size(), 1u);
  {
    grpc::ClientContext context;
    Authenticate(&context);
    skywalking::v3::ProfileTaskFinishReport finish;
    finish.set_service(kService);
    finish.set_serviceinstance("pod-1");
    finish.set_taskid(task_id);
    grpc::Status finished = ProfileStub(*server)->reportTaskFinish(&context, finish, &commands);
    ASSERT_TRUE(finished.ok()) << finished.error_code() << " " << finished.error_message();
  }

  json tasks = Data(server->GraphQL(
      "query($s: ID) { taskList: getProfileTaskList(serviceId: $s, endpointName: \"\") "
      "{ id serviceName endpointName duration logs { instanceName operationType } } }",
      json{{"s", service_id}}.dump()));
  ASSERT_EQ(tasks["taskList"].size(), 1u);
  EXPECT_EQ(tasks["taskList"][0]["id"], task_id);
  EXPECT_EQ(tasks["taskList"][0]["serviceName"], kService);
  std::multiset<std::string> logs;
  for (const auto& log : tasks["taskList"][0]["logs"]) {
    logs.insert(log["instanceName"].get<std::string>() + ":" +
                log["operationType"].get<std::string>());
  }
  EXPECT_EQ(logs, (std::multiset<std::string>{"pod-1:NOTIFIED", "pod-2:NOTIFIED", "pod-2:NOTIFIED",
                                              "pod-1:EXECUTION_FINISHED"}));

  // The profiled trace, with its spans marked profiled.
  json segments = Data(server->GraphQL(
      "query($t: ID!) { segmentList: getProfileTaskSegments(taskID: $t) { traceId instanceName "
      "endpointNames duration start spans { spanId segmentId endpointName type layer component "
      "peer profiled } } }",
      json{{"t", task_id}}.dump()));
  ASSERT_EQ(segments["segmentList"].size(), 2u);
  // Newest start first.
  EXPECT_EQ(segments["segmentList"][1]["traceId"], "trace-2");
  EXPECT_EQ(segments["segmentList"][1]["instanceName"], "pod-2");
  const json& trace = segments["segmentList"][0];
  EXPECT_EQ(trace["traceId"], "trace-1");
  EXPECT_EQ(trace["instanceName"], "pod-1");
  EXPECT_EQ(trace["endpointNames"], json::array({"GET:/orders"}));
  EXPECT_EQ(trace["duration"], 200);
  EXPECT_EQ(trace["start"], std::to_string(start_time + 10));
  ASSERT_EQ(trace["spans"].size(), 2u);
  EXPECT_EQ(trace["spans"][1]["type"], "Exit");
  EXPECT_EQ(trace["spans"][1]["layer"], "Database");
  EXPECT_EQ(trace["spans"][1]["component"], "mysql-connector-java");  // id 33
  EXPECT_EQ(trace["spans"][0]["component"], "Tomcat");
  EXPECT_TRUE(trace["spans"][0]["profiled"].get<bool>());

  // The merged tree over the whole span: 5 dumps at 10 ms apart, sequences 0..4.
  json analysis = Data(server->GraphQL(
      "query($q: [SegmentProfileAnalyzeQuery!]!) { analyze: getSegmentsProfileAnalyze(queries: "
      "$q) { tip trees { elements { id parentId codeSignature duration durationChildExcluded "
      "count } } } }",
      json{{"q",
            {{{"segmentId", "seg-1"},
              {"timeRange", {{"start", start_time}, {"end", start_time + 1000}}}}}}}
          .dump()));
  EXPECT_TRUE(analysis["analyze"]["tip"].is_null());
  ASSERT_EQ(analysis["analyze"]["trees"].size(), 1u);
  const json& elements = analysis["analyze"]["trees"][0]["elements"];
  ASSERT_EQ(elements.size(), 3u);
  EXPECT_EQ(elements[0], (json{{"id", "1"},
                               {"parentId", "0"},
                               {"codeSignature", "Thread.run"},
                               {"duration", 40},
                               {"durationChildExcluded", 0},
                               {"count", 5}}));
  EXPECT_EQ(elements[1], (json{{"id", "2"},
                               {"parentId", "1"},
                               {"codeSignature", "Controller.get"},
                               {"duration", 40},
                               {"durationChildExcluded", 20},
                               {"count", 5}}));
  // Repo.find is in sequences 0, 1, 3, 4: two runs of 10 ms.
  EXPECT_EQ(elements[2], (json{{"id", "3"},
                               {"parentId", "2"},
                               {"codeSignature", "Repo.find"},
                               {"duration", 20},
                               {"durationChildExcluded", 20},
                               {"count", 4}}));

  // The endpoint registered from the segment is found by the UI's picker.
  json endpoints = Data(server->GraphQL(
      "query($s: ID!) { pods: findEndpoint(serviceId: $s, keyword: \"orders\", limit: 20) "
      "{ id value: name } }",
      json{{"s", service_id}}.dump()));
  ASSERT_EQ(endpoints["pods"].size(), 1u);
  EXPECT_EQ(endpoints["pods"][0]["value"], "GET:/orders");
  ASSERT_EQ(server->Stop(SIGTERM), std::optional<int>(0)) << server->Log();
}

// A Go agent's CPU profile of two requests: main.main → main.handle → main.hash (4 samples)
// and main.main → main.handle (1 sample), labelled with segment `segment`, plus a sample of
// another segment.
std::string GoProfile(const std::string& segment) {
  perftools::profiles::Profile profile;
  auto str = [&](const std::string& s) {
    profile.add_string_table(s);
    return static_cast<int64_t>(profile.string_table_size() - 1);
  };
  str("");
  auto* type = profile.add_sample_type();
  type->set_type(str("samples"));
  type->set_unit(str("count"));
  profile.mutable_period_type()->set_type(str("cpu"));
  profile.mutable_period_type()->set_unit(str("nanoseconds"));
  profile.set_period(10'000'000);
  const char* functions[] = {"main.main", "main.handle", "main.hash"};
  for (int i = 0; i < 3; ++i) {
    auto* f = profile.add_function();
    f->set_id(static_cast<uint64_t>(i + 1));
    f->set_name(str(functions[i]));
    auto* l = profile.add_location();
    l->set_id(static_cast<uint64_t>(i + 1));
    auto* line = l->add_line();
    line->set_function_id(static_cast<uint64_t>(i + 1));
    line->set_line((i + 1) * 10);
  }
  const int64_t key = str("traceSegmentID");
  auto sample = [&](std::vector<uint64_t> leaf_first, int64_t count, const std::string& seg) {
    auto* s = profile.add_sample();
    for (uint64_t id : leaf_first) s->add_location_id(id);
    s->add_value(count);
    auto* label = s->add_label();
    label->set_key(key);
    label->set_str(str(seg));
  };
  sample({3, 2, 1}, 4, segment);
  sample({2, 1}, 1, segment);
  sample({1}, 7, segment + "-other");
  return profile.SerializeAsString();
}

TEST_F(TraceProfilingTest, GoAgentProfilesSurviveARestart) {
  auto server = StartServer();
  const std::string service_id = model::ServiceId(kService);
  json created = Data(server->GraphQL(kCreateTask, TaskRequest(service_id)));
  const std::string task_id = created["task"]["id"];
  auto polled = Poll(*server, "pod-go", -1);
  ASSERT_EQ(polled.size(), 1u);
  const int64_t start_time = std::stoll(polled[0]["StartTime"]);
  ASSERT_TRUE(SendSegment(*server, start_time + 10, "trace-go", "seg-go", "pod-go").ok());

  // The profile arrives in three chunks (after a message without a task id, which is ignored).
  const std::string pprof = GoProfile("seg-go");
  auto upload = [&](const std::vector<skywalking::v3::GoProfileData>& messages) {
    grpc::ClientContext context;
    Authenticate(&context);
    skywalking::v3::Commands response;
    auto writer = ProfileStub(*server)->goProfileReport(&context, &response);
    for (const auto& m : messages) {
      if (!writer->Write(m)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  };
  std::vector<skywalking::v3::GoProfileData> chunks(4);
  chunks[0].set_payload("not part of any task");
  chunks[0].set_islast(true);
  const size_t third = pprof.size() / 3;
  for (int i = 1; i <= 3; ++i) {
    chunks[i].set_taskid(task_id);
    chunks[i].set_payload(pprof.substr((i - 1) * third, i == 3 ? std::string::npos : third));
  }
  chunks[3].set_islast(true);
  grpc::Status uploaded = upload(chunks);
  ASSERT_TRUE(uploaded.ok()) << uploaded.error_message() << server->Log();
  // A profile that is not pprof is refused with a reason.
  skywalking::v3::GoProfileData corrupt;
  corrupt.set_taskid(task_id);
  corrupt.set_payload("\x0a\xff\xff");
  corrupt.set_islast(true);
  grpc::Status refused = upload({corrupt});
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("not a pprof profile"));

  EXPECT_EQ(server->Stop(SIGKILL), std::optional<int>(-SIGKILL));
  server = StartServer();

  json segments = Data(
      server->GraphQL("query($t: ID!) { segmentList: getProfileTaskSegments(taskID: $t) { traceId "
                      "instanceName spans { segmentId profiled } } }",
                      json{{"t", task_id}}.dump()));
  ASSERT_EQ(segments["segmentList"].size(), 1u) << segments.dump();
  EXPECT_EQ(segments["segmentList"][0]["traceId"], "trace-go");
  EXPECT_EQ(segments["segmentList"][0]["instanceName"], "pod-go");

  const std::string analyze =
      "query($q: [SegmentProfileAnalyzeQuery!]!) { result: getSegmentsProfileAnalyze(queries: $q) "
      "{ tip trees { elements { id parentId codeSignature duration durationChildExcluded count } "
      "} } }";
  const json one_query = {{"segmentId", "seg-go"},
                          {"timeRange", {{"start", start_time}, {"end", start_time + 1000}}}};
  json result = Data(server->GraphQL(analyze, json{{"q", json::array({one_query})}}.dump()));
  EXPECT_TRUE(result["result"]["tip"].is_null());
  ASSERT_EQ(result["result"]["trees"].size(), 1u);
  // Spec §4.6: walked from the pprof leaf, weighted by the 10 ms period; two leaf frames give
  // a virtual root.
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
      result["result"]["trees"][0]["elements"],
      json::array(
          {row("0", "-1", "root", 50, 0, 5), row("1", "0", "main.hash:30", 40, 0, 4),
           row("2", "0", "main.handle:20", 10, 0, 1), row("3", "1", "main.handle:20", 40, 0, 4),
           row("4", "2", "main.main:10", 10, 10, 1), row("5", "3", "main.main:10", 40, 40, 4)}));

  // The OAP fails when a Go segment is queried twice; so do we, with a reason.
  auto [status, twice] =
      server->GraphQL(analyze, json{{"q", json::array({one_query, one_query})}}.dump());
  EXPECT_EQ(status, 200);
  EXPECT_THAT(twice, HasSubstr("queried more than once"));
  // Exports read the same profile root first (sample counts per stack in folded form).
  auto [export_status, folded] =
      server->HttpGet("/export/trace?format=folded&segmentId=seg-go&start=0&end=" +
                      std::to_string(start_time + 1000));
  EXPECT_EQ(export_status, 200) << folded;
  EXPECT_EQ(folded,
            "main.main:10;main.handle:20 1\n"
            "main.main:10;main.handle:20;main.hash:30 4\n");
  ASSERT_EQ(server->Stop(SIGTERM), std::optional<int>(0)) << server->Log();
}

// issue 14 item 7: the server is killed between two batches of one collectSnapshot stream. The
// first batch (256 snapshots, ProfileHandler::kSnapshotBatch) was committed as the stream went
// on; the batch in progress was not. After the restart the first batch is there, complete, the
// rest is not, and the agent was never told OK. An agent re-sending the whole stream then has
// every snapshot once (snapshots are keyed by segment and sequence).
TEST_F(TraceProfilingTest, AKillBetweenTwoBatchesOfAStreamKeepsTheCommittedBatch) {
  constexpr int kBatch = 256;
  constexpr int kInProgress = 10;
  auto server = StartServer();
  const std::string service_id = model::ServiceId(kService);
  json created = Data(server->GraphQL(kCreateTask, TaskRequest(service_id)));
  ASSERT_TRUE(created["task"]["errorReason"].is_null()) << created.dump();
  const std::string task_id = created["task"]["id"];
  auto polled = Poll(*server, "pod-1", -1);
  ASSERT_EQ(polled.size(), 1u);
  const int64_t start_time = std::stoll(polled[0]["StartTime"]);
  ASSERT_TRUE(SendSegment(*server, start_time + 10).ok());

  const std::vector<std::string> stack = {"Thread.run", "Controller.get", "Repo.find"};
  auto snapshot = [&](int sequence) {
    skywalking::v3::ThreadSnapshot s;
    s.set_taskid(task_id);
    s.set_tracesegmentid("seg-1");
    s.set_sequence(sequence);
    s.set_time(start_time + 20 + sequence);
    for (const std::string& frame : stack) s.mutable_stack()->add_codesignatures(frame);
    return s;
  };
  grpc::ClientContext context;
  Authenticate(&context);
  skywalking::v3::Commands response;
  auto writer = ProfileStub(*server)->collectSnapshot(&context, &response);
  for (int i = 0; i < kBatch; ++i) ASSERT_TRUE(writer->Write(snapshot(i)));
  // The first batch is committed once the operator can see the profiled segment.
  const std::string segments_query =
      "query($t: ID!) { segmentList: getProfileTaskSegments(taskID: $t) { traceId } }";
  bool committed = false;
  for (int attempt = 0; attempt < 200 && !committed; ++attempt) {
    committed =
        Data(server->GraphQL(segments_query, json{{"t", task_id}}.dump()))["segmentList"].size() ==
        1;
    if (!committed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(committed) << server->Log();
  for (int i = kBatch; i < kBatch + kInProgress; ++i) ASSERT_TRUE(writer->Write(snapshot(i)));

  EXPECT_EQ(server->Stop(SIGKILL), std::optional<int>(-SIGKILL));
  writer->WritesDone();
  grpc::Status finished = writer->Finish();
  EXPECT_FALSE(finished.ok()) << "the agent must not be told OK for a stream cut by a crash";

  std::vector<int32_t> expected(kBatch);
  for (int i = 0; i < kBatch; ++i) expected[i] = i;
  EXPECT_EQ(StoredSequences("seg-1"), expected);

  // The agent re-sends the whole stream to the restarted server: every snapshot once.
  server = StartServer();
  std::vector<std::vector<std::string>> all(kBatch + kInProgress, stack);
  ASSERT_TRUE(SendSnapshots(*server, task_id, 0, all, start_time + 20).ok()) << server->Log();
  ASSERT_EQ(server->Stop(SIGTERM), std::optional<int>(0)) << server->Log();
  std::vector<int32_t> resent = StoredSequences("seg-1");
  ASSERT_EQ(resent.size(), static_cast<size_t>(kBatch + kInProgress));
  for (int i = 0; i < kBatch + kInProgress; ++i) EXPECT_EQ(resent[i], i);
}

}  // namespace
}  // namespace stackhouse::testing
