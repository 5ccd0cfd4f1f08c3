#include "receiver/ebpf_services.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "common/uuid.h"
#include "receiver/ebpf_sample_writer.h"
#include "receiver/status_convert.h"
#include "storage/stack_fingerprint.h"

namespace stackhouse::receiver {
namespace {

task::ReportedProcess FromEntity(
    const skywalking::v3::EBPFProcessEntityMetadata& entity, model::DetectType type,
    const google::protobuf::RepeatedPtrField<skywalking::v3::KeyStringValuePair>& properties) {
  task::ReportedProcess r;
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

grpc::Status EbpfProcessService::reportProcesses(
    grpc::ServerContext* context, const skywalking::v3::EBPFProcessReportList* request,
    skywalking::v3::EBPFReportProcessDownstream* response) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  std::vector<task::ReportedProcess> reported;
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

grpc::Status EbpfProcessService::keepAlive(grpc::ServerContext* context,
                                           const skywalking::v3::EBPFProcessPingPkgList* request,
                                           skywalking::v3::Commands* /*response*/) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  std::vector<task::ReportedProcess> reported;
  for (const auto& ping : request->processes()) {
    reported.push_back(
        FromEntity(ping.entitymetadata(), model::DetectType::kUndefined, ping.properties()));
  }
  return ToGrpcStatus(ebpf_->KeepAlive(request->ebpfagentid(), reported));
}

void AppendEbpfTaskCommand(const task::EbpfTaskCommand& command,
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

grpc::Status EbpfProfilingService::queryTasks(grpc::ServerContext* context,
                                              const skywalking::v3::EBPFProfilingTaskQuery* request,
                                              skywalking::v3::Commands* response) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  for (const task::EbpfTaskCommand& command :
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

EbpfProfilingService::EbpfProfilingService(const AuthGuard* auth, AgentTimeGuard* times,
                                           task::EbpfService* ebpf, storage::EbpfStore* store,
                                           StreamRuntime* streams)
    : auth_(auth), times_(times), ebpf_(ebpf), store_(store) {
  ServeClientStream<skywalking::v3::EBPFProfilingData, skywalking::v3::Commands>(
      kCollectProfilingDataIndex, streams, "collectProfilingData",
      [this](const grpc::CallbackServerContext& context,
             std::unique_ptr<StreamConsumer<skywalking::v3::EBPFProfilingData>>* consumer) {
        return StartCollectProfilingData(context, consumer);
      });
}

class EbpfProfilingService::SampleConsumer final
    : public StreamConsumer<skywalking::v3::EBPFProfilingData> {
 public:
  SampleConsumer(EbpfProfilingService* service, std::string agent)
      : service_(service), agent_(std::move(agent)), writer_(service->store_) {}

  ~SampleConsumer() override {
    if (skipped_ > 0) {
      GetLogger("receiver")->warn("collectProfilingData: skipped {} unusable samples", skipped_);
    }
  }

  std::optional<grpc::Status> OnMessage(skywalking::v3::EBPFProfilingData* message,
                                        size_t index) override {
    if (first_ || message->has_task()) {
      const skywalking::v3::EBPFProfilingTaskMetadata& task = message->task();
      first_ = false;
      has_schedule_ = false;
      std::string schedule_id;
      if (!task.taskid().empty() && !task.processid().empty()) {
        // The upload time stamps the samples and the schedule's end; the start names and
        // starts the schedule.
        std::string field = "task.currentTime";
        absl::Status time = service_->times_->Check("ebpf_upload", task.currenttime(), agent_);
        if (time.ok()) {
          field = "task.profilingStartTime";
          time = service_->times_->Check("ebpf_schedule", task.profilingstarttime(), agent_);
        }
        if (!time.ok()) {
          if (absl::Status s = writer_.Flush(); !s.ok()) return ToGrpcStatus(s);
          return RefuseMessage("collectProfilingData", index,
                               absl::StrCat("(", field, ") ", time.message()),
                               KeptMessagesBefore(index));
        }
        auto id = service_->ebpf_->RecordSchedule(task.taskid(), task.processid(),
                                                  task.profilingstarttime(), task.currenttime());
        if (!id.ok()) return ToGrpcStatus(id.status());
        schedule_id = std::move(*id);
        has_schedule_ = true;
      }
      if (absl::Status s = writer_.StartUpload(schedule_id, task.currenttime()); !s.ok()) {
        return ToGrpcStatus(s);
      }
    }
    storage::StoredEbpfSample sample;
    const google::protobuf::RepeatedPtrField<skywalking::v3::EBPFProfilingStackMetadata>* stacks =
        nullptr;
    if (message->has_oncpu()) {
      sample.target_type = model::EbpfTargetType::kOnCpu;
      stacks = &message->oncpu().stacks();
      sample.dump_count = message->oncpu().dumpcount();
    } else if (message->has_offcpu()) {
      sample.target_type = model::EbpfTargetType::kOffCpu;
      stacks = &message->offcpu().stacks();
      sample.switch_count = message->offcpu().switchcount();
      sample.duration_ns = message->offcpu().duration();
    }
    // Samples without a task, without a profiling branch, with no stack or with negative
    // counts cannot be analysed: skip them (OAP would fail the stream on some of these).
    if (!has_schedule_ || stacks == nullptr || sample.dump_count < 0 || sample.switch_count < 0 ||
        sample.duration_ns < 0) {
      ++skipped_;
      return std::nullopt;
    }
    const RoverStack stack(*stacks);
    if (stack.size() == 0) {
      ++skipped_;
      return std::nullopt;
    }
    // The stack is hashed from the message's own strings; its frames are built only if this
    // stream has not seen it yet.
    storage::StackHasher hasher;
    stack.ForEachRootFirst(
        [&hasher](char tag, const std::string& symbol) { hasher.AddFrame(tag, symbol); });
    absl::Status added = writer_.Add(
        hasher.Finish(),
        [&stack](std::vector<std::string>* frames) {
          frames->reserve(stack.size());
          stack.ForEachRootFirst([frames](char tag, const std::string& symbol) {
            std::string& frame = frames->emplace_back();
            frame.reserve(1 + symbol.size());
            frame.push_back(tag);
            frame.append(symbol);
          });
        },
        sample);
    if (!added.ok()) return ToGrpcStatus(added);
    return std::nullopt;
  }

  absl::Status Flush() override { return writer_.Flush(); }

 private:
  EbpfProfilingService* const service_;
  const std::string agent_;
  EbpfSampleWriter writer_;
  bool first_ = true;
  bool has_schedule_ = false;
  size_t skipped_ = 0;
};

grpc::Status EbpfProfilingService::StartCollectProfilingData(
    const grpc::CallbackServerContext& context,
    std::unique_ptr<StreamConsumer<skywalking::v3::EBPFProfilingData>>* consumer) {
  if (grpc::Status s = auth_->Check(context); !s.ok()) return s;
  *consumer = std::make_unique<SampleConsumer>(this, PeerHost(context.peer()));
  return grpc::Status::OK;
}

}  // namespace stackhouse::receiver
