#include "storage/pg/pg_metadata_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "model/ids.h"
#include "storage/key_codec.h"

namespace stackhouse::storage::pg {
namespace {

// $1 service id, $2 service name, $3 instance id, $4 layer, $5 instance name, $6 properties,
// $7 now, $8 replace properties, $9 the metrics cutoff (a row not seen since is expired and
// is written as if new).
constexpr char kUpsertInstance[] = R"sql(
WITH s AS (
  INSERT INTO sh_service AS s (id, name, layers, normal, first_seen_ms, last_seen_ms)
  VALUES ($1, $2, CASE WHEN $4 = '' THEN '{}'::text[] ELSE ARRAY[$4] END, true, $7, $7)
  ON CONFLICT (id) DO UPDATE SET
    name = EXCLUDED.name,
    first_seen_ms = CASE WHEN s.last_seen_ms <= $9 THEN EXCLUDED.first_seen_ms
                         ELSE s.first_seen_ms END,
    normal = CASE WHEN s.last_seen_ms <= $9 THEN true ELSE s.normal END,
    layers = CASE WHEN s.last_seen_ms <= $9 THEN EXCLUDED.layers
                  WHEN $4 = '' OR $4 = ANY(s.layers) THEN s.layers
                  ELSE ARRAY(SELECT l FROM unnest(s.layers || $4) AS l ORDER BY l COLLATE "C")
             END,
    last_seen_ms = EXCLUDED.last_seen_ms)
INSERT INTO sh_instance AS i
  (id, service_id, name, layer, properties, first_seen_ms, last_heartbeat_ms)
VALUES ($3, $1, $5, $4, $6, $7, $7)
ON CONFLICT (id) DO UPDATE SET
  service_id = EXCLUDED.service_id,
  name = EXCLUDED.name,
  layer = CASE WHEN EXCLUDED.layer = '' AND i.last_heartbeat_ms > $9 THEN i.layer
               ELSE EXCLUDED.layer END,
  properties = CASE WHEN $8 OR i.last_heartbeat_ms <= $9 THEN EXCLUDED.properties
                    ELSE i.properties END,
  first_seen_ms = CASE WHEN i.last_heartbeat_ms <= $9 THEN EXCLUDED.first_seen_ms
                       ELSE i.first_seen_ms END,
  last_heartbeat_ms = EXCLUDED.last_heartbeat_ms
)sql";

constexpr char kServiceColumns[] =
    "SELECT id, name, array_to_string(layers, chr(31)), normal, first_seen_ms, last_seen_ms "
    "FROM sh_service ";

constexpr char kInstanceColumns[] =
    "SELECT id, service_id, name, layer, properties, first_seen_ms, last_heartbeat_ms "
    "FROM sh_instance ";

// $1 service id, $2 endpoint ids, $3 their names, $4 now, $5 the metrics cutoff.
constexpr char kTouchEndpoints[] = R"sql(
INSERT INTO sh_endpoint AS e (id, service_id, name, first_seen_ms, last_seen_ms)
SELECT id, $1, name, $4, $4 FROM unnest($2::text[], $3::text[]) AS t(id, name)
ON CONFLICT (id) DO UPDATE SET
  first_seen_ms = CASE WHEN e.last_seen_ms <= $5 THEN EXCLUDED.first_seen_ms
                       ELSE e.first_seen_ms END,
  last_seen_ms = GREATEST(e.last_seen_ms, EXCLUDED.last_seen_ms)
)sql";

constexpr char kEndpointColumns[] =
    "SELECT id, service_id, name, first_seen_ms, last_seen_ms FROM sh_endpoint ";

std::string EncodeProperties(const model::KeyValueList& properties) {
  std::string out;
  for (const auto& [key, value] : properties) {
    AppendString(&out, key);
    AppendString(&out, value);
  }
  return out;
}

absl::StatusOr<model::KeyValueList> DecodeProperties(absl::string_view bytes) {
  model::KeyValueList properties;
  KeyReader reader(bytes);
  while (!reader.Done()) {
    std::string key, value;
    if (!reader.ReadString(&key) || !reader.ReadString(&value)) {
      return absl::DataLossError("cannot decode the stored properties of an instance");
    }
    properties.emplace_back(std::move(key), std::move(value));
  }
  return properties;
}

model::Service ServiceAt(const Result& r, int row) {
  model::Service service;
  service.id = r.String(row, 0);
  service.name = r.String(row, 1);
  service.layers = absl::StrSplit(r.Bytes(row, 2), '\x1f', absl::SkipEmpty());
  service.normal = r.Bool(row, 3);
  service.first_seen_ms = r.Int64(row, 4);
  service.last_seen_ms = r.Int64(row, 5);
  return service;
}

absl::StatusOr<model::ServiceInstance> InstanceAt(const Result& r, int row) {
  model::ServiceInstance instance;
  instance.id = r.String(row, 0);
  instance.service_id = r.String(row, 1);
  instance.name = r.String(row, 2);
  instance.layer = r.String(row, 3);
  SH_ASSIGN_OR_RETURN(instance.properties, DecodeProperties(r.Bytes(row, 4)));
  instance.first_seen_ms = r.Int64(row, 5);
  instance.last_heartbeat_ms = r.Int64(row, 6);
  return instance;
}

model::Endpoint EndpointAt(const Result& r, int row) {
  model::Endpoint endpoint;
  endpoint.id = r.String(row, 0);
  endpoint.service_id = r.String(row, 1);
  endpoint.name = r.String(row, 2);
  endpoint.first_seen_ms = r.Int64(row, 3);
  endpoint.last_seen_ms = r.Int64(row, 4);
  return endpoint;
}

}  // namespace

