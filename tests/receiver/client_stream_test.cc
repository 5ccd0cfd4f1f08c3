// A client stream with an unreadable message ends with INVALID_ARGUMENT naming the message and
// what was kept (the messages before it), for every client-streaming RPC and both service
// names; gRPC's generated reader took such a message for the client's half-close and answered
// OK.
#include "receiver/client_stream.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/ids.h"
#include "perftools/profile.pb.h"
#include "receiver/raw_stream_client.h"
#include "receiver/receiver_server.h"

namespace stackhouse::receiver {
namespace {

namespace v3 = skywalking::v3;
using testing::Bytes;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::OneSampleGoProfile;
using testing::ReceiverServer;
using testing::SendRawStream;
using testing::UnparsableMessage;

v3::ThreadSnapshot Snapshot(const std::string& segment, int sequence) {
  v3::ThreadSnapshot s;
  s.set_taskid("task-1");
  s.set_tracesegmentid(segment);
  s.set_sequence(sequence);
  s.set_time(ReceiverServer::kNow + sequence);
  s.mutable_stack()->add_codesignatures("main");
  s.mutable_stack()->add_codesignatures("work");
  return s;
}

v3::SegmentObject Segment(const std::string& id) {
  v3::SegmentObject segment;
  segment.set_traceid("trace-1");
  segment.set_tracesegmentid(id);
  segment.set_service("svc");
  segment.set_serviceinstance("pod-1");
  auto* span = segment.add_spans();
  span->set_spanid(0);
  span->set_parentspanid(-1);
  span->set_starttime(ReceiverServer::kNow);
  span->set_endtime(ReceiverServer::kNow + 10);
  span->set_operationname("GET:/orders");
  span->set_spantype(v3::Entry);
  return segment;
}

v3::EBPFProfilingData OnCpu(bool with_task) {
  v3::EBPFProfilingData m;
  if (with_task) {
    m.mutable_task()->set_taskid("task-1");
    m.mutable_task()->set_processid("proc-a");
    m.mutable_task()->set_profilingstarttime(ReceiverServer::kNow - 1000);
    m.mutable_task()->set_currenttime(ReceiverServer::kNow);
  }
  auto* stack = m.mutable_oncpu()->add_stacks();
  stack->set_stacktype(v3::PROCESS_USER_SPACE);
  stack->add_stacksymbols("leaf");
  stack->add_stacksymbols("main");
  m.mutable_oncpu()->set_dumpcount(1);
  return m;
}

// A one-sample Go profile labelled with segment `segment`, sent as one last chunk.
v3::GoProfileData GoProfile(const std::string& segment) {
  return OneSampleGoProfile(segment, ReceiverServer::kNow * 1'000'000);
}

// The packaged and the package-less (compat) service names behave the same.
class ClientStreamTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string Path(const std::string& service, const std::string& method) const {
    return "/" + GetParam() + service + "/" + method;
  }

  ReceiverServer server_;
};

TEST_P(ClientStreamTest, CollectSnapshotRefusesAnUnreadableMessageAndKeepsThoseBefore) {
  grpc::Status status = SendRawStream(server_.channel(), Path("ProfileTask", "collectSnapshot"),
                                      {Bytes(Snapshot("seg-1", 0)), Bytes(Snapshot("seg-1", 1)),
                                       UnparsableMessage(), Bytes(Snapshot("seg-1", 3))});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "collectSnapshot: message 2 cannot be parsed as skywalking.v3.ThreadSnapshot; the 2 "
            "messages before it were stored");
  EXPECT_THAT(server_.DumpSequences("seg-1"), ElementsAre(0, 1));
}

TEST_P(ClientStreamTest, CollectSnapshotAnswersOkAfterAHalfClose) {
  grpc::Status status = SendRawStream(server_.channel(), Path("ProfileTask", "collectSnapshot"),
                                      {Bytes(Snapshot("seg-1", 0)), Bytes(Snapshot("seg-1", 1))});
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(server_.DumpSequences("seg-1"), ElementsAre(0, 1));
}

