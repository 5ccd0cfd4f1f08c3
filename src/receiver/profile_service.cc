#include "receiver/profile_service.h"

#include "absl/strings/str_cat.h"
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

class ProfileHandler::SnapshotConsumer final
    : public StreamConsumer<skywalking::v3::ThreadSnapshot> {
 public:
  SnapshotConsumer(const ProfileHandler* handler, std::string agent)
      : handler_(handler),
        agent_(std::move(agent)),
        stream_(handler->snapshots_->OpenSnapshotStream(kSnapshotBatch)) {}

  // The message emptied as Clear would, but keeping its stack and the stack's strings, which
  // the next message's frames are parsed into (Clear deletes them: 60 allocations and frees
  // per message).
  skywalking::v3::ThreadSnapshot* NextMessage() override {
    message_.clear_taskid();
    message_.clear_tracesegmentid();
    message_.clear_time();
    message_.clear_sequence();
    message_.mutable_stack()->Clear();
    const google::protobuf::Reflection* reflection = message_.GetReflection();
    if (!reflection->GetUnknownFields(message_).empty()) {
      reflection->MutableUnknownFields(&message_)->Clear();
    }
    return &message_;
  }

  std::optional<grpc::Status> OnMessage(skywalking::v3::ThreadSnapshot* message,
                                        size_t index) override {
    if (absl::Status time = handler_->times_->Check("snapshot", message->time(), agent_);
        !time.ok()) {
      if (absl::Status s = Flush(); !s.ok()) return ToGrpcStatus(s);
      return RefuseMessage("collectSnapshot", index, time.message(), KeptMessagesBefore(index));
    }
    const auto& frames = message->stack().codesignatures();
    absl::Status s = stream_->Add(message->taskid(), message->tracesegmentid(), message->time(),
                                  message->sequence(), static_cast<size_t>(frames.size()),
                                  [&](service::SnapshotStream::FrameVisitor visit) {
                                    for (const std::string& frame : frames) visit(frame);
                                  });
    if (!s.ok()) return ToGrpcStatus(s);
    return std::nullopt;
  }

  absl::Status Flush() override { return stream_->Flush(); }

 private:
  const ProfileHandler* const handler_;
  const std::string agent_;
  const std::unique_ptr<service::SnapshotStream> stream_;
  skywalking::v3::ThreadSnapshot message_;
};

grpc::Status ProfileHandler::StartCollectSnapshot(
    const grpc::CallbackServerContext& context,
    std::unique_ptr<StreamConsumer<skywalking::v3::ThreadSnapshot>>* consumer) {
  if (grpc::Status s = auth_->Check(context); !s.ok()) return s;
  *consumer = std::make_unique<SnapshotConsumer>(this, PeerHost(context.peer()));
  return grpc::Status::OK;
}

// §5.4: chunks of one task's profile are concatenated until `isLast`; a chunk of another task
// starts over; chunks without a task id are ignored.
class ProfileHandler::GoProfileConsumer final
    : public StreamConsumer<skywalking::v3::GoProfileData> {
 public:
  GoProfileConsumer(const ProfileHandler* handler, std::string agent)
      : handler_(handler), agent_(std::move(agent)) {}

  std::optional<grpc::Status> OnMessage(skywalking::v3::GoProfileData* message,
                                        size_t index) override {
    if (message->taskid().empty()) return std::nullopt;
    if (message->taskid() != task_id_) {
      task_id_ = message->taskid();
      buffer_.clear();
    }
    if (buffer_.size() + message->payload().size() > wire::kMaxGoProfileBytes) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("goProfileReport: the profile of task ", task_id_,
                                       " is larger than ", wire::kMaxGoProfileBytes, " bytes"));
    }
    buffer_.append(message->payload());
    if (!message->islast()) return std::nullopt;
    auto profile = wire::ReadGoProfileUpload(buffer_, task_id_, handler_->clock_->NowMillis());
    if (!profile.ok()) {
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("goProfileReport: task ", task_id_, ": ", profile.status().message()));
    }
    if (absl::Status time = handler_->times_->Check("go_profile", profile->dump_time_ms, agent_);
        !time.ok()) {
      return RefuseMessage(
          "goProfileReport", index,
          absl::StrCat("(the last chunk of task ", task_id_, "'s profile) ", time.message()),
          Kept(index));
    }
    absl::StatusOr<bool> stored = handler_->snapshots_->AddGoProfile(*profile);
    if (!stored.ok()) return ToGrpcStatus(stored.status());
    if (*stored) ++stored_;
    buffer_.clear();
    return std::nullopt;
  }

  // Profiles are stored as they complete; the chunks of an unfinished one are dropped.
  absl::Status Flush() override { return absl::OkStatus(); }

  std::string Kept(size_t /*count*/) const override {
    return absl::StrCat(stored_, stored_ == 1 ? " profile" : " profiles",
                        " completed before it stored, the chunks of an unfinished one dropped");
  }

 private:
  const ProfileHandler* const handler_;
  const std::string agent_;
  std::string task_id_;
  std::string buffer_;
  size_t stored_ = 0;
};

grpc::Status ProfileHandler::StartGoProfileReport(
    const grpc::CallbackServerContext& context,
    std::unique_ptr<StreamConsumer<skywalking::v3::GoProfileData>>* consumer) {
  if (grpc::Status s = auth_->Check(context); !s.ok()) return s;
  *consumer = std::make_unique<GoProfileConsumer>(this, PeerHost(context.peer()));
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
