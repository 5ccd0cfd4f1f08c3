// The exports and the diff end to end against the real binary: profiles are sent over gRPC as
// agents and Rover send them, downloaded over HTTP, and read back by real consumers (`go tool
// pprof -raw`, speedscope's published JSON schema through Node.js, a folded-stack parser); their
// totals are compared with the trees that SkyWalking's GraphQL queries return for the same
// selection. Needs `go` (Debian golang-go) and Node.js with `npm ci` run in tests/export/js:
// without them the tests fail, they never skip.
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ebpf/profiling/Profile.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "integration/server_process.h"
#include "model/ids.h"
#include "nlohmann/json.hpp"
#include "profile/Profile.grpc.pb.h"
#include "storage/test_dir.h"

namespace stackhouse::testing {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using json = nlohmann::json;
namespace v3 = skywalking::v3;

// The output and exit code of a shell command (stderr included).
std::pair<int, std::string> RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// The absolute path of `program` on PATH, or "" (the caller fails the test).
std::string Which(const std::string& program) {
  auto [rc, out] = RunCommand("command -v " + program);
  return rc == 0 ? std::string(absl::StripAsciiWhitespace(out)) : "";
}

// One stack of a sample: user frames and kernel frames, each root (outermost) first.
struct Stack {
  std::vector<std::string> user;
  std::vector<std::string> kernel;
};

struct OnCpuSample {
  Stack stack;
  int32_t dump_count;
};

struct OffCpuSample {
  Stack stack;
  int32_t switches;
  int64_t duration_ns;
};

// What a merged-tree element contributes to folded stacks and totals.
struct Element {
  int id;
  int parent_id;
  std::string name;  // as the folded output writes it
  int64_t values[2];
};

class ExportHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path() + "/data");
    ASSERT_TRUE(server_->Start()) << server_->Log();
    now_ = std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
    start_ = now_ - 60000;
  }

  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->Stop(SIGTERM), std::optional<int>(0)) << server_->Log();
    }
  }

  std::shared_ptr<grpc::Channel> Channel() const {
    return grpc::CreateChannel(server_->GrpcTarget(), grpc::InsecureChannelCredentials());
  }

  // Sends the dumps of one segment: stacks[i] is dumped at start + 10 × i, sequence i.
  void SendSnapshots(const std::string& segment_id,
                     const std::vector<std::vector<std::string>>& stacks) {
    auto stub = v3::ProfileTask::NewStub(Channel());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v3::Commands response;
    auto writer = stub->collectSnapshot(&context, &response);
    for (size_t i = 0; i < stacks.size(); ++i) {
      v3::ThreadSnapshot snapshot;
      snapshot.set_taskid("task-trace");
      snapshot.set_tracesegmentid(segment_id);
      snapshot.set_sequence(static_cast<int32_t>(i));
      snapshot.set_time(start_ + static_cast<int64_t>(i) * 10);
      for (const std::string& frame : stacks[i])
        snapshot.mutable_stack()->add_codesignatures(frame);
      ASSERT_TRUE(writer->Write(snapshot));
    }
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  static void SetStacks(const Stack& stack,
                        google::protobuf::RepeatedPtrField<v3::EBPFProfilingStackMetadata>* out) {
    // Rover sends each stack innermost first.
    auto* user = out->Add();
    user->set_stacktype(v3::PROCESS_USER_SPACE);
    for (auto it = stack.user.rbegin(); it != stack.user.rend(); ++it) user->add_stacksymbols(*it);
    if (stack.kernel.empty()) return;
    auto* kernel = out->Add();
    kernel->set_stacktype(v3::PROCESS_KERNEL_SPACE);
    for (auto it = stack.kernel.rbegin(); it != stack.kernel.rend(); ++it) {
      kernel->add_stacksymbols(*it);
    }
  }

  // One Rover upload of a schedule of `task` at `upload_ms`; returns the schedule id.
  template <typename Sample>
  std::string Upload(const std::string& task, int64_t upload_ms,
                     const std::vector<Sample>& samples) {
    auto stub = v3::EBPFProfilingService::NewStub(Channel());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v3::Commands response;
    auto writer = stub->collectProfilingData(&context, &response);
    bool first = true;
    for (const Sample& sample : samples) {
      v3::EBPFProfilingData data;
      if (first) {
        data.mutable_task()->set_taskid(task);
        data.mutable_task()->set_processid("proc-1");
        data.mutable_task()->set_profilingstarttime(start_);
        data.mutable_task()->set_currenttime(upload_ms);
        first = false;
      }
      if constexpr (std::is_same_v<Sample, OnCpuSample>) {
        SetStacks(sample.stack, data.mutable_oncpu()->mutable_stacks());
        data.mutable_oncpu()->set_dumpcount(sample.dump_count);
      } else {
        SetStacks(sample.stack, data.mutable_offcpu()->mutable_stacks());
        data.mutable_offcpu()->set_switchcount(sample.switches);
        data.mutable_offcpu()->set_duration(sample.duration_ns);
      }
      EXPECT_TRUE(writer->Write(data));
    }
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return model::EbpfScheduleId(task, "proc-1", start_);
  }

  // The trace data: two segments.
  void SeedTrace() {
    const std::vector<std::string> find = {"Thread.run", "Controller.get", "Repo.find"};
    const std::vector<std::string> get = {"Thread.run", "Controller.get"};
    // A JVM descriptor has ';' in it: the folded output must replace it.
    const std::vector<std::string> parse = {"Thread.run", "Codec.parse(Ljava/lang/String;)V"};
    SendSnapshots("seg-1", {find, find, find, find, get, get, parse, find, find});
    SendSnapshots("seg-2",
                  {{"Worker.loop", "Job.exec"}, {"Worker.loop", "Job.exec"}, {"Worker.loop"}});
  }

  // The eBPF data: an On-CPU schedule (two uploads) and an Off-CPU one.
  void SeedEbpf() {
    const Stack compute = {{"main", "work", "compute"}, {"entry_SYSCALL_64", "do_syscall_64"}};
    on_cpu_ =
        Upload<OnCpuSample>("task-on", start_ + 1000,
                            {{compute, 5}, {{{"main", "work"}, {}}, 3}, {{{"main", "gc"}, {}}, 2}});
    Upload<OnCpuSample>("task-on", start_ + 3000,
                        {{compute, 1}, {{{"main", "io"}, {"do_syscall_64", "vfs_read"}}, 4}});
    off_cpu_ = Upload<OffCpuSample>("task-off", start_ + 2000,
                                    {{{{"main", "io"}, {"schedule"}}, 3, 3'000'000},
                                     {{{"main", "lock"}, {"futex_wait"}}, 2, 7'000'000}});
  }

  // GET on the HTTP port, with the response headers.
  httplib::Result Get(const std::string& path) const {
    httplib::Client client("127.0.0.1", server_->http_port());
    client.set_read_timeout(30, 0);
    return client.Get(path.c_str());
  }

  std::string Save(const std::string& name, const std::string& content) const {
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  json Data(const std::string& query, const json& variables) const {
    auto [status, body] = server_->GraphQL(query, variables.dump());
    EXPECT_EQ(status, 200) << body;
    json parsed = json::parse(body);
    EXPECT_FALSE(parsed.contains("errors")) << body;
    return parsed["data"];
  }

  // getSegmentsProfileAnalyze's trees for `queries` ((segment, start, end) each), flattened:
  // values are count and duration in ns.
  std::vector<std::vector<Element>> TraceTrees(
      const std::vector<std::tuple<std::string, int64_t, int64_t>>& queries) const {
    json list = json::array();
    for (const auto& [segment, start, end] : queries) {
      list.push_back({{"segmentId", segment}, {"timeRange", {{"start", start}, {"end", end}}}});
    }
    json data = Data(
        "query($q: [SegmentProfileAnalyzeQuery!]!) { a: getSegmentsProfileAnalyze(queries: $q) "
        "{ trees { elements { id parentId codeSignature count duration } } } }",
        {{"q", list}});
    std::vector<std::vector<Element>> trees;
    for (const json& tree : data["a"]["trees"]) {
      std::vector<Element>& elements = trees.emplace_back();
      for (const json& e : tree["elements"]) {
        elements.push_back({std::stoi(e["id"].get<std::string>()),
                            std::stoi(e["parentId"].get<std::string>()),
                            e["codeSignature"].get<std::string>(),
                            {e["count"].get<int64_t>(), e["duration"].get<int64_t>() * 1000000}});
      }
    }
    return trees;
  }

  // analysisEBPFProfilingResult's trees, flattened (kernel frames named with "_[k]").
  std::vector<std::vector<Element>> EbpfTrees(const std::vector<std::string>& schedules,
                                              int64_t start, int64_t end,
                                              const std::string& aggregate) const {
    json data = Data(
        "query($s: [ID!]!, $r: [EBPFProfilingAnalyzeTimeRange!]!, "
        "$a: EBPFProfilingAnalyzeAggregateType) { a: analysisEBPFProfilingResult("
        "scheduleIdList: $s, timeRanges: $r, aggregateType: $a) "
        "{ trees { elements { id parentId symbol stackType dumpCount } } } }",
        {{"s", schedules}, {"r", {{{"start", start}, {"end", end}}}}, {"a", aggregate}});
    std::vector<std::vector<Element>> trees;
    for (const json& tree : data["a"]["trees"]) {
      std::vector<Element>& elements = trees.emplace_back();
      for (const json& e : tree["elements"]) {
        const bool kernel = e["stackType"] == "KERNEL_SPACE";
        elements.push_back({std::stoi(e["id"].get<std::string>()),
                            std::stoi(e["parentId"].get<std::string>()),
                            e["symbol"].get<std::string>() + (kernel ? "_[k]" : ""),
                            {e["dumpCount"].get<int64_t>(), 0}});
      }
    }
    return trees;
  }

  // Σ over the roots of column `c`.
  static int64_t Total(const std::vector<std::vector<Element>>& trees, int c) {
    int64_t total = 0;
    for (const auto& tree : trees) total += tree.at(0).values[c];
    return total;
  }

  // Folded stacks from the GraphQL trees, computed independently of the exporter: each path
  // with its count minus its children's (';' in names replaced by ':').
  static std::map<std::string, int64_t> ExpectedFolded(
      const std::vector<std::vector<Element>>& trees) {
    std::map<std::string, int64_t> stacks;
    for (const auto& tree : trees) {
      std::map<int, std::string> path;
      std::map<int, int64_t> self;
      for (const Element& e : tree) {
        std::string name = e.name;
        std::replace(name.begin(), name.end(), ';', ':');
        path[e.id] = e.parent_id == 0 ? name : path[e.parent_id] + ";" + name;
        self[e.id] += e.values[0];
        if (e.parent_id != 0) self[e.parent_id] -= e.values[0];
      }
      for (const auto& [id, value] : self) {
        if (value != 0) stacks[path[id]] += value;
      }
    }
    return stacks;
  }

  static std::map<std::string, int64_t> ParseFolded(const std::string& text) {
    std::map<std::string, int64_t> stacks;
    for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
      const size_t space = line.rfind(' ');
      int64_t value = 0;
      EXPECT_TRUE(space != absl::string_view::npos &&
                  absl::SimpleAtoi(line.substr(space + 1), &value))
          << line;
      stacks[std::string(line.substr(0, space))] += value;
    }
    return stacks;
  }

  // `go tool pprof -raw` of a pprof file: the sample types ("samples/count", ...) and, per
  // type, the sum of the samples' values.
  std::pair<std::vector<std::string>, std::vector<int64_t>> PprofTotals(
      const std::string& path) const {
    const std::string go = Which("go");
    EXPECT_FALSE(go.empty()) << "go not found: install golang-go (scripts/install-deps.sh --test)";
    if (go.empty()) return {};
    auto [rc, out] = RunCommand(absl::StrCat(go, " tool pprof -raw ", path));
    EXPECT_EQ(rc, 0) << out;
    std::vector<std::string> lines = absl::StrSplit(out, '\n');
    auto samples = std::find(lines.begin(), lines.end(), "Samples:");
    EXPECT_NE(samples, lines.end()) << out;
    if (samples == lines.end() || samples + 1 == lines.end()) return {};
    std::vector<std::string> types = absl::StrSplit(*(samples + 1), ' ', absl::SkipEmpty());
    std::vector<int64_t> totals(types.size());
    for (auto it = samples + 2; it != lines.end() && absl::StartsWith(*it, " "); ++it) {
      // "        3   20000000: 1 2 3 "
      std::vector<std::string> values =
          absl::StrSplit(it->substr(0, it->find(':')), ' ', absl::SkipEmpty());
      EXPECT_EQ(values.size(), types.size()) << *it;
      for (size_t i = 0; i < values.size() && i < totals.size(); ++i) {
        int64_t v = 0;
        EXPECT_TRUE(absl::SimpleAtoi(values[i], &v)) << *it;
        totals[i] += v;
      }
    }
    return {types, totals};
  }

  // Validates speedscope files with the published schema (tests/export/js).
  void ValidateSpeedscope(const std::string& path) const {
    const std::string node = Which("node");
    ASSERT_FALSE(node.empty())
        << "node not found: install Node.js (scripts/install-deps.sh --test)";
    const std::string js = EXPORT_JS_DIR;
    ASSERT_TRUE(std::ifstream(js + "/node_modules/speedscope/package.json").good())
        << "speedscope is not installed: run `npm ci` in " << js;
    auto [rc, out] = RunCommand(absl::StrCat(node, " ", js, "/validate_speedscope.mjs ", path));
    EXPECT_EQ(rc, 0) << out;
  }

  // Σ of the weights of each profile of a speedscope file.
  static std::vector<int64_t> SpeedscopeTotals(const std::string& text) {
    std::vector<int64_t> totals;
    json file = json::parse(text);
    for (const json& profile : file["profiles"]) {
      int64_t total = 0;
      for (const json& w : profile["weights"]) total += w.get<int64_t>();
      EXPECT_EQ(profile["endValue"].get<int64_t>(), total);
      totals.push_back(total);
    }
    return totals;
  }

  // GETs an export, checks the download headers, returns the body.
  std::string Download(const std::string& path, const std::string& content_type,
                       const std::string& filename) const {
    httplib::Result result = Get(path);
    EXPECT_TRUE(result) << path;
    if (!result) return "";
    EXPECT_EQ(result->status, 200) << path << ": " << result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"), content_type) << path;
    EXPECT_EQ(result->get_header_value("Content-Disposition"),
              "attachment; filename=\"" + filename + "\"")
        << path;
    // Streamed, not sent as one pre-built body.
    EXPECT_EQ(result->get_header_value("Transfer-Encoding"), "chunked") << path;
    return result->body;
  }

  TestDir dir_;
  std::unique_ptr<ServerProcess> server_;
  int64_t now_ = 0;
  int64_t start_ = 0;
  std::string on_cpu_;
  std::string off_cpu_;
};

