#pragma once

#include <type_traits>

#include "common/clock.h"
#include "profile/Profile.grpc.pb.h"
#include "profile/ProfileCompat.grpc.pb.h"
#include "receiver/agent_time_guard.h"
#include "receiver/auth.h"
#include "receiver/client_stream.h"
#include "service/profile_task_service.h"
#include "service/trace_profile_ingest.h"

namespace stackhouse::receiver {

// Trace profiling's agent side (grpc-protocol.md §5.4): task polling, thread snapshot
// streams, the Go agent's pprof uploads, completion reports. Thread-safe (no state beyond the
// call).
class ProfileHandler {
 public:
  // Snapshots are written in batches of this many while a stream is open.
  static constexpr size_t kSnapshotBatch = 256;

  // Dependencies must outlive the handler.
  ProfileHandler(const AuthGuard* auth, AgentTimeGuard* times, service::ProfileTaskService* tasks,
                 service::TraceProfileIngest* snapshots, const Clock* clock)
      : auth_(auth), times_(times), tasks_(tasks), snapshots_(snapshots), clock_(clock) {}

  grpc::Status GetProfileTaskCommands(grpc::ServerContext* context,
                                      const skywalking::v3::ProfileTaskCommandQuery* request,
                                      skywalking::v3::Commands* response);
  // Starts a collectSnapshot stream (PERMISSION_DENIED without the token); its consumer
  // stores the snapshots in batches of kSnapshotBatch. At an unreadable message, or one whose
  // dump time AgentTimeGuard refuses, it stores the messages before it and answers
  // INVALID_ARGUMENT saying so.
  grpc::Status StartCollectSnapshot(
      const grpc::CallbackServerContext& context,
      std::unique_ptr<StreamConsumer<skywalking::v3::ThreadSnapshot>>* consumer);
  // Starts a goProfileReport stream (PERMISSION_DENIED without the token); its consumer stores
  // each complete profile. At an unreadable message, or a profile whose time AgentTimeGuard
  // refuses, it keeps the profiles completed before it and answers INVALID_ARGUMENT saying so.
  grpc::Status StartGoProfileReport(
      const grpc::CallbackServerContext& context,
      std::unique_ptr<StreamConsumer<skywalking::v3::GoProfileData>>* consumer);
  grpc::Status ReportTaskFinish(grpc::ServerContext* context,
                                const skywalking::v3::ProfileTaskFinishReport* request,
                                skywalking::v3::Commands* response);

 private:
  class SnapshotConsumer;
  class GoProfileConsumer;

  const AuthGuard* const auth_;
  AgentTimeGuard* const times_;
  service::ProfileTaskService* const tasks_;
  service::TraceProfileIngest* const snapshots_;
  const Clock* const clock_;
};

// Appends the `ProfileTaskQuery` command for `task` (§3.2) with a fresh SerialNumber.
void AppendProfileTaskCommand(const model::ProfileTask& task, skywalking::v3::Commands* commands);

// The gRPC service over a ProfileHandler. `Grpc` is the generated service: either
// `skywalking::v3::ProfileTask` (`/skywalking.v3.ProfileTask/*`) or the package-less
// `::ProfileTask` (`/ProfileTask/*`) of old agents, which lacks goProfileReport. The streams
// are served through ClientStreamReactor.
template <typename Grpc>
class ProfileGrpcServiceImpl final : public ClientStreamService<typename Grpc::Service> {
 public:
  // `handler` and `streams` must outlive the service.
  ProfileGrpcServiceImpl(ProfileHandler* handler, StreamRuntime* streams) : handler_(handler) {
    this->template ServeClientStream<skywalking::v3::ThreadSnapshot, skywalking::v3::Commands>(
        kCollectSnapshotIndex, streams, "collectSnapshot",
        [handler](const grpc::CallbackServerContext& context,
                  std::unique_ptr<StreamConsumer<skywalking::v3::ThreadSnapshot>>* consumer) {
          return handler->StartCollectSnapshot(context, consumer);
        });
    if constexpr (kHasGoProfileReport) {
      this->template ServeClientStream<skywalking::v3::GoProfileData, skywalking::v3::Commands>(
          kGoProfileReportIndex, streams, "goProfileReport",
          [handler](const grpc::CallbackServerContext& context,
                    std::unique_ptr<StreamConsumer<skywalking::v3::GoProfileData>>* consumer) {
            return handler->StartGoProfileReport(context, consumer);
          });
    }
  }

  grpc::Status getProfileTaskCommands(grpc::ServerContext* context,
                                      const skywalking::v3::ProfileTaskCommandQuery* request,
                                      skywalking::v3::Commands* response) override {
    return handler_->GetProfileTaskCommands(context, request, response);
  }
  grpc::Status reportTaskFinish(grpc::ServerContext* context,
                                const skywalking::v3::ProfileTaskFinishReport* request,
                                skywalking::v3::Commands* response) override {
    return handler_->ReportTaskFinish(context, request, response);
  }

 private:
  // The methods' places in Profile.proto / ProfileCompat.proto (the compat service has
  // getProfileTaskCommands, collectSnapshot, reportTaskFinish).
  static constexpr bool kHasGoProfileReport =
      !std::is_same_v<typename Grpc::Service, ::ProfileTask::Service>;
  static constexpr int kCollectSnapshotIndex = 1;
  static constexpr int kGoProfileReportIndex = 2;

  ProfileHandler* const handler_;
};

using ProfileGrpcService = ProfileGrpcServiceImpl<skywalking::v3::ProfileTask>;
using ProfileCompatGrpcService = ProfileGrpcServiceImpl<::ProfileTask>;

}  // namespace stackhouse::receiver
