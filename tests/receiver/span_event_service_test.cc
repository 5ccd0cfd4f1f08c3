// SpanAttachedEventReportService in process: events stored by trace, caps, bad messages.
#include "receiver/span_event_service.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "receiver/raw_stream_client.h"
#include "storage/rocks_span_event_store.h"
#include "storage/test_dir.h"

namespace stackhouse::receiver {
namespace {

namespace v3 = skywalking::v3;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1700000000000;

class SpanEventServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DatabaseOptions options;
    options.data_dir = dir_.path();
    auto db = storage::Database::Open(options, &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    store_ = std::make_unique<storage::RocksSpanEventStore>(db_.get(), &clock_);
    events_ = std::make_unique<service::SpanEventIngest>(store_.get(), &metrics_);
    handler_ = std::make_unique<SpanEventHandler>(&auth_, events_.get());
    service_ = std::make_unique<SpanEventGrpcService>(handler_.get(), &streams_);
    grpc::ServerBuilder builder;
    builder.SetMaxReceiveMessageSize(64 << 20);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v3::SpanAttachedEventReportService::NewStub(
        server_->InProcessChannel(grpc::ChannelArguments()));
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  grpc::Status Collect(const std::vector<v3::SpanAttachedEvent>& events) {
    grpc::ClientContext context;
    v3::Commands response;
    auto writer = stub_->collect(&context, &response);
    for (const auto& e : events) writer->Write(e);
    writer->WritesDone();
    return writer->Finish();
  }

  std::vector<model::SpanAttachedEvent> Stored(const std::string& trace) {
    auto events = store_->ListByTrace(trace, 100);
    EXPECT_TRUE(events.ok()) << events.status();
    return events.ok() ? *events : std::vector<model::SpanAttachedEvent>{};
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kNow};
  AuthGuard auth_{""};
  MetricsRegistry metrics_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::RocksSpanEventStore> store_;
  std::unique_ptr<service::SpanEventIngest> events_;
  std::unique_ptr<SpanEventHandler> handler_;
  StreamRuntime streams_{StreamRuntime::Options{}, &clock_, &metrics_};
  std::unique_ptr<SpanEventGrpcService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v3::SpanAttachedEventReportService::Stub> stub_;
};

v3::SpanAttachedEvent Event(const std::string& name, int64_t seconds, int32_t nanos,
                            const std::string& trace) {
  v3::SpanAttachedEvent e;
  e.set_event(name);
  e.mutable_starttime()->set_seconds(seconds);
  e.mutable_starttime()->set_nanos(nanos);
  e.mutable_endtime()->set_seconds(seconds + 1);
  auto* tag = e.add_tags();
  tag->set_key("data_type");
  tag->set_value("request");
  auto* summary = e.add_summary();
  summary->set_key("bytes");
  summary->set_value(42);
  e.mutable_tracecontext()->set_traceid(trace);
  e.mutable_tracecontext()->set_tracesegmentid("seg");
  e.mutable_tracecontext()->set_spanid("1");
  return e;
}

TEST_F(SpanEventServiceTest, EventsAreStoredByTraceInStartOrder) {
  v3::SpanAttachedEvent zipkin = Event("z", 5, 0, "t1");
  zipkin.mutable_tracecontext()->set_type(v3::SpanAttachedEvent::ZIPKIN);
  zipkin.mutable_tracecontext()->set_spanid("a1b2");
  v3::SpanAttachedEvent untraced = Event("none", 1, 0, "");
  ASSERT_TRUE(Collect({Event("late", 10, 5, "t1"), Event("early", 10, 4, "t1"),
                       Event("other", 1, 0, "t2"), zipkin, untraced, Event("late", 10, 5, "t1")})
                  .ok());
  auto t1 = Stored("t1");
  ASSERT_EQ(t1.size(), 4u);
  EXPECT_EQ(t1[0].event, "z");
  EXPECT_TRUE(t1[0].zipkin);
  EXPECT_EQ(t1[0].span_id, "a1b2");
  EXPECT_EQ(t1[1].event, "early");
  EXPECT_EQ(t1[1].start_nanos, 4);
  EXPECT_EQ(t1[2].event, "late");
  EXPECT_EQ(t1[3].event, "late");  // sent twice, stored twice
  EXPECT_FALSE(t1[1].zipkin);
  EXPECT_EQ(t1[1].end_seconds, 11);
  EXPECT_EQ(t1[1].segment_id, "seg");
  EXPECT_EQ(t1[1].span_id, "1");
  EXPECT_EQ(t1[1].tags,
            (std::vector<std::pair<std::string, std::string>>{{"data_type", "request"}}));
  EXPECT_EQ(t1[1].summary, (std::vector<std::pair<std::string, int64_t>>{{"bytes", 42}}));
  EXPECT_EQ(Stored("t2").size(), 1u);
  EXPECT_EQ(store_->ListByTrace("t1", 2)->size(), 2u);
  EXPECT_TRUE(Stored("").empty());
}

TEST_F(SpanEventServiceTest, AnOversizedEventIsRefusedAndNothingElseIsLost) {
  v3::SpanAttachedEvent huge = Event("huge", 3, 0, "t1");
  huge.mutable_tags(0)->set_value(std::string(50 << 20, 'x'));  // a 50 MiB body
  v3::SpanAttachedEvent tagged = Event("tagged", 4, 0, "t1");
  for (int i = 0; i < SpanEventHandler::kMaxTags; ++i) *tagged.add_tags() = tagged.tags(0);
  grpc::Status status =
      Collect({Event("before", 1, 0, "t1"), huge, tagged, Event("after", 5, 0, "t1")});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("collect: message 1 is an attached event of 52428"));  // 50 MiB and a few
  EXPECT_THAT(status.error_message(), HasSubstr("over the 4194304 bytes one may take"));
  EXPECT_THAT(status.error_message(), HasSubstr("the other events were"));
  auto stored = Stored("t1");
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].event, "before");
  EXPECT_EQ(stored[1].event, "after");
}

TEST_F(SpanEventServiceTest, AnUnreadableMessageKeepsTheEventsBeforeIt) {
  auto channel = server_->InProcessChannel(grpc::ChannelArguments());
  grpc::Status status = testing::SendRawStream(
      channel.get(), "/skywalking.v3.SpanAttachedEventReportService/collect",
      {testing::Bytes(Event("first", 1, 0, "t1")), testing::UnparsableMessage(),
       testing::Bytes(Event("never read", 2, 0, "t1"))});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("message 1 cannot be parsed"));
  EXPECT_EQ(Stored("t1").size(), 1u);
}

}  // namespace
}  // namespace stackhouse::receiver
