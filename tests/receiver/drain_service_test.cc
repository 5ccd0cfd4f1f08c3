// DrainGrpcService in process: the agent services Stackhouse does not implement are answered OK
// with an empty message and counted, other unknown methods get UNIMPLEMENTED, the token is checked.
#include "receiver/drain_service.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "ebpf/accesslog.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "logging/Logging.grpc.pb.h"

namespace stackhouse::receiver {
namespace {

namespace v3 = skywalking::v3;

class DrainServiceTest : public ::testing::Test {
 protected:
  void Start(std::string token) {
    auth_ = std::make_unique<AuthGuard>(std::move(token));
    streams_ = std::make_unique<StreamRuntime>(stream_options_, &clock_, &metrics_);
    drain_ = std::make_unique<DrainGrpcService>(auth_.get(), &metrics_, streams_.get());
    grpc::ServerBuilder builder;
    builder.RegisterCallbackGenericService(drain_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  // One unary call of `method` with `request` bytes; returns the status, the response in `out`.
  grpc::Status Unary(const std::string& method, const std::string& request, std::string* out,
                     const std::string& token = "") {
    grpc::GenericStub stub(channel_);
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authentication", token);
    grpc::Slice slice(request);
    grpc::ByteBuffer req(&slice, 1), resp;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, method, grpc::StubOptions(), &req, &resp,
                   [&done](grpc::Status s) { done.set_value(std::move(s)); });
    grpc::Status status = done.get_future().get();
    std::vector<grpc::Slice> slices;
    out->clear();
    if (status.ok() && resp.Dump(&slices).ok()) {
      for (const auto& s : slices) out->append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    return status;
  }

  std::string Metrics() const { return metrics_.RenderPrometheus(); }

  MetricsRegistry metrics_;
  SimulatedClock clock_{1700000000000};
  StreamRuntime::Options stream_options_;
  std::unique_ptr<StreamRuntime> streams_;
  std::unique_ptr<AuthGuard> auth_;
  std::unique_ptr<DrainGrpcService> drain_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(DrainServiceTest, EventStreamOfAClientIsAcceptedAndCounted) {
  Start("");
  // EventService.collect is a client stream; any message bytes do (they are never parsed).
  grpc::ClientContext context;
  v3::Commands response;
  std::unique_ptr<grpc::ClientWriter<v3::LogData>> writer(
      grpc::internal::ClientWriterFactory<v3::LogData>::Create(
          channel_.get(),
          grpc::internal::RpcMethod("/skywalking.v3.EventService/collect",
                                    grpc::internal::RpcMethod::CLIENT_STREAMING),
          &context, &response));
  for (int i = 0; i < 3; ++i) {
    v3::LogData data;
    data.set_service("svc");
    data.set_serviceinstance("inst");
    data.set_timestamp(i);
    ASSERT_TRUE(writer->Write(data));
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.commands_size(), 0);
  EXPECT_NE(Metrics().find("stackhouse_agent_messages_dropped_total{method=\"/skywalking.v3."
                           "EventService/collect\"} 3"),
            std::string::npos)
      << Metrics();
}

// Rover with its access-log module on streams EBPFAccessLogMessages; they are dropped, and the
// empty answer reads as the EBPFAccessLogDownstream Rover expects.
TEST_F(DrainServiceTest, RoversAccessLogsAreAcceptedAndCounted) {
  Start("");
  auto stub = v3::EBPFAccessLogService::NewStub(channel_);
  grpc::ClientContext context;
  v3::EBPFAccessLogDownstream response;
  auto writer = stub->collect(&context, &response);
  v3::EBPFAccessLogMessage message;
  message.mutable_node()->set_name("node-1");
  message.mutable_connection()->set_role(v3::server);
  ASSERT_TRUE(writer->Write(message));
  message.clear_node();
  ASSERT_TRUE(writer->Write(message));
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_NE(Metrics().find("stackhouse_agent_messages_dropped_total{method=\"/skywalking.v3."
                           "EBPFAccessLogService/collect\"} 2"),
            std::string::npos)
      << Metrics();
}

TEST_F(DrainServiceTest, UnaryServicesOfTheAgentsAnswerAnEmptyMessage) {
  Start("");
  for (const char* method : {"/skywalking.v3.JVMMetricReportService/collect",
                             "/skywalking.v3.CLRMetricReportService/collect",
                             "/skywalking.v3.ConfigurationDiscoveryService/fetchConfigurations",
                             "/skywalking.v10.AsyncProfilerTask/getAsyncProfilerTaskCommands",
                             "/skywalking.v10.PprofTask/getPprofTaskCommands"}) {
    std::string out = "not cleared";
    // The bytes are never parsed: even a malformed message is dropped without an error.
    grpc::Status status = Unary(method, "\xff\xff\xff", &out);
    EXPECT_TRUE(status.ok()) << method << ": " << status.error_message();
    EXPECT_EQ(out, "") << method;
  }
  EXPECT_NE(Metrics().find("{method=\"/skywalking.v3.JVMMetricReportService/collect\"} 1"),
            std::string::npos);
}

TEST_F(DrainServiceTest, OtherMethodsAreUnimplementedAndNotCounted) {
  Start("");
  std::string out;
  for (const char* method : {"/skywalking.v3.BrowserPerfService/collectPerfData",
                             "/skywalking.v3.JVMMetricReportService/", "/nothing"}) {
    grpc::Status status = Unary(method, "", &out);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << method;
    EXPECT_NE(status.error_message().find(method), std::string::npos) << status.error_message();
  }
  EXPECT_EQ(Metrics().find("stackhouse_agent_messages_dropped_total"), std::string::npos);
}

TEST_F(DrainServiceTest, TokenIsChecked) {
  Start("secret");
  std::string out;
  EXPECT_EQ(Unary("/skywalking.v3.EventService/collect", "", &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Unary("/skywalking.v3.EventService/collect", "", &out, "wrong").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Unary("/skywalking.v3.EventService/collect", "", &out, "secret").ok());
}

TEST_F(DrainServiceTest, DrainedStreamsCountTowardsTheCapAndEndWhenIdle) {
  stream_options_.max_streams = 1;
  stream_options_.idle_timeout_ms = 1000;
  Start("");
  grpc::ClientContext context;
  v3::Commands response;
  std::unique_ptr<grpc::ClientWriter<v3::LogData>> writer(
      grpc::internal::ClientWriterFactory<v3::LogData>::Create(
          channel_.get(),
          grpc::internal::RpcMethod("/skywalking.v3.EventService/collect",
                                    grpc::internal::RpcMethod::CLIENT_STREAMING),
          &context, &response));
  ASSERT_TRUE(writer->Write(v3::LogData()));
  while (streams_->open_streams() != 1) std::this_thread::sleep_for(std::chrono::milliseconds(2));

  std::string out;
  grpc::Status refused = Unary("/skywalking.v3.EventService/collect", "", &out);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused.error_message(),
            "/skywalking.v3.EventService/collect: Stackhouse already serves 1 agent streams, its "
            "limit (core.gRPCMaxConcurrentStreams); retry later");

  // The open one sends nothing more: the simulated clock moves until the sweeper ends it.
  std::atomic<bool> ended{false};
  std::thread clock([&] {
    while (!ended.load()) {
      clock_.AdvanceMillis(1000);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  grpc::Status status = writer->Finish();
  ended.store(true);
  clock.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(status.error_message(),
            "/skywalking.v3.EventService/collect: message 1 did not come within 1 s "
            "(core.gRPCStreamIdleTimeout), so the stream was ended; Stackhouse drops this "
            "service's messages");
}

TEST(DrainServiceDrains, ServicePrefixesOnly) {
  EXPECT_TRUE(DrainGrpcService::Drains("/skywalking.v3.EventService/collect"));
  EXPECT_FALSE(
      DrainGrpcService::Drains("/skywalking.v3.LogReportService/collect"));  // LogGrpcService
  EXPECT_FALSE(
      DrainGrpcService::Drains("/MeterReportService/collect"));  // served: MeterGrpcService
  EXPECT_FALSE(DrainGrpcService::Drains("/skywalking.v3.EventServiceX/collect"));
  EXPECT_FALSE(DrainGrpcService::Drains("/skywalking.v3.ProfileTask/collectSnapshot"));
  EXPECT_FALSE(DrainGrpcService::Drains(""));
}

}  // namespace
}  // namespace stackhouse::receiver
