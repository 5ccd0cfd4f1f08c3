#pragma once

#include <type_traits>

#include "common/clock.h"
#include "profile/Profile.grpc.pb.h"
#include "profile/ProfileCompat.grpc.pb.h"
#include "receiver/agent_time_guard.h"
#include "receiver/auth.h"
#include "receiver/client_stream.h"
#include "storage/profile_store.h"
#include "task/profile_task_service.h"

namespace stackhouse::receiver {

// Trace profiling's agent side (grpc-protocol.md §5.4): task polling, thread snapshot
// streams, the Go agent's pprof uploads, completion reports. Thread-safe (no state beyond the
// call).
class ProfileHandler {
 public:
  // Snapshots are written in batches of this many while a stream is open.
  static constexpr size_t kSnapshotBatch = 256;

  // Dependencies must outlive the handler.
  ProfileHandler(const AuthGuard* auth, AgentTimeGuard* times, task::ProfileTaskService* tasks,
                 storage::SnapshotStore* snapshots, const Clock* clock)
      : auth_(auth), times_(times), tasks_(tasks), snapshots_(snapshots), clock_(clock) {}

  grpc::Status GetProfileTaskCommands(grpc::ServerContext* context,
                                      const skywalking::v3::ProfileTaskCommandQuery* request,
                                      skywalking::v3::Commands* response);
  // Stores the stream's snapshots in batches of kSnapshotBatch. At an unreadable message, or
  // one whose dump time AgentTimeGuard refuses, stores the messages before it and answers
  // INVALID_ARGUMENT saying so.
  grpc::Status CollectSnapshot(grpc::ServerContext* context,
                               ClientStream<skywalking::v3::ThreadSnapshot>* stream,
                               skywalking::v3::Commands* response);
  // Stores each complete profile of the stream. At an unreadable message, or a profile whose
  // time AgentTimeGuard refuses, keeps the profiles completed before it and answers
  // INVALID_ARGUMENT saying so.
  grpc::Status GoProfileReport(grpc::ServerContext* context,
                               ClientStream<skywalking::v3::GoProfileData>* stream,
                               skywalking::v3::Commands* response);
  grpc::Status ReportTaskFinish(grpc::ServerContext* context,
                                const skywalking::v3::ProfileTaskFinishReport* request,
                                skywalking::v3::Commands* response);

 private:
  const AuthGuard* const auth_;
  AgentTimeGuard* const times_;
  task::ProfileTaskService* const tasks_;
  storage::SnapshotStore* const snapshots_;
  const Clock* const clock_;
};

// Appends the `ProfileTaskQuery` command for `task` (§3.2) with a fresh SerialNumber.
void AppendProfileTaskCommand(const model::ProfileTask& task, skywalking::v3::Commands* commands);

// The gRPC service over a ProfileHandler. `Grpc` is the generated service: either
// `skywalking::v3::ProfileTask` (`/skywalking.v3.ProfileTask/*`) or the package-less
// `::ProfileTask` (`/ProfileTask/*`) of old agents, which lacks goProfileReport. The streams
// are read through ClientStream.
template <typename Grpc>
class ProfileServiceImpl final : public ClientStreamService<typename Grpc::Service> {
 public:
  explicit ProfileServiceImpl(ProfileHandler* handler) : handler_(handler) {
    this->template ServeClientStream<skywalking::v3::ThreadSnapshot, skywalking::v3::Commands>(
        kCollectSnapshotIndex, [handler](grpc::ServerContext* context,
                                         ClientStream<skywalking::v3::ThreadSnapshot>* stream,
                                         skywalking::v3::Commands* response) {
          return handler->CollectSnapshot(context, stream, response);
        });
    if constexpr (kHasGoProfileReport) {
      this->template ServeClientStream<skywalking::v3::GoProfileData, skywalking::v3::Commands>(
          kGoProfileReportIndex, [handler](grpc::ServerContext* context,
                                           ClientStream<skywalking::v3::GoProfileData>* stream,
                                           skywalking::v3::Commands* response) {
            return handler->GoProfileReport(context, stream, response);
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

using ProfileService = ProfileServiceImpl<skywalking::v3::ProfileTask>;
using ProfileCompatService = ProfileServiceImpl<::ProfileTask>;

}  // namespace stackhouse::receiver