absl::Status PgMetadataStore::UpsertInstance(const std::string& service_name,
                                             const model::ServiceInstance& instance,
                                             bool replace_properties) {
  const int64_t now = clock_->NowMillis();
  const std::string touch_key = "i" + instance.id;
  if (replace_properties) {
    touches_.Record(touch_key, now);
  } else if (!touches_.ShouldTouch(touch_key, now)) {
    return absl::OkStatus();
  }
  Params params;
  params.Text(instance.service_id)
      .Text(service_name)
      .Text(instance.id)
      .Text(instance.layer)
      .Text(instance.name)
      .Bytes(EncodeProperties(instance.properties))
      .Int64(now)
      .Bool(replace_properties)
      .Int64(Cutoff(now, options_.metrics_ttl_ms));
  absl::Status written =
      pool_->ExecPrepared("sh_upsert_instance", kUpsertInstance, params).status();
  if (!written.ok()) touches_.Forget(touch_key);
  return written;
}

absl::StatusOr<std::vector<model::Service>> PgMetadataStore::ListServices() const {
  SH_ASSIGN_OR_RETURN(
      Result r,
      pool_->ExecPrepared("sh_list_services",
                          absl::StrCat(kServiceColumns, "WHERE last_seen_ms > $1 ORDER BY id"),
                          Params().Int64(MetricsCutoff())));
  std::vector<model::Service> services;
  services.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) services.push_back(ServiceAt(r, row));
  return services;
}

absl::StatusOr<std::optional<model::Service>> PgMetadataStore::GetService(
    const std::string& service_id) const {
  SH_ASSIGN_OR_RETURN(
      Result r,
      pool_->ExecPrepared("sh_get_service",
                          absl::StrCat(kServiceColumns, "WHERE id = $1 AND last_seen_ms > $2"),
                          Params().Text(service_id).Int64(MetricsCutoff())));
  if (r.rows() == 0) return std::nullopt;
  return ServiceAt(r, 0);
}

absl::StatusOr<std::vector<model::ServiceInstance>> PgMetadataStore::ListInstances(
    const std::string& service_id) const {
  SH_ASSIGN_OR_RETURN(
      Result r, pool_->ExecPrepared(
                    "sh_list_instances",
                    absl::StrCat(kInstanceColumns,
                                 "WHERE service_id = $1 AND last_heartbeat_ms > $2 ORDER BY id"),
                    Params().Text(service_id).Int64(MetricsCutoff())));
  std::vector<model::ServiceInstance> instances;
  instances.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    SH_ASSIGN_OR_RETURN(auto instance, InstanceAt(r, row));
    instances.push_back(std::move(instance));
  }
  return instances;
}

absl::StatusOr<std::optional<model::ServiceInstance>> PgMetadataStore::GetInstance(
    const std::string& instance_id) const {
  SH_ASSIGN_OR_RETURN(
      Result r, pool_->ExecPrepared(
                    "sh_get_instance",
                    absl::StrCat(kInstanceColumns, "WHERE id = $1 AND last_heartbeat_ms > $2"),
                    Params().Text(instance_id).Int64(MetricsCutoff())));
  if (r.rows() == 0) return std::nullopt;
  SH_ASSIGN_OR_RETURN(auto instance, InstanceAt(r, 0));
  return instance;
}

absl::Status PgMetadataStore::TouchEndpoints(const std::string& service_id,
                                             const std::vector<std::string>& endpoint_names) {
  const int64_t now = clock_->NowMillis();
  std::vector<std::string> ids, names, keys;
  for (const std::string& name : endpoint_names) {
    std::string id = model::EndpointId(service_id, name);
    std::string key = "e" + id;
    if (!touches_.ShouldTouch(key, now)) continue;  // also drops a name repeated in this call
    ids.push_back(std::move(id));
    names.push_back(name);
    keys.push_back(std::move(key));
  }
  if (ids.empty()) return absl::OkStatus();
  Params params;
  params.Text(service_id)
      .TextArray(ids)
      .TextArray(names)
      .Int64(now)
      .Int64(Cutoff(now, options_.metrics_ttl_ms));
  absl::Status written =
      pool_->ExecPrepared("sh_touch_endpoints", kTouchEndpoints, params).status();
  if (!written.ok()) {
    for (const std::string& key : keys) touches_.Forget(key);
  }
  return written;
}

absl::StatusOr<std::vector<model::Endpoint>> PgMetadataStore::FindEndpoints(
    const std::string& service_id, const std::string& keyword, int limit) const {
  Params params;
  params.Text(service_id).Int64(MetricsCutoff()).Text(keyword);
  if (limit >= 0) {
    params.Int64(limit);
  } else {
    params.Null();
  }
  SH_ASSIGN_OR_RETURN(
      Result r,
      pool_->ExecPrepared("sh_find_endpoints",
                          absl::StrCat(kEndpointColumns,
                                       "WHERE service_id = $1 AND last_seen_ms > $2 "
                                       "AND strpos(name, $3) > 0 "
                                       "ORDER BY first_seen_ms DESC, name LIMIT $4::bigint"),
                          params));
  std::vector<model::Endpoint> endpoints;
  endpoints.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) endpoints.push_back(EndpointAt(r, row));
  return endpoints;
}

absl::StatusOr<std::optional<model::Endpoint>> PgMetadataStore::GetEndpoint(
    const std::string& endpoint_id) const {
  SH_ASSIGN_OR_RETURN(
      Result r,
      pool_->ExecPrepared("sh_get_endpoint",
                          absl::StrCat(kEndpointColumns, "WHERE id = $1 AND last_seen_ms > $2"),
                          Params().Text(endpoint_id).Int64(MetricsCutoff())));
  if (r.rows() == 0) return std::nullopt;
  return EndpointAt(r, 0);
}

}  // namespace stackhouse::storage::pg
