#include "receiver/continuous_profiling_service.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/uuid.h"
#include "receiver/status_convert.h"

namespace stackhouse::receiver {
namespace {

void AddArg(skywalking::v3::Command* command, const char* key, std::string value) {
  auto* arg = command->add_args();
  arg->set_key(key);
  arg->set_value(std::move(value));
}

// The wire cause as a domain one; InvalidArgument naming cause `index` when unusable.
absl::StatusOr<service::ReportedCause> FromWire(const skywalking::v3::ContinuousProfilingCause& c,
                                                int index) {
  service::ReportedCause cause;
  // The wire enum is OAP's ordinal minus one.
  const int type = static_cast<int>(c.type()) + 1;
  if (type < 1 || type > 5) {
    return absl::InvalidArgumentError(
        absl::StrCat("cause ", index, " has an unknown monitor type ", static_cast<int>(c.type())));
  }
  cause.type = static_cast<model::ContinuousMonitorType>(type);
  if (c.has_singlevalue()) {
    cause.threshold = c.singlevalue().threshold();
    cause.current = c.singlevalue().current();
  } else if (c.has_uri()) {
    cause.uri = true;
    cause.uri_regex = c.uri().has_regex();
    cause.uri_text = c.uri().has_regex() ? c.uri().regex() : c.uri().path();
    cause.threshold = c.uri().threshold();
    cause.current = c.uri().current();
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("cause ", index, " has neither a singleValue nor a uri"));
  }
  return cause;
}

}  // namespace

grpc::Status ContinuousProfilingGrpcService::queryPolicies(
    grpc::ServerContext* context, const skywalking::v3::ContinuousProfilingPolicyQuery* request,
    skywalking::v3::Commands* response) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  std::vector<service::PolicyQuery> queries;
  queries.reserve(request->policies_size());
  for (const auto& p : request->policies()) queries.push_back({p.servicename(), p.uuid()});
  std::vector<std::string> entries = continuous_->QueryPolicies(queries);
  if (entries.empty()) return grpc::Status::OK;
  auto* command = response->add_commands();
  command->set_command("ContinuousProfilingPolicyQuery");
  AddArg(command, "SerialNumber", NewUuid());
  AddArg(command, "ServiceWithPolicyJSON", absl::StrCat("[", absl::StrJoin(entries, ","), "]"));
  return grpc::Status::OK;
}

grpc::Status ContinuousProfilingGrpcService::reportProfilingTask(
    grpc::ServerContext* context, const skywalking::v3::ContinuousProfilingReport* request,
    skywalking::v3::Commands* response) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  service::ContinuousReport report;
  report.layer = request->layer();
  report.service_name = request->servicename();
  report.instance_name = request->instancename();
  report.process_name = request->processname();
  report.duration_s = request->duration();
  for (int i = 0; i < request->causes_size(); ++i) {
    auto cause = FromWire(request->causes(i), i);
    if (!cause.ok()) return ToGrpcStatus(cause.status());
    report.causes.push_back(std::move(*cause));
  }
  switch (request->targetTask_case()) {
    case skywalking::v3::ContinuousProfilingReport::kOnCPU:
      report.target = model::EbpfTargetType::kOnCpu;
      break;
    case skywalking::v3::ContinuousProfilingReport::kOffCPU:
      report.target = model::EbpfTargetType::kOffCpu;
      break;
    case skywalking::v3::ContinuousProfilingReport::kNetwork:
      report.target = model::EbpfTargetType::kNetwork;
      report.sampling_uri_regexes.assign(request->network().samplinguriregexes().begin(),
                                         request->network().samplinguriregexes().end());
      break;
    case skywalking::v3::ContinuousProfilingReport::TARGETTASK_NOT_SET:
      break;
  }
  auto id = continuous_->ReportTask(report);
  if (!id.ok()) return ToGrpcStatus(id.status());
  auto* command = response->add_commands();
  command->set_command("ContinuousProfilingReportTask");
  AddArg(command, "SerialNumber", NewUuid());
  AddArg(command, "TaskId", *id);
  return grpc::Status::OK;
}

}  // namespace stackhouse::receiver
