// Agents' record times are checked against the server's clock: a time outside the accepted
// window is refused (INVALID_ARGUMENT naming the message), counted in /metrics and logged at
// most once per agent and minute, and can no longer expire, hide or immortalise data.
#include "receiver/agent_time_guard.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "common/logging.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "model/ids.h"
#include "perftools/profile.pb.h"
#include "receiver/receiver_server.h"
#include "spdlog/sinks/ringbuffer_sink.h"

namespace stackhouse::receiver {
namespace {

namespace v3 = skywalking::v3;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::OneSampleGoProfile;
using testing::ReceiverServer;

constexpr int64_t kNow = ReceiverServer::kNow;
constexpr int64_t kMinute = 60'000;
constexpr int64_t kDay = 24 * 60 * kMinute;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kYear3000 = 32503680000000;

// Captures what the receiver logger writes while it lives.
class CapturedLog {
 public:
  CapturedLog() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100)) {
    GetLogger("receiver")->sinks().push_back(sink_);
  }
  ~CapturedLog() {
    auto& sinks = GetLogger("receiver")->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  size_t lines() const { return sink_->last_formatted().size(); }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

uint64_t Refused(MetricsRegistry& metrics, const std::string& kind, const std::string& direction) {
  return metrics
      .GetCounter("stackhouse_agent_time_refused_total", "",
                  {{"kind", kind}, {"direction", direction}})
      ->Value();
}

class AgentTimeGuardTest : public ::testing::Test {
 protected:
  SimulatedClock clock_{kNow};
  MetricsRegistry metrics_;
  AgentTimeGuard guard_{&clock_, AgentTimeGuard::Window{10 * kMinute, 3 * kDay}, &metrics_};
};

TEST_F(AgentTimeGuardTest, AcceptsTheWindowAndRefusesBeyondItWithoutOverflow) {
  EXPECT_TRUE(guard_.Check("snapshot", kNow, "a").ok());
  EXPECT_TRUE(guard_.Check("snapshot", kNow + 10 * kMinute, "a").ok());
  EXPECT_TRUE(guard_.Check("snapshot", kNow - 3 * kDay, "a").ok());
  for (int64_t time : {kNow + 10 * kMinute + 1, kYear3000, kMax}) {
    absl::Status s = guard_.Check("snapshot", time, "a");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << time;
    EXPECT_THAT(std::string(s.message()), HasSubstr("ahead of the server's clock")) << time;
  }
  for (int64_t time : {kNow - 3 * kDay - 1, int64_t{0}, int64_t{-1}, kMin}) {
    absl::Status s = guard_.Check("snapshot", time, "a");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << time;
    EXPECT_THAT(std::string(s.message()), HasSubstr("behind the server's clock")) << time;
  }
  EXPECT_EQ(std::string(guard_.Check("segment", kMax, "a").message()),
            "has time 9223372036854775807 ms, 9223370336854775807 ms ahead of the server's clock "
            "(accepted: 259200000 ms behind to 600000 ms ahead)");
  EXPECT_EQ(Refused(metrics_, "snapshot", "future"), 3u);
  EXPECT_EQ(Refused(metrics_, "snapshot", "past"), 4u);
  EXPECT_EQ(Refused(metrics_, "segment", "future"), 1u);
}

TEST_F(AgentTimeGuardTest, LogsAtMostOncePerAgentAndMinute) {
  CapturedLog log;
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(guard_.Check("snapshot", kMax, "agent-a").ok());
  EXPECT_EQ(log.lines(), 1u);
  EXPECT_FALSE(guard_.Check("ebpf_upload", 0, "agent-b").ok());
  EXPECT_EQ(log.lines(), 2u);
  clock_.AdvanceMillis(kMinute);
  EXPECT_FALSE(guard_.Check("snapshot", kMax, "agent-a").ok());
  EXPECT_FALSE(guard_.Check("snapshot", kMax, "agent-a").ok());
  EXPECT_EQ(log.lines(), 3u);
}

TEST(PeerHostTest, DropsThePort) {
  EXPECT_EQ(PeerHost("ipv4:10.0.0.1:5000"), "ipv4:10.0.0.1");
  EXPECT_EQ(PeerHost("ipv6:[::1]:5000"), "ipv6:[::1]");
  EXPECT_EQ(PeerHost("ipv4:10.0.0.1"), "ipv4:10.0.0.1");
  EXPECT_EQ(PeerHost("inproc"), "inproc");
}

// The receivers, end to end: every place an agent's time enters is checked.
class AgentTimesTest : public ::testing::Test {
 protected:
  grpc::Status SendSnapshots(const std::vector<v3::ThreadSnapshot>& snapshots) {
    auto stub = v3::ProfileTask::NewStub(server_.channel_shared());
    grpc::ClientContext context;
    v3::Commands response;
    auto writer = stub->collectSnapshot(&context, &response);
    for (const auto& s : snapshots) {
      if (!writer->Write(s)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  ReceiverServer server_;
};

v3::ThreadSnapshot Snapshot(const std::string& segment, int sequence, int64_t time) {
  v3::ThreadSnapshot s;
  s.set_taskid("task-1");
  s.set_tracesegmentid(segment);
  s.set_sequence(sequence);
  s.set_time(time);
  s.mutable_stack()->add_codesignatures("java.lang.Thread.run");
  s.mutable_stack()->add_codesignatures("com.example.Shared.work");
  return s;
}

// The defect: agent B's dump stamped INT64_MAX, on a stack agent A also uses, re-stamped the
// shared dictionary entry so that its expiry overflowed and A's profile lost its frames.
TEST_F(AgentTimesTest, AThreadDumpStampedAtTheEndOfTimeIsRefusedAndHurtsNoOne) {
  ASSERT_TRUE(SendSnapshots({Snapshot("seg-a", 0, kNow)}).ok());
  server_.clock().AdvanceMillis(kDay);  // the shared entry is due for a refresh
  grpc::Status status = SendSnapshots(
      {Snapshot("seg-b", 0, server_.clock().NowMillis()), Snapshot("seg-b", 1, kMax)});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("collectSnapshot: message 1 has time 9223372036854775807 ms"));
  EXPECT_THAT(status.error_message(), HasSubstr("; the message before it was stored"));
  EXPECT_THAT(server_.DumpSequences("seg-b"), ElementsAre(0));

  std::vector<storage::StoredDump> dumps;
  ASSERT_TRUE(server_.profiles()
                  .ScanDumps("seg-a", [&](const storage::StoredDump& d) { dumps.push_back(d); })
                  .ok());
  ASSERT_EQ(dumps.size(), 1u);
  auto stack = server_.profiles().GetStack(dumps[0].stack_id);
  ASSERT_TRUE(stack.ok()) << stack.status();
  EXPECT_THAT(*stack, ElementsAre("java.lang.Thread.run", "com.example.Shared.work"));
  EXPECT_EQ(Refused(server_.metrics(), "snapshot", "future"), 1u);
}

// Dumps stamped 0 or negative were acknowledged and never visible; year-3000 ones never expired.
TEST_F(AgentTimesTest, DumpsStampedZeroNegativeOrInTheYear3000AreRefused) {
  for (int64_t time : {int64_t{0}, int64_t{-5}, kYear3000}) {
    grpc::Status status = SendSnapshots({Snapshot("seg-z", 0, time)});
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << time;
    EXPECT_THAT(status.error_message(), HasSubstr("; no message before it was stored")) << time;
  }
  EXPECT_TRUE(server_.DumpSequences("seg-z").empty());
  EXPECT_EQ(Refused(server_.metrics(), "snapshot", "past"), 2u);
  EXPECT_EQ(Refused(server_.metrics(), "snapshot", "future"), 1u);
}

v3::SegmentObject Segment(const std::string& id, int64_t start) {
  v3::SegmentObject segment;
  segment.set_traceid("trace-1");
  segment.set_tracesegmentid(id);
  segment.set_service("svc");
  segment.set_serviceinstance("pod-1");
  auto* span = segment.add_spans();
  span->set_spanid(0);
  span->set_parentspanid(-1);
  span->set_starttime(start);
  span->set_endtime(start + 10);
  span->set_spantype(v3::Entry);
  return segment;
}

TEST_F(AgentTimesTest, SegmentsOutsideTheWindowAreRefused) {
  auto stub = v3::TraceSegmentReportService::NewStub(server_.channel_shared());
  {
    grpc::ClientContext context;
    v3::Commands response;
    auto writer = stub->collect(&context, &response);
    ASSERT_TRUE(writer->Write(Segment("seg-ok", kNow)));
    ASSERT_TRUE(writer->Write(Segment("seg-3000", kYear3000)));
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("collect: message 1 has time 32503680000000"));
  }
  EXPECT_TRUE(server_.HasSegment("seg-ok"));
  EXPECT_FALSE(server_.HasSegment("seg-3000"));
  {
    grpc::ClientContext context;
    v3::SegmentCollection collection;
    *collection.add_segments() = Segment("seg-sync", kNow);
    *collection.add_segments() = Segment("seg-old", 0);
    v3::Commands response;
    grpc::Status status = stub->collectInSync(&context, collection, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(),
                HasSubstr("collectInSync: segment 1 has time 0 ms, 1700000000000 ms behind"));
  }
  EXPECT_FALSE(server_.HasSegment("seg-sync"));
  EXPECT_EQ(Refused(server_.metrics(), "segment", "future"), 1u);
  EXPECT_EQ(Refused(server_.metrics(), "segment", "past"), 1u);
}

v3::EBPFProfilingData OnCpuWithTask(int64_t start, int64_t current) {
  v3::EBPFProfilingData m;
  m.mutable_task()->set_taskid("task-1");
  m.mutable_task()->set_processid("proc-a");
  m.mutable_task()->set_profilingstarttime(start);
  m.mutable_task()->set_currenttime(current);
  auto* stack = m.mutable_oncpu()->add_stacks();
  stack->set_stacktype(v3::PROCESS_USER_SPACE);
  stack->add_stacksymbols("leaf");
  m.mutable_oncpu()->set_dumpcount(1);
  return m;
}

TEST_F(AgentTimesTest, EbpfUploadsAndSchedulesOutsideTheWindowAreRefused) {
  auto stub = v3::EBPFProfilingService::NewStub(server_.channel_shared());
  auto send = [&](const v3::EBPFProfilingData& m) {
    grpc::ClientContext context;
    v3::Commands response;
    auto writer = stub->collectProfilingData(&context, &response);
    writer->Write(m);
    writer->WritesDone();
    return writer->Finish();
  };
  grpc::Status upload = send(OnCpuWithTask(kNow - kMinute, kMax));
  EXPECT_EQ(upload.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(upload.error_message(),
              HasSubstr("collectProfilingData: message 0 (task.currentTime) has time"));
  grpc::Status schedule = send(OnCpuWithTask(-1, kNow));
  EXPECT_EQ(schedule.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(schedule.error_message(), HasSubstr("(task.profilingStartTime) has time -1 ms"));
  EXPECT_TRUE(server_.Samples(model::EbpfScheduleId("task-1", "proc-a", kNow - kMinute)).empty());
  EXPECT_TRUE(server_.Samples(model::EbpfScheduleId("task-1", "proc-a", -1)).empty());
  auto stored =
      server_.ebpf_store().GetSchedule(model::EbpfScheduleId("task-1", "proc-a", kNow - kMinute));
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value());
  EXPECT_EQ(Refused(server_.metrics(), "ebpf_upload", "future"), 1u);
  EXPECT_EQ(Refused(server_.metrics(), "ebpf_schedule", "past"), 1u);
}

TEST_F(AgentTimesTest, GoProfilesOutsideTheWindowAreRefused) {
  // The year 2262, the furthest a pprof time reaches.
  v3::GoProfileData data = OneSampleGoProfile("seg-go", kMax);

  auto stub = v3::ProfileTask::NewStub(server_.channel_shared());
  grpc::ClientContext context;
  v3::Commands response;
  auto writer = stub->goProfileReport(&context, &response);
  writer->Write(data);
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("goProfileReport: message 0 (the last chunk of task task-go's profile) "
                        "has time 9223372036854 ms"));
  auto profiles = server_.profiles().ListGoProfiles("seg-go");
  ASSERT_TRUE(profiles.ok());
  EXPECT_TRUE(profiles->empty());
  EXPECT_EQ(Refused(server_.metrics(), "go_profile", "future"), 1u);
}

}  // namespace
}  // namespace stackhouse::receiver
