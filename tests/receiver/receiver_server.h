#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "config/config.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "perftools/profile.pb.h"
#include "profile/Profile.pb.h"
#include "receiver/agent_time_guard.h"
#include "receiver/continuous_profiling_service.h"
#include "receiver/ebpf_services.h"
#include "receiver/log_service.h"
#include "receiver/meter_service.h"
#include "receiver/profile_service.h"
#include "receiver/trace_segment_service.h"
#include "service/ebpf_service.h"
#include "service/meter_service.h"
#include "service/profile_task_service.h"
#include "service/registry.h"
#include "service/segment_ingest.h"
#include "service/trace_profile_ingest.h"
#include "storage/database.h"
#include "storage/rocks_continuous_policy_store.h"
#include "storage/rocks_ebpf_store.h"
#include "storage/rocks_metadata_store.h"
#include "storage/rocks_metric_store.h"
#include "storage/rocks_profile_store.h"
#include "storage/rocks_segment_store.h"
#include "storage/test_dir.h"

namespace stackhouse::testing {

// The agent-facing streaming services (trace profiling, segments and their compat twins,
// eBPF profiling) over real stores in a temporary directory, on a simulated clock, with the
// default AgentTimeGuard window (10 minutes ahead, 3 days behind), served in process. Not
// thread-safe.
class ReceiverServer {
 public:
  static constexpr int64_t kNow = 1700000000000;

  // `streams`: how the client streams are served (cap, idle timeout, workers).
  explicit ReceiverServer(const receiver::StreamRuntime::Options& streams = {}) {
    streams_ = std::make_unique<receiver::StreamRuntime>(streams, &clock_, &metrics_);
    storage::DatabaseOptions options;
    options.data_dir = dir_.path();
    auto db = storage::Database::Open(options, &clock_);
    EXPECT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    profiles_ = std::make_unique<storage::RocksProfileStore>(db_.get(), &clock_);
    segments_ = std::make_unique<storage::RocksSegmentStore>(db_.get());
    metadata_ = std::make_unique<storage::RocksMetadataStore>(db_.get(), &clock_);
    ebpf_store_ = std::make_unique<storage::RocksEbpfStore>(db_.get(), &clock_);
    auto tasks = service::ProfileTaskService::Create(profiles_.get(), &clock_);
    EXPECT_TRUE(tasks.ok()) << tasks.status();
    tasks_ = std::move(*tasks);
    auto ebpf = service::EbpfService::Create(ebpf_store_.get(), metadata_.get(), &clock_, {});
    EXPECT_TRUE(ebpf.ok()) << ebpf.status();
    ebpf_ = std::move(*ebpf);
    continuous_store_ = std::make_unique<storage::RocksContinuousPolicyStore>(db_.get());
    auto continuous = service::ContinuousService::Create(continuous_store_.get(), ebpf_.get(),
                                                         metadata_.get(), &clock_, {});
    EXPECT_TRUE(continuous.ok()) << continuous.status();
    continuous_ = std::move(*continuous);
    auto metric_store = storage::RocksMetricStore::Open(db_.get(), absl::UTCTimeZone());
    EXPECT_TRUE(metric_store.ok()) << metric_store.status();
    metric_store_ = std::move(*metric_store);
    meters_ = std::make_unique<service::MeterService>(metric_store_.get(), ebpf_.get(),
                                                      metadata_.get(), &clock_);
    times_ = std::make_unique<receiver::AgentTimeGuard>(&clock_, receiver::AgentTimeGuard::Window{},
                                                        &metrics_);
    registry_ = std::make_unique<service::Registry>(metadata_.get(), model::NameLimits{});
    segment_ingest_ = std::make_unique<service::SegmentIngest>(segments_.get(), registry_.get());
    trace_profile_ingest_ = std::make_unique<service::TraceProfileIngest>(profiles_.get());
    profile_handler_ = std::make_unique<receiver::ProfileHandler>(
        &auth_, times_.get(), tasks_.get(), trace_profile_ingest_.get(), &clock_);
    segment_handler_ = std::make_unique<receiver::TraceSegmentHandler>(&auth_, times_.get(),
                                                                       segment_ingest_.get());
    profile_ =
        std::make_unique<receiver::ProfileGrpcService>(profile_handler_.get(), streams_.get());
    profile_compat_ = std::make_unique<receiver::ProfileCompatGrpcService>(profile_handler_.get(),
                                                                           streams_.get());
    segment_ =
        std::make_unique<receiver::TraceSegmentGrpcService>(segment_handler_.get(), streams_.get());
    segment_compat_ = std::make_unique<receiver::TraceSegmentCompatGrpcService>(
        segment_handler_.get(), streams_.get());
    ebpf_profiling_ = std::make_unique<receiver::EbpfProfilingGrpcService>(
        &auth_, times_.get(), ebpf_.get(), streams_.get());
    continuous_profiling_ =
        std::make_unique<receiver::ContinuousProfilingGrpcService>(&auth_, continuous_.get());
    meter_handler_ =
        std::make_unique<receiver::MeterHandler>(&auth_, times_.get(), meters_.get(), &metrics_);
    meter_ = std::make_unique<receiver::MeterGrpcService>(meter_handler_.get(), streams_.get());
    meter_compat_ =
        std::make_unique<receiver::MeterCompatGrpcService>(meter_handler_.get(), streams_.get());
    log_handler_ = std::make_unique<receiver::LogHandler>(&auth_, times_.get(), meters_.get(),
                                                          &clock_, &metrics_);
    log_ = std::make_unique<receiver::LogGrpcService>(log_handler_.get(), streams_.get());
    grpc::ServerBuilder builder;
    builder.RegisterService(log_.get());
    builder.RegisterService(meter_.get());
    builder.RegisterService(meter_compat_.get());
    builder.RegisterService(profile_.get());
    builder.RegisterService(profile_compat_.get());
    builder.RegisterService(segment_.get());
    builder.RegisterService(segment_compat_.get());
    builder.RegisterService(ebpf_profiling_.get());
    builder.RegisterService(continuous_profiling_.get());
    server_ = builder.BuildAndStart();
    EXPECT_NE(server_, nullptr);
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
  }