TEST_F(ExportHttpTest, TraceExportsAreReadByRealConsumers) {
  SeedTrace();
  // Two queries: seg-1 from its 3rd dump on, all of seg-2.
  const std::string query = absl::StrCat("segmentId=seg-1&start=", start_ + 20, "&end=", now_,
                                         "&segmentId=seg-2&start=", start_, "&end=", now_);
  const auto trees = TraceTrees({{"seg-1", start_ + 20, now_}, {"seg-2", start_, now_}});
  ASSERT_EQ(trees.size(), 2u);
  const int64_t samples = Total(trees, 0);
  const int64_t wall = Total(trees, 1);
  EXPECT_EQ(samples, 10);
  EXPECT_GT(wall, 0);

  const std::string pprof = Download("/export/trace?format=pprof&" + query,
                                     "application/octet-stream", "stackhouse-trace.pb.gz");
  auto [types, totals] = PprofTotals(Save("trace.pb.gz", pprof));
  EXPECT_EQ(types, (std::vector<std::string>{"samples/count", "wall/nanoseconds"}));
  EXPECT_EQ(totals, (std::vector<int64_t>{samples, wall}));

  const std::string folded = Download("/export/trace?format=folded&" + query,
                                      "text/plain; charset=utf-8", "stackhouse-trace.folded");
  EXPECT_EQ(ParseFolded(folded), ExpectedFolded(trees));
  EXPECT_THAT(folded, HasSubstr("Thread.run;Codec.parse(Ljava/lang/String:)V 1\n"));

  const std::string speedscope = Download("/export/trace?format=speedscope&" + query,
                                          "application/json", "stackhouse-trace.speedscope.json");
  ValidateSpeedscope(Save("trace.speedscope.json", speedscope));
  EXPECT_EQ(SpeedscopeTotals(speedscope), (std::vector<int64_t>{samples, wall}));
}

