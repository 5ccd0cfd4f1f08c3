// The agents' client streams hold no thread each (gRPC's callback API over StreamRuntime's
// workers): thousands stay open in a bounded number of threads while a unary call answers;
// beyond core.gRPCMaxConcurrentStreams a stream is refused with RESOURCE_EXHAUSTED; a stream
// silent for core.gRPCStreamIdleTimeout is ended with DEADLINE_EXCEEDED, keeping what it sent.
#include "receiver/stream_runtime.h"

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/support/client_callback.h"
#include "gtest/gtest.h"
#include "model/ids.h"
#include "receiver/receiver_server.h"

namespace stackhouse::receiver {
namespace {

namespace v3 = skywalking::v3;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ReceiverServer;

v3::ThreadSnapshot Snapshot(const std::string& segment) {
  v3::ThreadSnapshot s;
  s.set_taskid("task-1");
  s.set_tracesegmentid(segment);
  s.set_sequence(0);
  s.set_time(ReceiverServer::kNow);
  s.mutable_stack()->add_codesignatures("main");
  return s;
}

// The number of threads of this process (/proc/self/status), or -1.
int ProcessThreads() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

// Waits until `done()` holds (the test's own timeout bounds a hang).
template <typename Done>
void WaitFor(Done done) {
  while (!done()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

// One client stream of `Message`s over the callback API: writes its messages, and half-closes
// when told. Thread-safe.
template <typename Message>
class StreamClient final : public grpc::ClientWriteReactor<Message> {
 public:
  // `start(context, response, reactor)` starts the call on a stub's async() interface.
  template <typename Start>
  StreamClient(Start start, std::vector<Message> messages) : messages_(std::move(messages)) {
    start(&context_, &response_, this);
    this->StartCall();
    if (messages_.empty()) {
      written_.Notify();
    } else {
      this->StartWrite(&messages_[0]);
    }
  }

  void OnWriteDone(bool ok) override {
    if (ok && ++next_ < messages_.size()) {
      this->StartWrite(&messages_[next_]);
      return;
    }
    written_.Notify();
  }
  void OnDone(const grpc::Status& status) override {
    status_ = status;
    done_.Notify();
  }

  void WaitWritten() { written_.WaitForNotification(); }
  void Close() { this->StartWritesDone(); }
  bool done() const { return done_.HasBeenNotified(); }
  grpc::Status Wait() {
    done_.WaitForNotification();
    return status_;
  }

 private:
  grpc::ClientContext context_;
  v3::Commands response_;
  std::vector<Message> messages_;
  size_t next_ = 0;
  absl::Notification written_;
  absl::Notification done_;
  grpc::Status status_;
};

using SnapshotClient = StreamClient<v3::ThreadSnapshot>;

std::unique_ptr<SnapshotClient> OpenSnapshots(v3::ProfileTask::Stub* stub,
                                              std::vector<v3::ThreadSnapshot> messages) {
  return std::make_unique<SnapshotClient>(
      [stub](grpc::ClientContext* context, v3::Commands* response, SnapshotClient* reactor) {
        stub->async()->collectSnapshot(context, response, reactor);
      },
      std::move(messages));
}

TEST(StreamRuntimeTest, ThousandsOfOpenStreamsHoldNoThreadEach) {
  ReceiverServer server;
  auto stub = v3::ProfileTask::NewStub(server.channel_shared());
  constexpr int kStreams = 2000;
  std::vector<std::unique_ptr<SnapshotClient>> clients;
  for (int i = 0; i < kStreams; ++i) {
    clients.push_back(OpenSnapshots(stub.get(), {Snapshot(absl::StrCat("seg-", i))}));
  }
  for (auto& client : clients) client->WaitWritten();
  WaitFor([&] { return server.streams().open_streams() == kStreams; });

  // Bounded threads: the sync server held one per open stream (2,000 here).
  EXPECT_LE(ProcessThreads(), 64);
  // A unary call answers while they are open.
  grpc::ClientContext context;
  v3::ProfileTaskCommandQuery query;
  query.set_service("svc");
  query.set_serviceinstance("pod-1");
  v3::Commands commands;
  EXPECT_TRUE(stub->getProfileTaskCommands(&context, query, &commands).ok());

  for (auto& client : clients) client->Close();
  for (auto& client : clients) ASSERT_TRUE(client->Wait().ok());
  for (int i = 0; i < kStreams; i += 97) {
    EXPECT_THAT(server.DumpSequences(absl::StrCat("seg-", i)), ElementsAre(0)) << i;
  }
  WaitFor([&] { return server.streams().open_streams() == 0; });
}

TEST(StreamRuntimeTest, StreamsBeyondTheCapAreRefused) {
  StreamRuntime::Options options;
  options.max_streams = 3;
  options.workers = 2;  // the streams' steps on a pool (core.gRPCStreamThreads) this time
  ReceiverServer server(options);
  auto stub = v3::ProfileTask::NewStub(server.channel_shared());
  std::vector<std::unique_ptr<SnapshotClient>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(OpenSnapshots(stub.get(), {Snapshot(absl::StrCat("seg-", i))}));
  }
  WaitFor([&] { return server.streams().open_streams() == 3; });

  auto refused = OpenSnapshots(stub.get(), {Snapshot("seg-refused")});
  grpc::Status status = refused->Wait();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status.error_message(),
            "collectSnapshot: Stackhouse already serves 3 agent streams, its limit "
            "(core.gRPCMaxConcurrentStreams); retry later");
  EXPECT_THAT(server.metrics().RenderPrometheus(),
              HasSubstr("stackhouse_grpc_streams_refused_total 1\n"));
  EXPECT_THAT(server.metrics().RenderPrometheus(), HasSubstr("stackhouse_grpc_streams_open 3\n"));

  // The open ones are served as before; once they are done there is room again.
  for (auto& client : open) client->Close();
  for (auto& client : open) EXPECT_TRUE(client->Wait().ok());
  EXPECT_THAT(server.DumpSequences("seg-0"), ElementsAre(0));
  EXPECT_TRUE(server.DumpSequences("seg-refused").empty());
  WaitFor([&] { return server.streams().open_streams() == 0; });
  auto later = OpenSnapshots(stub.get(), {Snapshot("seg-later")});
  later->WaitWritten();
  later->Close();
  EXPECT_TRUE(later->Wait().ok());
}

TEST(StreamRuntimeTest, AStreamThatSendsNothingIsEndedAtTheIdleTimeout) {
  StreamRuntime::Options options;
  options.idle_timeout_ms = 1000;
  ReceiverServer server(options);
  auto stub = v3::ProfileTask::NewStub(server.channel_shared());
  auto silent = OpenSnapshots(stub.get(), {});
  WaitFor([&] { return server.streams().open_streams() == 1; });
  // The simulated clock moves until the sweeper sees the stream idle for more than 1 s.
  while (!silent->done()) {
    server.clock().AdvanceMillis(1000);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  grpc::Status status = silent->Wait();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(status.error_message(),
            "collectSnapshot: message 0 did not come within 1 s (core.gRPCStreamIdleTimeout), "
            "so the stream was ended; no message before it was stored");
  EXPECT_THAT(server.metrics().RenderPrometheus(),
              HasSubstr("stackhouse_grpc_streams_idle_ended_total 1\n"));
  WaitFor([&] { return server.streams().open_streams() == 0; });
}

TEST(StreamRuntimeTest, AnIdleStreamKeepsWhatItSent) {
  StreamRuntime::Options options;
  options.idle_timeout_ms = 1000;
  ReceiverServer server(options);
  auto stub = v3::EBPFProfilingService::NewStub(server.channel_shared());
  v3::EBPFProfilingData data;
  data.mutable_task()->set_taskid("task-1");
  data.mutable_task()->set_processid("proc-a");
  data.mutable_task()->set_profilingstarttime(ReceiverServer::kNow - 1000);
  data.mutable_task()->set_currenttime(ReceiverServer::kNow);
  auto* stack = data.mutable_oncpu()->add_stacks();
  stack->set_stacktype(v3::PROCESS_USER_SPACE);
  stack->add_stacksymbols("main");
  data.mutable_oncpu()->set_dumpcount(3);
  using EbpfClient = StreamClient<v3::EBPFProfilingData>;
  EbpfClient client(
      [&stub](grpc::ClientContext* context, v3::Commands* response, EbpfClient* reactor) {
        stub->async()->collectProfilingData(context, response, reactor);
      },
      {data});
  const std::string schedule =
      model::EbpfScheduleId("task-1", "proc-a", ReceiverServer::kNow - 1000);
  // The first message has been handled once its schedule is stored (its sample is held).
  WaitFor([&] {
    auto stored = server.ebpf_store().GetSchedule(schedule);
    return stored.ok() && stored->has_value();
  });
  while (!client.done()) {
    server.clock().AdvanceMillis(1000);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  grpc::Status status = client.Wait();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(status.error_message(),
            "collectProfilingData: message 1 did not come within 1 s "
            "(core.gRPCStreamIdleTimeout), so the stream was ended; the message before it was "
            "stored");
  auto samples = server.Samples(schedule);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].dump_count, 3);
}

}  // namespace
}  // namespace stackhouse::receiver
