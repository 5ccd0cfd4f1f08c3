#include "receiver/ebpf_services.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/uuid.h"
#include "receiver/status_convert.h"
#include "service/ebpf_sample_stream.h"

namespace stackhouse::receiver {
namespace {

service::ReportedProcess FromEntity(
    const skywalking::v3::EBPFProcessEntityMetadata& entity, model::DetectType type,
    const google::protobuf::RepeatedPtrField<skywalking::v3::KeyStringValuePair>& properties) {
  service::ReportedProcess r;
  r.detect_type = type;
  r.layer = entity.layer();
  r.service_name = entity.servicename();
  r.instance_name = entity.instancename();
  r.process_name = entity.processname();
  r.labels.assign(entity.labels().begin(), entity.labels().end());
  for (const auto& kv : properties) r.properties.emplace_back(kv.key(), kv.value());
  return r;
}

void AddArg(skywalking::v3::Command* command, const char* key, std::string value) {
  auto* arg = command->add_args();
  arg->set_key(key);
  arg->set_value(std::move(value));
}

}  // namespace

grpc::Status EbpfProcessGrpcService::reportProcesses(
    grpc::ServerContext* context, const skywalking::v3::EBPFProcessReportList* request,
    skywalking::v3::EBPFReportProcessDownstream* response) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  std::vector<service::ReportedProcess> reported;
  std::vector<const skywalking::v3::EBPFProcessProperties*> accepted;
  for (const auto& p : request->processes()) {
    if (p.has_hostprocess()) {
      reported.push_back(FromEntity(p.hostprocess().entity(), model::DetectType::kVm,
                                    p.hostprocess().properties()));
    } else if (p.has_k8sprocess()) {
      reported.push_back(FromEntity(p.k8sprocess().entity(), model::DetectType::kKubernetes,
                                    p.k8sprocess().properties()));
    } else {
      continue;  // neither branch: nothing to register, no downstream entry (as OAP)
    }
    accepted.push_back(&p);
  }
  auto ids = ebpf_->ReportProcesses(request->ebpfagentid(), reported);
  if (!ids.ok()) return ToGrpcStatus(ids.status());
  for (size_t i = 0; i < accepted.size(); ++i) {
    auto* down = response->add_processes();
    down->set_processid((*ids)[i]);
    const auto& p = *accepted[i];
    if (p.has_hostprocess()) {
      down->mutable_hostprocess()->set_pid(p.hostprocess().pid());
      *down->mutable_hostprocess()->mutable_entitymetadata() = p.hostprocess().entity();
    } else {
      down->mutable_k8sprocess()->set_pid(p.k8sprocess().pid());
      *down->mutable_k8sprocess()->mutable_entitymetadata() = p.k8sprocess().entity();
    }
  }
  return grpc::Status::OK;
}

grpc::Status EbpfProcessGrpcService::keepAlive(
    grpc::ServerContext* context, const skywalking::v3::EBPFProcessPingPkgList* request,
    skywalking::v3::Commands* /*response*/) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  std::vector<service::ReportedProcess> reported;
  for (const auto& ping : request->processes()) {
    reported.push_back(
        FromEntity(ping.entitymetadata(), model::DetectType::kUndefined, ping.properties()));
  }
  return ToGrpcStatus(ebpf_->KeepAlive(request->ebpfagentid(), reported));
}

void AppendEbpfTaskCommand(const service::EbpfTaskCommand& command,
                           skywalking::v3::Commands* commands) {
  const model::EbpfTask& task = command.task;
  auto* c = commands->add_commands();
  c->set_command("EBPFProfilingTaskQuery");
  AddArg(c, "SerialNumber", NewUuid());
  AddArg(c, "TaskId", task.logical_id);
  AddArg(c, "ProcessId", absl::StrJoin(command.process_ids, ","));
  AddArg(c, "TaskUpdateTime", absl::StrCat(task.last_update_time_ms));
  AddArg(c, "TriggerType", "FIXED_TIME");
  AddArg(c, "TargetType", model::EbpfTargetTypeName(task.target_type));
  AddArg(c, "TaskStartTime", absl::StrCat(task.start_time_ms));
  AddArg(c, "ExtensionConfigJSON", model::RoverExtensionConfigJson(task.extension_config_json));
  AddArg(c, "FixedTriggerDuration", absl::StrCat(task.fixed_trigger_duration_s));
}

grpc::Status EbpfProfilingGrpcService::queryTasks(
    grpc::ServerContext* context, const skywalking::v3::EBPFProfilingTaskQuery* request,
    skywalking::v3::Commands* response) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  for (const service::EbpfTaskCommand& command :
       ebpf_->QueryTasks(request->roverinstanceid(), request->latestupdatetime())) {
    AppendEbpfTaskCommand(command, response);
  }
  return grpc::Status::OK;
}