TEST_F(ExportHttpTest, EbpfExportsAreReadByRealConsumers) {
  SeedEbpf();
  const std::string range = absl::StrCat("&start=", start_, "&end=", now_);

  // On-CPU: dump counts.
  const auto on_trees = EbpfTrees({on_cpu_}, start_, now_, "COUNT");
  const int64_t on_total = Total(on_trees, 0);
  EXPECT_EQ(on_total, 15);
  const std::string on_query = "scheduleId=" + on_cpu_ + range;
  const std::string pprof = Download("/export/ebpf?format=pprof&" + on_query,
                                     "application/octet-stream", "stackhouse-ebpf.pb.gz");
  auto [types, totals] = PprofTotals(Save("on.pb.gz", pprof));
  EXPECT_EQ(types, (std::vector<std::string>{"samples/count"}));
  EXPECT_EQ(totals, (std::vector<int64_t>{on_total}));
  const std::string folded = Download("/export/ebpf?format=folded&" + on_query,
                                      "text/plain; charset=utf-8", "stackhouse-ebpf.folded");
  EXPECT_EQ(ParseFolded(folded), ExpectedFolded(on_trees));
  EXPECT_THAT(folded, HasSubstr("main;work;compute;entry_SYSCALL_64_[k];do_syscall_64_[k] 6\n"));
  const std::string speedscope = Download("/export/ebpf?format=speedscope&" + on_query,
                                          "application/json", "stackhouse-ebpf.speedscope.json");
  ValidateSpeedscope(Save("on.speedscope.json", speedscope));
  EXPECT_EQ(SpeedscopeTotals(speedscope), (std::vector<int64_t>{on_total}));

  // Off-CPU by duration: nanoseconds.
  const auto off_trees = EbpfTrees({off_cpu_}, start_, now_, "DURATION");
  EXPECT_EQ(Total(off_trees, 0), 10'000'000);
  const std::string off_query = "scheduleId=" + off_cpu_ + range;
  auto [off_types, off_totals] = PprofTotals(
      Save("off.pb.gz", Download("/export/ebpf?format=pprof&aggregateType=DURATION&" + off_query,
                                 "application/octet-stream", "stackhouse-ebpf.pb.gz")));
  EXPECT_EQ(off_types, (std::vector<std::string>{"off_cpu/nanoseconds"}));
  EXPECT_EQ(off_totals, (std::vector<int64_t>{Total(off_trees, 0)}));
  const std::string off_speedscope =
      Download("/export/ebpf?format=speedscope&aggregateType=DURATION&" + off_query,
               "application/json", "stackhouse-ebpf.speedscope.json");
  ValidateSpeedscope(Save("off.speedscope.json", off_speedscope));
  EXPECT_EQ(json::parse(off_speedscope)["profiles"][0]["unit"], "nanoseconds");

  // Off-CPU by count (the default aggregate type): context switches.
  auto [switch_types, switch_totals] = PprofTotals(
      Save("switches.pb.gz", Download("/export/ebpf?format=pprof&" + off_query,
                                      "application/octet-stream", "stackhouse-ebpf.pb.gz")));
  EXPECT_EQ(switch_types, (std::vector<std::string>{"switches/count"}));
  EXPECT_EQ(switch_totals, (std::vector<int64_t>{5}));
}