  ~ReceiverServer() { server_->Shutdown(); }

  grpc::Channel* channel() { return channel_.get(); }
  std::shared_ptr<grpc::Channel> channel_shared() { return channel_; }
  SimulatedClock& clock() { return clock_; }
  MetricsRegistry& metrics() { return metrics_; }
  receiver::StreamRuntime& streams() { return *streams_; }
  storage::RocksProfileStore& profiles() { return *profiles_; }
  storage::RocksSegmentStore& segments() { return *segments_; }
  storage::RocksEbpfStore& ebpf_store() { return *ebpf_store_; }
  storage::RocksMetricStore& metric_store() { return *metric_store_; }
  service::EbpfService& ebpf() { return *ebpf_; }

  // Registers a Kubernetes process as Rover `rover-1` does; its id, or "" (with a failure).
  std::string RegisterRoverProcess(const std::string& layer, const std::string& service,
                                   const std::string& instance, const std::string& name) {
    service::ReportedProcess p;
    p.detect_type = model::DetectType::kKubernetes;
    p.layer = layer;
    p.service_name = service;
    p.instance_name = instance;
    p.process_name = name;
    auto ids = ebpf_->ReportProcesses("rover-1", {p});
    EXPECT_TRUE(ids.ok()) << ids.status();
    return ids.ok() && ids->size() == 1 ? (*ids)[0] : "";
  }
  service::ContinuousService& continuous() { return *continuous_; }

  // The sequences of the stored dumps of `segment_id`.
  std::vector<int32_t> DumpSequences(const std::string& segment_id) {
    std::vector<int32_t> sequences;
    EXPECT_TRUE(
        profiles_
            ->ScanDumps(segment_id,
                        [&](const storage::StoredDump& d) { sequences.push_back(d.sequence); })
            .ok());
    return sequences;
  }

  // The frames of each stored dump of `segment_id`, in sequence order.
  std::vector<std::vector<std::string>> DumpStacks(const std::string& segment_id) {
    std::vector<std::vector<std::string>> stacks;
    EXPECT_TRUE(profiles_
                    ->ScanDumps(segment_id,
                                [&](const storage::StoredDump& d) {
                                  auto stack = profiles_->GetStack(d.stack_id);
                                  EXPECT_TRUE(stack.ok()) << stack.status();
                                  stacks.push_back(stack.ok() ? *stack
                                                              : std::vector<std::string>{});
                                })
                    .ok());
    return stacks;
  }