RoverStack::RoverStack(
    const google::protobuf::RepeatedPtrField<skywalking::v3::EBPFProfilingStackMetadata>& stacks) {
  for (const auto& stack : stacks) {
    if (stack.stacktype() == skywalking::v3::PROCESS_KERNEL_SPACE) kernel_ = &stack;
    if (stack.stacktype() == skywalking::v3::PROCESS_USER_SPACE) user_ = &stack;
  }
  size_ = static_cast<size_t>((kernel_ ? kernel_->stacksymbols_size() : 0) +
                              (user_ ? user_->stacksymbols_size() : 0));
}

EbpfProfilingGrpcService::EbpfProfilingGrpcService(const AuthGuard* auth, AgentTimeGuard* times,
                                                   service::EbpfService* ebpf,
                                                   StreamRuntime* streams)
    : auth_(auth), times_(times), ebpf_(ebpf) {
  ServeClientStream<skywalking::v3::EBPFProfilingData, skywalking::v3::Commands>(
      kCollectProfilingDataIndex, streams, "collectProfilingData",
      [this](const grpc::CallbackServerContext& context,
             std::unique_ptr<StreamConsumer<skywalking::v3::EBPFProfilingData>>* consumer) {
        return StartCollectProfilingData(context, consumer);
      });
}

class EbpfProfilingGrpcService::SampleConsumer final
    : public StreamConsumer<skywalking::v3::EBPFProfilingData> {
 public:
  SampleConsumer(EbpfProfilingGrpcService* service, std::string agent)
      : service_(service), agent_(std::move(agent)), samples_(service->ebpf_->OpenSampleStream()) {}

  std::optional<grpc::Status> OnMessage(skywalking::v3::EBPFProfilingData* message,
                                        size_t index) override {
    if (first_ || message->has_task()) {
      const skywalking::v3::EBPFProfilingTaskMetadata& task = message->task();
      first_ = false;
      if (!task.taskid().empty() && !task.processid().empty()) {
        std::string field = "task.currentTime";
        absl::Status time = service_->times_->Check("ebpf_upload", task.currenttime(), agent_);
        if (time.ok()) {
          field = "task.profilingStartTime";
          time = service_->times_->Check("ebpf_schedule", task.profilingstarttime(), agent_);
        }
        if (!time.ok()) {
          if (absl::Status s = samples_->Flush(); !s.ok()) return ToGrpcStatus(s);
          return RefuseMessage("collectProfilingData", index,
                               absl::StrCat("(", field, ") ", time.message()),
                               KeptMessagesBefore(index));
        }
      }
      if (absl::Status s = samples_->StartUpload(task.taskid(), task.processid(),
                                                 task.profilingstarttime(), task.currenttime());
          !s.ok()) {
        return ToGrpcStatus(s);
      }
    }
    service::RoverSampleValues values;
    const google::protobuf::RepeatedPtrField<skywalking::v3::EBPFProfilingStackMetadata>* stacks =
        nullptr;
    if (message->has_oncpu()) {
      values.target_type = model::EbpfTargetType::kOnCpu;
      stacks = &message->oncpu().stacks();
      values.dump_count = message->oncpu().dumpcount();
    } else if (message->has_offcpu()) {
      values.target_type = model::EbpfTargetType::kOffCpu;
      stacks = &message->offcpu().stacks();
      values.switch_count = message->offcpu().switchcount();
      values.duration_ns = message->offcpu().duration();
    } else {
      samples_->SkipSample();
      return std::nullopt;
    }
    const RoverStack stack(*stacks);
    absl::Status added = samples_->Add(
        values, stack.size(),
        [&stack](service::EbpfSampleStream::FrameVisitor visit) { stack.ForEachRootFirst(visit); });
    if (!added.ok()) return ToGrpcStatus(added);
    return std::nullopt;
  }

  absl::Status Flush() override { return samples_->Flush(); }

 private:
  EbpfProfilingGrpcService* const service_;
  const std::string agent_;
  const std::unique_ptr<service::EbpfSampleStream> samples_;
  bool first_ = true;
};

grpc::Status EbpfProfilingGrpcService::StartCollectProfilingData(
    const grpc::CallbackServerContext& context,
    std::unique_ptr<StreamConsumer<skywalking::v3::EBPFProfilingData>>* consumer) {
  if (grpc::Status s = auth_->Check(context); !s.ok()) return s;
  *consumer = std::make_unique<SampleConsumer>(this, PeerHost(context.peer()));
  return grpc::Status::OK;
}

}  // namespace stackhouse::receiver
