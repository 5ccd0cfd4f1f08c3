#include "receiver/profile_service.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/uuid.h"
#include "receiver/status_convert.h"
#include "wire/go_profile.h"

namespace stackhouse::receiver {
namespace {

void AddArg(skywalking::v3::Command* command, const char* key, std::string value) {
  auto* arg = command->add_args();
  arg->set_key(key);
  arg->set_value(std::move(value));
}

model::ThreadSnapshot ToSnapshot(const skywalking::v3::ThreadSnapshot& proto) {
  model::ThreadSnapshot snapshot;
  snapshot.task_id = proto.taskid();
  snapshot.segment_id = proto.tracesegmentid();
  snapshot.dump_time_ms = proto.time();
  snapshot.sequence = proto.sequence();
  snapshot.frames.assign(proto.stack().codesignatures().begin(),
                         proto.stack().codesignatures().end());
  return snapshot;
}

}  // namespace

void AppendProfileTaskCommand(const model::ProfileTask& task, skywalking::v3::Commands* commands) {
  auto* command = commands->add_commands();
  command->set_command("ProfileTaskQuery");
  AddArg(command, "SerialNumber", NewUuid());
  AddArg(command, "TaskId", task.id);
  AddArg(command, "EndpointName", task.endpoint_name);
  AddArg(command, "Duration", absl::StrCat(task.duration_minutes));
  AddArg(command, "MinDurationThreshold", absl::StrCat(task.min_duration_threshold_ms));
  AddArg(command, "DumpPeriod", absl::StrCat(task.dump_period_ms));
  AddArg(command, "MaxSamplingCount", absl::StrCat(task.max_sampling_count));
  AddArg(command, "StartTime", absl::StrCat(task.start_time_ms));
  AddArg(command, "CreateTime", absl::StrCat(task.create_time_ms));
}

grpc::Status ProfileHandler::GetProfileTaskCommands(
    grpc::ServerContext* context, const skywalking::v3::ProfileTaskCommandQuery* request,
    skywalking::v3::Commands* response) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  for (const model::ProfileTask& task :
       tasks_->Poll(request->service(), request->serviceinstance(), request->lastcommandtime())) {
    AppendProfileTaskCommand(task, response);
  }
  return grpc::Status::OK;
}

grpc::Status ProfileHandler::CollectSnapshot(grpc::ServerContext* context,
                                             ClientStream<skywalking::v3::ThreadSnapshot>* stream,
                                             skywalking::v3::Commands* /*response*/) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  std::vector<model::ThreadSnapshot> batch;
  batch.reserve(kSnapshotBatch);
  const std::string agent = PeerHost(context->peer());
  skywalking::v3::ThreadSnapshot message;
  while (stream->Read(&message)) {
    if (absl::Status time = times_->Check("snapshot", message.time(), agent); !time.ok()) {
      if (absl::Status s = snapshots_->AddSnapshots(batch); !s.ok()) return ToGrpcStatus(s);
      const size_t index = stream->count() - 1;
      return RefuseMessage("collectSnapshot", index, time.message(), KeptMessagesBefore(index));
    }
    batch.push_back(ToSnapshot(message));
    if (batch.size() >= kSnapshotBatch) {
      if (absl::Status s = snapshots_->AddSnapshots(batch); !s.ok()) return ToGrpcStatus(s);
      batch.clear();
    }
  }
  if (context->IsCancelled()) return grpc::Status::CANCELLED;
  if (absl::Status s = snapshots_->AddSnapshots(batch); !s.ok()) return ToGrpcStatus(s);
  if (stream->unreadable()) {
    return stream->RefuseUnreadable("collectSnapshot", KeptMessagesBefore(stream->count()));
  }
  return grpc::Status::OK;
}

grpc::Status ProfileHandler::GoProfileReport(grpc::ServerContext* context,
                                             ClientStream<skywalking::v3::GoProfileData>* stream,
                                             skywalking::v3::Commands* /*response*/) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  // §5.4: chunks of one task's profile are concatenated until `isLast`; a chunk of another
  // task starts over; chunks without a task id are ignored.
  const std::string agent = PeerHost(context->peer());
  std::string task_id;
  std::string buffer;
  size_t stored = 0;
  auto kept = [&stored] {
    return absl::StrCat(stored, stored == 1 ? " profile" : " profiles",
                        " completed before it stored, the chunks of an unfinished one dropped");
  };
  skywalking::v3::GoProfileData message;
  while (stream->Read(&message)) {
    if (message.taskid().empty()) continue;
    if (message.taskid() != task_id) {
      task_id = message.taskid();
      buffer.clear();
    }
    if (buffer.size() + message.payload().size() > wire::kMaxGoProfileBytes) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("goProfileReport: the profile of task ", task_id,
                                       " is larger than ", wire::kMaxGoProfileBytes, " bytes"));
    }
    buffer.append(message.payload());
    if (!message.islast()) continue;
    auto profile = wire::ReadGoProfileUpload(buffer, task_id, clock_->NowMillis());
    if (!profile.ok()) {
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("goProfileReport: task ", task_id, ": ", profile.status().message()));
    }
    if (absl::Status time = times_->Check("go_profile", profile->dump_time_ms, agent); !time.ok()) {
      return RefuseMessage(
          "goProfileReport", stream->count() - 1,
          absl::StrCat("(the last chunk of task ", task_id, "'s profile) ", time.message()),
          kept());
    }
    if (profile->segment_ids.empty()) {
      GetLogger("receiver")
          ->warn("goProfileReport: the profile of task {} has no sample labelled with a segment",
                 task_id);
    } else if (absl::Status s = snapshots_->AddGoProfile(*profile); !s.ok()) {
      return ToGrpcStatus(s);
    } else {
      ++stored;
    }
    buffer.clear();
  }
  if (context->IsCancelled()) return grpc::Status::CANCELLED;
  if (stream->unreadable()) {
    return stream->RefuseUnreadable("goProfileReport", kept());
  }
  return grpc::Status::OK;
}

grpc::Status ProfileHandler::ReportTaskFinish(
    grpc::ServerContext* context, const skywalking::v3::ProfileTaskFinishReport* request,
    skywalking::v3::Commands* /*response*/) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  return ToGrpcStatus(
      tasks_->ReportFinish(request->service(), request->serviceinstance(), request->taskid()));
}

}  // namespace stackhouse::receiver
