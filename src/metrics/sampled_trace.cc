#include "metrics/sampled_trace.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "model/ids.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace stackhouse::metrics {
namespace {

std::string StringMember(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd()) return "";
  if (it->value.IsString()) return std::string(it->value.GetString(), it->value.GetStringLength());
  if (it->value.IsBool()) return it->value.GetBool() ? "true" : "false";
  if (it->value.IsInt64()) return absl::StrCat(it->value.GetInt64());
  if (it->value.IsNumber()) return absl::StrCat(it->value.GetDouble());
  return "";
}

}  // namespace

absl::StatusOr<std::optional<SampledTrace>> ParseSampledTrace(const SampledTraceLog& log,
                                                              int64_t now_ms) {
  rapidjson::Document body;
  body.Parse(log.body.data(), log.body.size());
  if (body.HasParseError()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sampled-trace body is not JSON (", rapidjson::GetParseError_En(body.GetParseError()),
        " at offset ", body.GetErrorOffset(), ")"));
  }
  if (!body.IsObject())
    return absl::InvalidArgumentError("sampled-trace body is not a JSON object");
  // The log's service, instance and time stand in for the body's (LAL's FilterSpec).
  std::string service = StringMember(body, "service");
  if (service.empty()) service = log.service;
  std::string instance = StringMember(body, "serviceInstance");
  if (instance.empty()) instance = log.instance;
  const std::string uri = StringMember(body, "uri");
  const std::string reason = absl::AsciiStrToUpper(StringMember(body, "reason"));
  const std::string detect_point = absl::AsciiStrToUpper(StringMember(body, "detect_point"));
  if (log.trace_id.empty() || uri.empty() || service.empty() || instance.empty() ||
      log.timestamp_ms <= 0 || detect_point.empty()) {
    return std::nullopt;
  }
  SampledTrace out;
  if (reason == "SLOW") {
    out.record = "sampled_slow_trace_record";
  } else if (reason == "STATUS_4XX") {
    out.record = "sampled_status_4xx_trace_record";
  } else if (reason == "STATUS_5XX") {
    out.record = "sampled_status_5xx_trace_record";
  } else {
    return std::nullopt;
  }
  const std::string instance_id = model::InstanceId(model::ServiceId(service), instance);
  auto end = [&](const char* member) -> std::string {
    auto it = body.FindMember(member);
    if (it == body.MemberEnd() || !it->value.IsObject()) return "";
    std::string id = StringMember(it->value, "process_id");
    if (!id.empty()) return id;
    const char* name = StringMember(it->value, "local") == "true" ? kUnknownLocal : kUnknownRemote;
    id = model::ProcessId(name, instance_id);
    for (const auto& v : out.virtual_processes) {
      if (v.id == id) return id;
    }
    out.virtual_processes.push_back({id, service, instance, name});
    return id;
  };
  const std::string client = end("client_process");
  const std::string server = end("server_process");
  if (client.empty() || server.empty()) return std::nullopt;
  double latency = 0;
  auto latency_member = body.FindMember("latency");
  if (latency_member != body.MemberEnd() && latency_member->value.IsNumber()) {
    latency = latency_member->value.GetDouble();
  }
  if (!std::isfinite(latency) || latency < 0) latency = 0;
  out.entity_id = model::ProcessRelationId(client, server);
  out.value.uri = uri;
  out.value.trace_id = log.trace_id;
  out.value.latency_ms = latency > 9.2e18 ? INT64_MAX : static_cast<int64_t>(latency);
  out.value.timestamp_ms = log.timestamp_ms;
  const std::string component = StringMember(body, "component");
  const bool ssl = StringMember(body, "ssl") == "true";
  out.relation = {instance_id,
                  client,
                  server,
                  detect_point == "SERVER",
                  NetworkComponent(component, ssl ? "true" : "false"),
                  now_ms - ((now_ms % 60000) + 60000) % 60000};
  return out;
}

}  // namespace stackhouse::metrics