  // True if segment `segment_id` is stored.
  bool HasSegment(const std::string& segment_id) {
    auto segment = segments_->GetSegment(segment_id);
    EXPECT_TRUE(segment.ok()) << segment.status();
    return segment.ok() && segment->has_value();
  }

  // The stored samples of `schedule_id`.
  std::vector<storage::StoredEbpfSample> Samples(const std::string& schedule_id) {
    std::vector<storage::StoredEbpfSample> out;
    EXPECT_TRUE(ebpf_store_
                    ->ScanSamples(schedule_id, 0, kNow * 2,
                                  [&](const storage::StoredEbpfSample& s) { out.push_back(s); })
                    .ok());
    return out;
  }

 private:
  TestDir dir_;
  SimulatedClock clock_{kNow};
  receiver::AuthGuard auth_{""};
  MetricsRegistry metrics_;
  std::unique_ptr<receiver::AgentTimeGuard> times_;
  std::unique_ptr<receiver::StreamRuntime> streams_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::RocksProfileStore> profiles_;
  std::unique_ptr<storage::RocksSegmentStore> segments_;
  std::unique_ptr<storage::RocksMetadataStore> metadata_;
  std::unique_ptr<storage::RocksEbpfStore> ebpf_store_;
  std::unique_ptr<service::Registry> registry_;
  std::unique_ptr<service::SegmentIngest> segment_ingest_;
  std::unique_ptr<service::TraceProfileIngest> trace_profile_ingest_;
  std::unique_ptr<service::ProfileTaskService> tasks_;
  std::unique_ptr<service::EbpfService> ebpf_;
  std::unique_ptr<storage::RocksContinuousPolicyStore> continuous_store_;
  std::unique_ptr<service::ContinuousService> continuous_;
  std::unique_ptr<storage::RocksMetricStore> metric_store_;
  std::unique_ptr<service::MeterService> meters_;
  std::unique_ptr<receiver::MeterHandler> meter_handler_;
  std::unique_ptr<receiver::MeterGrpcService> meter_;
  std::unique_ptr<receiver::MeterCompatGrpcService> meter_compat_;
  std::unique_ptr<receiver::LogHandler> log_handler_;
  std::unique_ptr<receiver::LogGrpcService> log_;
  std::unique_ptr<receiver::ProfileHandler> profile_handler_;
  std::unique_ptr<receiver::TraceSegmentHandler> segment_handler_;
  std::unique_ptr<receiver::ProfileGrpcService> profile_;
  std::unique_ptr<receiver::ProfileCompatGrpcService> profile_compat_;
  std::unique_ptr<receiver::TraceSegmentGrpcService> segment_;
  std::unique_ptr<receiver::TraceSegmentCompatGrpcService> segment_compat_;
  std::unique_ptr<receiver::EbpfProfilingGrpcService> ebpf_profiling_;
  std::unique_ptr<receiver::ContinuousProfilingGrpcService> continuous_profiling_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

// A one-sample Go agent profile labelled with segment `segment` and stamped `time_nanos`, sent as
// one last chunk of task "task-go".
inline skywalking::v3::GoProfileData OneSampleGoProfile(const std::string& segment,
                                                        int64_t time_nanos) {
  perftools::profiles::Profile profile;
  for (const char* s : {"", "samples", "count", "traceSegmentID", "main.main"}) {
    profile.add_string_table(s);
  }
  profile.add_string_table(segment);
  auto* type = profile.add_sample_type();
  type->set_type(1);
  type->set_unit(2);
  profile.set_time_nanos(time_nanos);
  auto* function = profile.add_function();
  function->set_id(1);
  function->set_name(4);
  auto* location = profile.add_location();
  location->set_id(1);
  location->add_line()->set_function_id(1);
  auto* sample = profile.add_sample();
  sample->add_location_id(1);
  sample->add_value(1);
  auto* label = sample->add_label();
  label->set_key(3);
  label->set_str(5);
  skywalking::v3::GoProfileData data;
  data.set_taskid("task-go");
  data.set_payload(profile.SerializeAsString());
  data.set_islast(true);
  return data;
}

}  // namespace stackhouse::testing
