#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "logging/Logging.grpc.pb.h"
#include "metrics/meter_analyzer.h"
#include "model/ids.h"
#include "receiver/receiver_server.h"

namespace stackhouse::receiver {
namespace {

namespace v3 = skywalking::v3;
using ::testing::HasSubstr;
using testing::ReceiverServer;

class LogServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = server_.RegisterRoverProcess("MESH", "svc", "pod", "app");
    ASSERT_FALSE(app_.empty());
    remote_ = model::ProcessId("UNKNOWN_REMOTE", model::InstanceId(model::ServiceId("svc"), "pod"));
  }

  v3::LogData Sampled(const std::string& reason, int latency, const std::string& trace_id,
                      const std::string& client = "") const {
    v3::LogData log;
    log.set_service("svc");
    log.set_serviceinstance("pod");
    log.set_timestamp(ReceiverServer::kNow - 1000);
    log.set_layer("MESH");
    log.mutable_tracecontext()->set_traceid(trace_id);
    auto* tag = log.mutable_tags()->add_data();
    tag->set_key("LOG_KIND");
    tag->set_value("NET_PROFILING_SAMPLED_TRACE");
    log.mutable_body()->mutable_json()->set_json(
        "{\"uri\":\"/orders\",\"reason\":\"" + reason +
        "\",\"latency\":" + std::to_string(latency) + ",\"client_process\":{\"process_id\":\"" +
        (client.empty() ? app_ : client) +
        "\"},\"server_process\":{\"local\":false,\"address\":\"10.0.0.1:80\"},"
        "\"detect_point\":\"client\",\"component\":\"http\",\"ssl\":false}");
    return log;
  }

  grpc::Status Collect(const std::vector<v3::LogData>& logs) {
    auto stub = v3::LogReportService::NewStub(server_.channel_shared());
    grpc::ClientContext context;
    v3::Commands response;
    auto writer = stub->collect(&context, &response);
    for (const auto& l : logs) writer->Write(l);
    writer->WritesDone();
    return writer->Finish();
  }

  std::vector<metrics::SampledRecord> Top(const char* record, int limit = 10) {
    auto top = server_.metric_store().TopRecords(record, model::ProcessRelationId(app_, remote_),
                                                 ReceiverServer::kNow - 3600000,
                                                 ReceiverServer::kNow + 60000, limit, false);
    EXPECT_TRUE(top.ok()) << top.status();
    return top.ok() ? *top : std::vector<metrics::SampledRecord>{};
  }

  ReceiverServer server_;
  std::string app_, remote_;
};

TEST_F(LogServiceTest, SampledRequestsBecomeRecordsByReasonSlowestFirst) {
  v3::LogData plain;  // a language agent's log: dropped, counted
  plain.set_service("svc");
  plain.mutable_body()->mutable_text()->set_text("hello");
  ASSERT_TRUE(Collect({Sampled("slow", 120, "t1"), Sampled("slow", 900, "t2"),
                       Sampled("status_5xx", 30, "t3"), plain, Sampled("slow", 50, "")})
                  .ok());
  auto slow = Top("sampled_slow_trace_record");
  ASSERT_EQ(slow.size(), 2u);
  EXPECT_EQ(slow[0].trace_id, "t2");
  EXPECT_EQ(slow[0].latency_ms, 900);
  EXPECT_EQ(slow[0].uri, "/orders");
  EXPECT_EQ(slow[1].trace_id, "t1");
  EXPECT_EQ(Top("sampled_slow_trace_record", 1).size(), 1u);
  ASSERT_EQ(Top("sampled_status_5xx_trace_record").size(), 1u);
  EXPECT_TRUE(Top("sampled_status_4xx_trace_record").empty());
  // The peer is registered and the call is a relation row of the instance (http, client side).
  EXPECT_TRUE(server_.ebpf().HasProcess(remote_));
  auto relations = server_.metric_store().ReadRelations(
      model::InstanceId(model::ServiceId("svc"), "pod"), 0, INT64_MAX);
  ASSERT_TRUE(relations.ok());
  ASSERT_EQ(relations->size(), 1u);
  EXPECT_EQ((*relations)[0].component_id, 49);
  const std::string metrics = server_.metrics().RenderPrometheus();
  EXPECT_THAT(metrics, HasSubstr("stackhouse_sampled_requests_total 4"));
  EXPECT_THAT(metrics, HasSubstr("stackhouse_sampled_requests_dropped_total 1"));  // no trace id
  EXPECT_THAT(metrics, HasSubstr("LogReportService/collect\"} 1"));
}

TEST_F(LogServiceTest, ABodyThatIsNotJsonEndsTheStreamKeepingWhatCameBefore) {
  v3::LogData bad = Sampled("slow", 10, "t9");
  bad.mutable_body()->mutable_json()->set_json("{not json");
  grpc::Status status = Collect({Sampled("slow", 100, "t1"), bad});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("collect: message 1 sampled-trace body is not JSON"));
  EXPECT_EQ(Top("sampled_slow_trace_record").size(), 1u);
}

TEST_F(LogServiceTest, RequestsNamingUnknownProcessesOrYearsAwayAreNotStored) {
  ASSERT_TRUE(Collect({Sampled("slow", 100, "t1", std::string(64, 'a'))}).ok());
  EXPECT_FALSE(server_.ebpf().HasProcess(remote_));
  v3::LogData future = Sampled("slow", 100, "t2");
  future.set_timestamp(ReceiverServer::kNow + 5LL * 365 * 24 * 3600 * 1000);
  grpc::Status status = Collect({future});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("ahead of the server's clock"));
  EXPECT_TRUE(Top("sampled_slow_trace_record").empty());
}

}  // namespace
}  // namespace stackhouse::receiver
