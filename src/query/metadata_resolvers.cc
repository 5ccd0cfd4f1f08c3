// Metadata queries (graphql-protocol.md §2.3, §7): services, instances, endpoints, time, TTLs.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/status_macros.h"
#include "model/ids.h"
#include "query/duration.h"
#include "query/query_service.h"
#include "query/resolver_util.h"

namespace stackhouse::query {
namespace {

// Layer names OAP knows (grpc-protocol.md §5.6), without UNDEFINED.
constexpr const char* kLayers[] = {"MESH",
                                   "GENERAL",
                                   "OS_LINUX",
                                   "K8S",
                                   "FAAS",
                                   "MESH_CP",
                                   "MESH_DP",
                                   "DATABASE",
                                   "CACHE",
                                   "BROWSER",
                                   "SO11Y_OAP",
                                   "SO11Y_SATELLITE",
                                   "MQ",
                                   "VIRTUAL_DATABASE",
                                   "VIRTUAL_MQ",
                                   "VIRTUAL_GATEWAY",
                                   "K8S_SERVICE",
                                   "MYSQL",
                                   "VIRTUAL_CACHE",
                                   "POSTGRESQL",
                                   "APISIX",
                                   "AWS_EKS",
                                   "OS_WINDOWS",
                                   "AWS_S3",
                                   "AWS_DYNAMODB",
                                   "AWS_GATEWAY",
                                   "REDIS",
                                   "ELASTICSEARCH",
                                   "RABBITMQ",
                                   "MONGODB",
                                   "KAFKA",
                                   "PULSAR",
                                   "BOOKKEEPER",
                                   "NGINX",
                                   "ROCKETMQ",
                                   "CLICKHOUSE",
                                   "ACTIVEMQ",
                                   "CILIUM_SERVICE",
                                   "SO11Y_JAVA_AGENT",
                                   "KONG",
                                   "SO11Y_GO_AGENT",
                                   "FLINK",
                                   "BANYANDB",
                                   "GENAI",
                                   "VIRTUAL_GENAI",
                                   "ENVOY_AI_GATEWAY",
                                   "IOS",
                                   "WECHAT_MINI_PROGRAM",
                                   "ALIPAY_MINI_PROGRAM",
                                   "AIRFLOW"};

Result ServiceResult(const model::Service& service) {
  // OAP's service groups: "group::name".
  std::string group, short_name = service.name;
  size_t separator = service.name.find("::");
  if (separator != std::string::npos) {
    group = service.name.substr(0, separator);
    short_name = service.name.substr(separator + 2);
  }
  return Result::Map({{"id", Result::String(service.id)},
                      {"name", Result::String(service.name)},
                      {"group", Result::String(group)},
                      {"shortName", Result::String(short_name)},
                      {"layers", StringList(service.layers)},
                      {"normal", Result::Bool(service.normal)}});
}

std::string Language(const model::KeyValueList& props) {
  std::string language;
  for (const auto& [key, value] : props) {
    if (key == "language") language = absl::AsciiStrToLower(value);
  }
  if (language == "java") return "JAVA";
  if (language == ".net") return "DOTNET";
  if (language == "nodejs") return "NODEJS";
  if (language == "python") return "PYTHON";
  if (language == "ruby") return "RUBY";
  if (language == "go") return "GO";
  if (language == "lua") return "LUA";
  if (language == "php") return "PHP";
  return "UNKNOWN";
}

Result InstanceResult(const model::ServiceInstance& instance) {
  return Result::Map({{"id", Result::String(instance.id)},
                      {"name", Result::String(instance.name)},
                      {"attributes", KeyValues(Attributes(instance.properties), "name", "value")},
                      {"language", Result::String(Language(instance.properties))},
                      {"instanceUUID", Result::String(instance.id)}});
}

Result EndpointResult(const model::Endpoint& endpoint) {
  return Result::Map(
      {{"id", Result::String(endpoint.id)}, {"name", Result::String(endpoint.name)}});
}

// Instances of `service_id` alive during `range` (heartbeat after its start minute, first seen
// before its end minute).
absl::StatusOr<Result> InstancesIn(const storage::MetadataStore* metadata,
                                   const std::string& service_id, const TimeRange& range) {
  if (range.start_ms >= range.end_ms) return Result::List({});
  SH_ASSIGN_OR_RETURN(auto instances, metadata->ListInstances(service_id));
  std::vector<Result> items;
  for (const model::ServiceInstance& instance : instances) {
    if (MinuteFloor(instance.last_heartbeat_ms) < MinuteFloor(range.start_ms)) continue;
    if (MinuteFloor(instance.first_seen_ms) > MinuteFloor(range.end_ms)) continue;
    items.push_back(InstanceResult(instance));
  }
  return Result::List(std::move(items));
}

absl::StatusOr<Result> EndpointsOf(const storage::MetadataStore* metadata,
                                   const graphql::ResolverContext& context,
                                   const std::string& service_id) {
  std::string keyword = StringArg(context, "keyword");
  int64_t limit = context.args().Get("limit").int_value();
  const graphql::Value& duration = context.args().Get("duration");
  std::optional<TimeRange> range;
  if (!duration.is_null()) {
    SH_ASSIGN_OR_RETURN(range, ParseDuration(duration));
  }
  SH_ASSIGN_OR_RETURN(auto endpoints, metadata->FindEndpoints(service_id, keyword, -1));
  std::vector<Result> items;
  for (const model::Endpoint& endpoint : endpoints) {
    if (static_cast<int64_t>(items.size()) >= limit) break;
    if (range && (MinuteFloor(endpoint.last_seen_ms) < MinuteFloor(range->start_ms) ||
                  MinuteFloor(endpoint.first_seen_ms) > MinuteFloor(range->end_ms))) {
      continue;
    }
    items.push_back(EndpointResult(endpoint));
  }
  return Result::List(std::move(items));
}

}  // namespace

void BindMetadataResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder) {
  const storage::MetadataStore* metadata = deps.metadata;
  const Clock* clock = deps.clock;
  const config::Config* config = deps.config;
  using Context = graphql::ResolverContext;

  builder->BindResolver("Query.checkHealth", [](const Context&) -> absl::StatusOr<Result> {
    return Result::Map({{"score", Result::Int(0)}, {"details", Result::Null()}});
  });
  builder->BindResolver(
      "Query.hasQueryTracesV2Support",
      [](const Context&) -> absl::StatusOr<Result> { return Result::Bool(false); });
  builder->BindResolver("Query.listLayers", [](const Context&) -> absl::StatusOr<Result> {
    std::vector<Result> items;
    for (const char* layer : kLayers) items.push_back(Result::String(layer));
    return Result::List(std::move(items));
  });
  builder->BindResolver(
      "Query.listServices", [metadata](const Context& c) -> absl::StatusOr<Result> {
        std::string layer = StringArg(c, "layer");
        SH_ASSIGN_OR_RETURN(auto services, metadata->ListServices());
        std::vector<Result> items;
        for (const model::Service& service : services) {
          if (!layer.empty() && std::find(service.layers.begin(), service.layers.end(), layer) ==
                                    service.layers.end()) {
            continue;
          }
          items.push_back(ServiceResult(service));
        }
        return Result::List(std::move(items));
      });
  auto get_service = [metadata](const std::string& id) -> absl::StatusOr<Result> {
    SH_ASSIGN_OR_RETURN(auto service, metadata->GetService(id));
    return service ? ServiceResult(*service) : Result::Null();
  };
  builder->BindResolver("Query.getService", [get_service](const Context& c) {
    return get_service(StringArg(c, "serviceId"));
  });
  builder->BindResolver("Query.findService", [get_service](const Context& c) {
    return get_service(model::ServiceId(StringArg(c, "serviceName")));
  });
  builder->BindResolver(
      "Query.listInstances", [metadata](const Context& c) -> absl::StatusOr<Result> {
        SH_ASSIGN_OR_RETURN(TimeRange range, ParseDuration(c.args().Get("duration")));
        return InstancesIn(metadata, StringArg(c, "serviceId"), range);
      });
  builder->BindResolver(
      "Query.listInstancesByName", [metadata](const Context& c) -> absl::StatusOr<Result> {
        SH_ASSIGN_OR_RETURN(TimeRange range, ParseDuration(c.args().Get("duration")));
        const graphql::Value* name = c.args().Get("service").Find("serviceName");
        return InstancesIn(metadata, model::ServiceId(name ? name->string_value() : ""), range);
      });
  builder->BindResolver(
      "Query.getInstance", [metadata](const Context& c) -> absl::StatusOr<Result> {
        SH_ASSIGN_OR_RETURN(auto instance, metadata->GetInstance(StringArg(c, "instanceId")));
        return instance ? InstanceResult(*instance) : Result::Null();
      });
  builder->BindResolver("Query.findEndpoint", [metadata](const Context& c) {
    return EndpointsOf(metadata, c, StringArg(c, "serviceId"));
  });
  builder->BindResolver("Query.findEndpointByName", [metadata](const Context& c) {
    const graphql::Value* name = c.args().Get("service").Find("serviceName");
    return EndpointsOf(metadata, c, model::ServiceId(name ? name->string_value() : ""));
  });
  builder->BindResolver("Query.getEndpointInfo", [](const Context& c) -> absl::StatusOr<Result> {
    // Built from the id alone, as OAP does.
    std::string id = StringArg(c, "endpointId");
    auto parts = model::DecodeChildId(id);
    if (!parts.ok()) return Result::Null();
    auto service = model::DecodeServiceId(parts->service_id);
    return Result::Map({{"id", Result::String(id)},
                        {"name", Result::String(parts->name)},
                        {"serviceId", Result::String(parts->service_id)},
                        {"serviceName", Result::String(service.ok() ? service->name : "")}});
  });
  builder->BindResolver("Query.getTimeInfo", [clock](const Context&) -> absl::StatusOr<Result> {
    int64_t now = clock->NowMillis();
    return Result::Map({{"timezone", Result::String(TimezoneOffset(now))},
                        {"currentTimestamp", Result::Int(now)}});
  });
  builder->BindResolver("Query.getRecordsTTL", [config](const Context&) -> absl::StatusOr<Result> {
    Result days = Result::Int(config->storage.record_ttl_days);
    Fields fields;
    for (const char* name : {"normal", "trace", "zipkinTrace", "log", "browserErrorLog"}) {
      fields.emplace_back(name, days);
    }
    for (const char* name :
         {"coldNormal", "coldTrace", "coldZipkinTrace", "coldLog", "coldBrowserErrorLog"}) {
      fields.emplace_back(name, Result::Int(-1));
    }
    return Result::Map(std::move(fields));
  });
  builder->BindResolver("Query.getMetricsTTL", [config](const Context&) -> absl::StatusOr<Result> {
    Result days = Result::Int(config->storage.metrics_ttl_days);
    return Result::Map({{"metadata", days},
                        {"minute", days},
                        {"hour", days},
                        {"day", days},
                        {"coldMinute", Result::Int(-1)},
                        {"coldHour", Result::Int(-1)},
                        {"coldDay", Result::Int(-1)}});
  });
}

}  // namespace stackhouse::query