TEST_F(ExportHttpTest, BadRequestsGetClearErrors) {
  SeedTrace();
  SeedEbpf();
  const std::string range = absl::StrCat("&start=", start_, "&end=", now_);
  auto expect = [this](const std::string& path, int status, const std::string& message) {
    httplib::Result result = Get(path);
    ASSERT_TRUE(result) << path;
    EXPECT_EQ(result->status, status) << path << ": " << result->body;
    EXPECT_THAT(result->body, HasSubstr(message)) << path;
    EXPECT_EQ(result->get_header_value("Content-Type"), "text/plain; charset=utf-8") << path;
  };
  expect("/export/trace?format=svg&segmentId=seg-1" + range, 400,
         "unknown format \"svg\"; use one of: pprof, folded, speedscope");
  expect("/export/ebpf?scheduleId=" + on_cpu_ + range, 400, "missing parameter format");
  expect("/export/trace?format=pprof" + range, 400, "missing parameter segmentId");
  expect("/export/trace?format=pprof&segmentId=seg-1&segmentId=seg-2" + range, 400,
         "each segmentId needs its own start and end: got 2 segmentId, 1 start, 1 end");
  expect("/export/trace?format=pprof&segmentId=seg-1&start=10&end=5", 400,
         "time range start 10 is after its end 5");
  expect("/export/trace?format=pprof&segmentId=seg-1&start=soon&end=5", 400,
         "parameter start must be an integer (milliseconds), got \"soon\"");
  expect("/export/trace?format=folded&segmentId=nope" + range, 404,
         "no profiling data for segment nope");
  expect(absl::StrCat("/export/trace?format=folded&segmentId=seg-1&start=", now_ + 1000,
                      "&end=", now_ + 2000),
         404, "no profiling data for segment seg-1 in the given time ranges");
  expect("/export/ebpf?format=pprof" + range, 400, "missing parameter scheduleId");
  expect("/export/ebpf?format=pprof&scheduleId=" + on_cpu_, 400,
         "each time range needs a start and an end");
  expect("/export/ebpf?format=pprof&scheduleId=nope" + range, 404,
         "no profiling data for schedule nope");
  expect("/export/ebpf?format=pprof&scheduleId=" + on_cpu_ + "&start=0&end=1000", 404,
         "no profiling data for schedule " + on_cpu_ + " in the given time ranges");
  expect("/export/ebpf?format=pprof&aggregateType=SUM&scheduleId=" + on_cpu_ + range, 400,
         "unknown aggregateType \"SUM\"; use COUNT or DURATION");
  expect("/export/ebpf?format=pprof&scheduleId=" + on_cpu_ + "&scheduleId=" + off_cpu_ + range, 400,
         "mix ON_CPU and OFF_CPU");
  httplib::Client client("127.0.0.1", server_->http_port());
  httplib::Result post = client.Post("/export/trace?format=pprof", "", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET");
}

TEST_F(ExportHttpTest, DiffComparesTwoSelectionsOfTheSameKind) {
  SeedTrace();
  SeedEbpf();
  const std::string diff_query =
      "query($b: StackhouseProfileSelection!, $c: StackhouseProfileSelection!) { "
      "d: stackhouseDiff(baseline: $b, comparison: $c) { unit baselineTotal comparisonTotal "
      "nodes { id parentId name stackType baselineValue comparisonValue baselineShare "
      "comparisonShare shareDelta baselineSelf comparisonSelf } "
      "topGains { id name } topLosses { id name } } }";
  auto ebpf = [](const std::string& schedule, int64_t start, int64_t end) {
    return json{
        {"ebpf",
         {{"scheduleIdList", {schedule}}, {"timeRanges", {{{"start", start}, {"end", end}}}}}}};
  };
  // The first upload against the second.
  json d = Data(diff_query, {{"b", ebpf(on_cpu_, start_, start_ + 1500)},
                             {"c", ebpf(on_cpu_, start_ + 2500, now_)}})["d"];
  EXPECT_EQ(d["unit"], "samples");
  EXPECT_EQ(d["baselineTotal"], 10);
  EXPECT_EQ(d["comparisonTotal"], 5);
  ASSERT_GE(d["nodes"].size(), 1u);
  const json& root = d["nodes"][0];
  EXPECT_EQ(root["id"], "1");
  EXPECT_EQ(root["parentId"], "0");
  EXPECT_EQ(root["name"], "main");
  EXPECT_EQ(root["stackType"], "USER_SPACE");
  EXPECT_EQ(root["baselineValue"], 10);
  EXPECT_EQ(root["comparisonValue"], 5);
  EXPECT_EQ(root["shareDelta"], 0.0);
  // io (only in the comparison, via vfs_read) gains most; work's own samples lose most.
  ASSERT_GE(d["topGains"].size(), 1u);
  EXPECT_EQ(d["topGains"][0]["name"], "vfs_read");
  ASSERT_GE(d["topLosses"].size(), 1u);
  EXPECT_EQ(d["topLosses"][0]["name"], "work");

  // Trace against trace: counts, no stack types.
  json trace = {
      {"trace",
       {{"queries",
         {{{"segmentId", "seg-1"}, {"timeRange", {{"start", start_}, {"end", now_}}}}}}}}};
  json t = Data(diff_query, {{"b", trace}, {"c", trace}})["d"];
  EXPECT_EQ(t["unit"], "samples");
  EXPECT_EQ(t["baselineTotal"], 9);
  EXPECT_TRUE(t["nodes"][0]["stackType"].is_null());
  EXPECT_TRUE(t["topGains"].empty());

  auto error = [&](const json& b, const json& c) {
    auto [status, body] = server_->GraphQL(diff_query, json{{"b", b}, {"c", c}}.dump());
    EXPECT_EQ(status, 200) << body;
    json parsed = json::parse(body);
    return parsed["errors"].size() == 1 ? parsed["errors"][0]["message"].get<std::string>() : body;
  };
  // The engine reports a resolver's error as OAP does: "Exception while fetching data (/d) : ...".
  EXPECT_THAT(
      error(trace, ebpf(on_cpu_, start_, now_)),
      EndsWith(": cannot diff a trace/samples profile against a eBPF ON_CPU/samples profile"));
  json off = ebpf(off_cpu_, start_, now_);
  off["ebpf"]["aggregateType"] = "DURATION";
  EXPECT_THAT(error(ebpf(off_cpu_, start_, now_), off),
              EndsWith(": cannot diff a eBPF OFF_CPU/switches profile against a eBPF "
                       "OFF_CPU/nanoseconds profile"));
  json both = trace;
  both["ebpf"] = ebpf(on_cpu_, start_, now_)["ebpf"];
  EXPECT_THAT(error(both, trace), EndsWith(": a selection needs exactly one of trace or ebpf"));
  EXPECT_THAT(error(json::object(), trace),
              EndsWith(": a selection needs exactly one of trace or ebpf"));
  EXPECT_THAT(error(trace, ebpf("nope", start_, now_)),
              EndsWith(": no profiling data for schedule nope"));
}

}  // namespace
}  // namespace stackhouse::testing
