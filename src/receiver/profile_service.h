#pragma once

#include "common/clock.h"
#include "profile/Profile.grpc.pb.h"
#include "profile/ProfileCompat.grpc.pb.h"
#include "receiver/auth.h"
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
  ProfileHandler(const AuthGuard* auth, task::ProfileTaskService* tasks,
                 storage::SnapshotStore* snapshots, const Clock* clock)
      : auth_(auth), tasks_(tasks), snapshots_(snapshots), clock_(clock) {}

  grpc::Status GetProfileTaskCommands(grpc::ServerContext* context,
                                      const skywalking::v3::ProfileTaskCommandQuery* request,
                                      skywalking::v3::Commands* response);
  grpc::Status CollectSnapshot(grpc::ServerContext* context,
                               grpc::ServerReader<skywalking::v3::ThreadSnapshot>* reader,
                               skywalking::v3::Commands* response);
  grpc::Status GoProfileReport(grpc::ServerContext* context,
                               grpc::ServerReader<skywalking::v3::GoProfileData>* reader,
                               skywalking::v3::Commands* response);
  grpc::Status ReportTaskFinish(grpc::ServerContext* context,
                                const skywalking::v3::ProfileTaskFinishReport* request,
                                skywalking::v3::Commands* response);

 private:
  const AuthGuard* const auth_;
  task::ProfileTaskService* const tasks_;
  storage::SnapshotStore* const snapshots_;
  const Clock* const clock_;
};

// Appends the `ProfileTaskQuery` command for `task` (§3.2) with a fresh SerialNumber.
void AppendProfileTaskCommand(const model::ProfileTask& task, skywalking::v3::Commands* commands);

// The gRPC service over a ProfileHandler. `Base` is the generated service class: either
// `skywalking::v3::ProfileTask::Service` (`/skywalking.v3.ProfileTask/*`) or the package-less
// `::ProfileTask::Service` (`/ProfileTask/*`) of old agents, which lacks goProfileReport.
template <typename Base>
class ProfileServiceImpl final : public Base {
 public:
  explicit ProfileServiceImpl(ProfileHandler* handler) : handler_(handler) {}

  grpc::Status getProfileTaskCommands(grpc::ServerContext* context,
                                      const skywalking::v3::ProfileTaskCommandQuery* request,
                                      skywalking::v3::Commands* response) override {
    return handler_->GetProfileTaskCommands(context, request, response);
  }
  grpc::Status collectSnapshot(grpc::ServerContext* context,
                               grpc::ServerReader<skywalking::v3::ThreadSnapshot>* reader,
                               skywalking::v3::Commands* response) override {
    return handler_->CollectSnapshot(context, reader, response);
  }
  // Overrides the method where `Base` declares it (the packaged service) and is unused where
  // it does not (the compat one).
  grpc::Status goProfileReport(grpc::ServerContext* context,
                               grpc::ServerReader<skywalking::v3::GoProfileData>* reader,
                               skywalking::v3::Commands* response) {
    return handler_->GoProfileReport(context, reader, response);
  }
  grpc::Status reportTaskFinish(grpc::ServerContext* context,
                                const skywalking::v3::ProfileTaskFinishReport* request,
                                skywalking::v3::Commands* response) override {
    return handler_->ReportTaskFinish(context, request, response);
  }

 private:
  ProfileHandler* const handler_;
};

using ProfileService = ProfileServiceImpl<skywalking::v3::ProfileTask::Service>;
using ProfileCompatService = ProfileServiceImpl<::ProfileTask::Service>;

}  // namespace stackhouse::receiver