// The consumer parses each message into the last one's emptied stack: nothing of a message
// (frames, an unknown field) is left in the next.
TEST_P(ClientStreamTest, CollectSnapshotStoresEachMessagesOwnStack) {
  v3::ThreadSnapshot deep = Snapshot("seg-1", 0);
  deep.mutable_stack()->add_codesignatures("deeper");
  deep.mutable_stack()->add_codesignatures("deepest");
  std::string with_unknown = Bytes(Snapshot("seg-1", 1));
  with_unknown.append("\xa8\x06\x01");  // field 101, varint 1: unknown to this proto
  v3::ThreadSnapshot other = Snapshot("seg-1", 2);
  other.mutable_stack()->set_codesignatures(1, "rest");
  grpc::Status status =
      SendRawStream(server_.channel(), Path("ProfileTask", "collectSnapshot"),
                    {Bytes(deep), with_unknown, Bytes(other), Bytes(Snapshot("seg-1", 3))});
  EXPECT_TRUE(status.ok()) << status.error_message();
  using Frames = std::vector<std::string>;
  EXPECT_THAT(server_.DumpStacks("seg-1"),
              ElementsAre(Frames{"main", "work", "deeper", "deepest"}, Frames{"main", "work"},
                          Frames{"main", "rest"}, Frames{"main", "work"}));
}

// ProfileHandler's snapshot consumer empties the last message field by field (to keep the
// stack's strings for the next one): a field added to ThreadSnapshot or ThreadStack must be
// cleared there too, or it would carry over into the next message.
TEST(SnapshotConsumerTest, ClearsEveryFieldOfThreadSnapshot) {
  EXPECT_EQ(v3::ThreadSnapshot::descriptor()->field_count(), 5)
      << "update ProfileHandler::SnapshotConsumer::NextMessage";
  EXPECT_EQ(v3::ThreadStack::descriptor()->field_count(), 1)
      << "update ProfileHandler::SnapshotConsumer::NextMessage";
}

TEST_P(ClientStreamTest, SegmentCollectRefusesAnUnreadableMessageAndKeepsThoseBefore) {
  grpc::Status status =
      SendRawStream(server_.channel(), Path("TraceSegmentReportService", "collect"),
                    {Bytes(Segment("seg-a")), UnparsableMessage(), Bytes(Segment("seg-c"))});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "collect: message 1 cannot be parsed as skywalking.v3.SegmentObject; the message "
            "before it was stored");
  EXPECT_TRUE(server_.HasSegment("seg-a"));
  EXPECT_FALSE(server_.HasSegment("seg-c"));
}

INSTANTIATE_TEST_SUITE_P(ServiceNames, ClientStreamTest, ::testing::Values("skywalking.v3.", ""),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           return param.param.empty() ? std::string("Compat")
                                                      : std::string("Packaged");
                         });

class ClientStreamOnlyPackagedTest : public ::testing::Test {
 protected:
  ReceiverServer server_;
};

TEST_F(ClientStreamOnlyPackagedTest, CollectProfilingDataRefusesAnUnreadableMessage) {
  grpc::Status status = SendRawStream(
      server_.channel(), "/skywalking.v3.EBPFProfilingService/collectProfilingData",
      {Bytes(OnCpu(true)), Bytes(OnCpu(false)), UnparsableMessage(), Bytes(OnCpu(false))});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("collectProfilingData: message 2 cannot be parsed as "
                        "skywalking.v3.EBPFProfilingData; the 2 messages before it were stored"));
  EXPECT_EQ(server_.Samples(model::EbpfScheduleId("task-1", "proc-a", ReceiverServer::kNow - 1000))
                .size(),
            2u);
}

TEST_F(ClientStreamOnlyPackagedTest, GoProfileReportRefusesAnUnreadableMessage) {
  grpc::Status status =
      SendRawStream(server_.channel(), "/skywalking.v3.ProfileTask/goProfileReport",
                    {Bytes(GoProfile("seg-go")), UnparsableMessage()});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "goProfileReport: message 1 cannot be parsed as skywalking.v3.GoProfileData; 1 "
            "profile completed before it stored, the chunks of an unfinished one dropped");
  auto profiles = server_.profiles().ListGoProfiles("seg-go");
  ASSERT_TRUE(profiles.ok()) << profiles.status();
  EXPECT_EQ(profiles->size(), 1u);
}

// The compat ProfileTask service has no goProfileReport: it stays unimplemented.
TEST_F(ClientStreamOnlyPackagedTest, CompatProfileTaskHasNoGoProfileReport) {
  grpc::Status status = SendRawStream(server_.channel(), "/ProfileTask/goProfileReport",
                                      {Bytes(GoProfile("seg-go"))});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace stackhouse::receiver
