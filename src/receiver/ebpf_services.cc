#include "receiver/ebpf_services.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "common/uuid.h"
#include "receiver/status_convert.h"

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
  AddArg(c, "ExtensionConfigJSON",
         task.extension_config_json.empty() ? "null" : task.extension_config_json);
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

std::vector<model::EbpfSymbol> RootFirstStack(
    const google::protobuf::RepeatedPtrField<skywalking::v3::EBPFProfilingStackMetadata>& stacks) {
  const skywalking::v3::EBPFProfilingStackMetadata* kernel = nullptr;
  const skywalking::v3::EBPFProfilingStackMetadata* user = nullptr;
  for (const auto& stack : stacks) {
    if (stack.stacktype() == skywalking::v3::PROCESS_KERNEL_SPACE) kernel = &stack;
    if (stack.stacktype() == skywalking::v3::PROCESS_USER_SPACE) user = &stack;
  }
  std::vector<model::EbpfSymbol> symbols;
  size_t total =
      (kernel ? kernel->stacksymbols_size() : 0) + (user ? user->stacksymbols_size() : 0);
  symbols.reserve(total);
  // Reversed (user then kernel, each reversed) = root first.
  if (user != nullptr) {
    for (int i = user->stacksymbols_size() - 1; i >= 0; --i) {
      symbols.push_back({user->stacksymbols(i), model::StackType::kUser});
    }
  }
  if (kernel != nullptr) {
    for (int i = kernel->stacksymbols_size() - 1; i >= 0; --i) {
      symbols.push_back({kernel->stacksymbols(i), model::StackType::kKernel});
    }
  }
  return symbols;
}

grpc::Status EbpfProfilingService::collectProfilingData(
    grpc::ServerContext* context, grpc::ServerReader<skywalking::v3::EBPFProfilingData>* reader,
    skywalking::v3::Commands* /*response*/) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  bool first = true;
  skywalking::v3::EBPFProfilingTaskMetadata task;
  std::string schedule_id;
  std::vector<model::EbpfSample> block;
  size_t skipped = 0;
  auto flush = [&]() -> absl::Status {
    if (block.empty()) return absl::OkStatus();
    absl::Status s = store_->AddSamples(schedule_id, task.currenttime(), block);
    block.clear();
    return s;
  };
  skywalking::v3::EBPFProfilingData message;
  while (reader->Read(&message)) {
    if (first || message.has_task()) {
      if (absl::Status s = flush(); !s.ok()) return ToGrpcStatus(s);
      task = message.task();
      first = false;
      schedule_id.clear();
      if (!task.taskid().empty() && !task.processid().empty()) {
        auto id = ebpf_->RecordSchedule(task.taskid(), task.processid(), task.profilingstarttime(),
                                        task.currenttime());
        if (!id.ok()) return ToGrpcStatus(id.status());
        schedule_id = std::move(*id);
      }
    }
    model::EbpfSample sample;
    sample.upload_time_ms = task.currenttime();
    if (message.has_oncpu()) {
      sample.target_type = model::EbpfTargetType::kOnCpu;
      sample.stack = RootFirstStack(message.oncpu().stacks());
      sample.dump_count = message.oncpu().dumpcount();
    } else if (message.has_offcpu()) {
      sample.target_type = model::EbpfTargetType::kOffCpu;
      sample.stack = RootFirstStack(message.offcpu().stacks());
      sample.switch_count = message.offcpu().switchcount();
      sample.duration_ns = message.offcpu().duration();
    }
    // Samples without a task, without a profiling branch, with no stack or with negative
    // counts cannot be analysed: skip them (OAP would fail the stream on some of these).
    if (schedule_id.empty() || sample.stack.empty() ||
        (!message.has_oncpu() && !message.has_offcpu()) || sample.dump_count < 0 ||
        sample.switch_count < 0 || sample.duration_ns < 0) {
      ++skipped;
      continue;
    }
    block.push_back(std::move(sample));
    if (block.size() >= kMaxBlockSamples) {
      if (absl::Status s = flush(); !s.ok()) return ToGrpcStatus(s);
    }
  }
  if (context->IsCancelled()) return grpc::Status::CANCELLED;
  if (skipped > 0) {
    GetLogger("receiver")->warn("collectProfilingData: skipped {} unusable samples", skipped);
  }
  return ToGrpcStatus(flush());
}

}  // namespace stackhouse::receiver
