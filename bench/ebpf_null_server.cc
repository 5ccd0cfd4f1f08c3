// ebpf_null_server: the do-nothing baseline of the eBPF, meter and thread-dump ingest
// benchmarks (bench/ingest_bench.sh). Serves `skywalking.v3.EBPFProfilingService`,
// `skywalking.v3.MeterReportService` and `skywalking.v3.ProfileTask` from the same generated
// code (sh_proto) and with the same gRPC settings as Stackhouse (sync server, 50 MiB max receive
// size, gRPC's default polling threads): `collectProfilingData`, `collect`, `collectBatch` and
// `collectSnapshot` parse and discard every message and answer an empty Commands, the unary
// calls answer an empty Commands. Prints "listening on <host>:<port>" on stdout once ready, then
// `messages=N streams=M meter_samples=S meter_streams=T snapshots=D snapshot_streams=E` at exit
// (SIGINT/SIGTERM).
//
//   ebpf_null_server [--address 127.0.0.1:0] [--threads 0]
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "ebpf/profiling/Profile.grpc.pb.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "language-agent/Meter.grpc.pb.h"
#include "profile/Profile.grpc.pb.h"

namespace {

// Stackhouse's default core.maxMessageSize (OAP's SW_CORE_GRPC_MAX_MESSAGE_SIZE).
constexpr int kMaxMessageSize = 52'428'800;

std::atomic<bool> stop_requested{false};

void OnStopSignal(int) { stop_requested.store(true); }

class NullProfilingService final : public skywalking::v3::EBPFProfilingService::Service {
 public:
  grpc::Status queryTasks(grpc::ServerContext* /*context*/,
                          const skywalking::v3::EBPFProfilingTaskQuery* /*request*/,
                          skywalking::v3::Commands* /*response*/) override {
    return grpc::Status::OK;
  }

  grpc::Status collectProfilingData(grpc::ServerContext* context,
                                    grpc::ServerReader<skywalking::v3::EBPFProfilingData>* reader,
                                    skywalking::v3::Commands* /*response*/) override {
    skywalking::v3::EBPFProfilingData message;
    int64_t count = 0;
    while (reader->Read(&message)) ++count;
    messages_.fetch_add(count, std::memory_order_relaxed);
    streams_.fetch_add(1, std::memory_order_relaxed);
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
    return grpc::Status::OK;
  }

  int64_t messages() const { return messages_.load(); }
  int64_t streams() const { return streams_.load(); }

 private:
  std::atomic<int64_t> messages_{0};
  std::atomic<int64_t> streams_{0};
};

// Counts the samples (MeterData elements) it reads and drops them.
class NullMeterService final : public skywalking::v3::MeterReportService::Service {
 public:
  grpc::Status collect(grpc::ServerContext* context,
                       grpc::ServerReader<skywalking::v3::MeterData>* reader,
                       skywalking::v3::Commands* /*response*/) override {
    skywalking::v3::MeterData message;
    int64_t count = 0;
    while (reader->Read(&message)) ++count;
    return Done(context, count);
  }

  grpc::Status collectBatch(grpc::ServerContext* context,
                            grpc::ServerReader<skywalking::v3::MeterDataCollection>* reader,
                            skywalking::v3::Commands* /*response*/) override {
    skywalking::v3::MeterDataCollection message;
    int64_t count = 0;
    while (reader->Read(&message)) count += message.meterdata_size();
    return Done(context, count);
  }

  int64_t samples() const { return samples_.load(); }
  int64_t streams() const { return streams_.load(); }

 private:
  grpc::Status Done(grpc::ServerContext* context, int64_t count) {
    samples_.fetch_add(count, std::memory_order_relaxed);
    streams_.fetch_add(1, std::memory_order_relaxed);
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
    return grpc::Status::OK;
  }

  std::atomic<int64_t> samples_{0};
  std::atomic<int64_t> streams_{0};
};

// Counts the thread dumps (ThreadSnapshot messages) it reads and drops them.
class NullProfileTaskService final : public skywalking::v3::ProfileTask::Service {
 public:
  grpc::Status getProfileTaskCommands(grpc::ServerContext* /*context*/,
                                      const skywalking::v3::ProfileTaskCommandQuery* /*request*/,
                                      skywalking::v3::Commands* /*response*/) override {
    return grpc::Status::OK;
  }

  grpc::Status collectSnapshot(grpc::ServerContext* context,
                               grpc::ServerReader<skywalking::v3::ThreadSnapshot>* reader,
                               skywalking::v3::Commands* /*response*/) override {
    skywalking::v3::ThreadSnapshot message;
    int64_t count = 0;
    while (reader->Read(&message)) ++count;
    snapshots_.fetch_add(count, std::memory_order_relaxed);
    streams_.fetch_add(1, std::memory_order_relaxed);
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
    return grpc::Status::OK;
  }

  int64_t snapshots() const { return snapshots_.load(); }
  int64_t streams() const { return streams_.load(); }

 private:
  std::atomic<int64_t> snapshots_{0};
  std::atomic<int64_t> streams_{0};
};

}  // namespace

int main(int argc, char** argv) {
  std::string address = "127.0.0.1:0";
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--address" && i + 1 < argc) {
      address = argv[++i];
    } else if (arg == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: ebpf_null_server [--address host:port] [--threads N]\n"
                   "  --threads: gRPC sync-server MAX_POLLERS; 0 = gRPC's default (as "
                   "Stackhouse's gRPCThreadPoolSize: 0)\n");
      return 2;
    }
  }
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  NullProfilingService service;
  NullMeterService meters;
  NullProfileTaskService profiles;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(kMaxMessageSize);
  if (threads > 0) {
    builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, threads);
  }
  builder.RegisterService(&service);
  builder.RegisterService(&meters);
  builder.RegisterService(&profiles);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "ebpf_null_server: cannot listen on %s\n", address.c_str());
    return 1;
  }
  std::string host = address.substr(0, address.rfind(':'));
  std::printf("listening on %s:%d\n", host.c_str(), port);
  std::fflush(stdout);

  while (!stop_requested.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server->Wait();
  std::printf(
      "messages=%lld streams=%lld meter_samples=%lld meter_streams=%lld snapshots=%lld "
      "snapshot_streams=%lld\n",
      static_cast<long long>(service.messages()), static_cast<long long>(service.streams()),
      static_cast<long long>(meters.samples()), static_cast<long long>(meters.streams()),
      static_cast<long long>(profiles.snapshots()), static_cast<long long>(profiles.streams()));
  return 0;
}
