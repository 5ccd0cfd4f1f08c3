#include "storage/rocks_metadata_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/ids.h"
#include "stackhouse/records.pb.h"
#include "storage/key_codec.h"

namespace stackhouse::storage {
namespace {

constexpr char kServicePrefix = 's';
constexpr char kInstancePrefix = 'i';
constexpr char kEndpointPrefix = 'e';

std::string EndpointPrefix(absl::string_view service_id) {
  std::string key(1, kEndpointPrefix);
  AppendString(&key, service_id);
  return key;
}

std::string EndpointKey(absl::string_view service_id, absl::string_view endpoint_id) {
  std::string key = EndpointPrefix(service_id);
  AppendString(&key, endpoint_id);
  return key;
}

std::string ServiceKey(absl::string_view service_id) {
  std::string key(1, kServicePrefix);
  AppendString(&key, service_id);
  return key;
}

std::string InstancePrefix(absl::string_view service_id) {
  std::string key(1, kInstancePrefix);
  AppendString(&key, service_id);
  return key;
}

std::string InstanceKey(absl::string_view service_id, absl::string_view instance_id) {
  std::string key = InstancePrefix(service_id);
  AppendString(&key, instance_id);
  return key;
}

absl::Status Corrupt(absl::string_view what, absl::string_view key) {
  return absl::DataLossError(
      absl::StrCat("cannot decode stored ", what, " record (key size ", key.size(), ")"));
}

absl::StatusOr<model::Service> DecodeService(const Record& record) {
  records::ServiceRecord pb;
  KeyReader reader(record.key);
  std::string id;
  if (!reader.Skip(1) || !reader.ReadString(&id) || !pb.ParseFromString(record.value)) {
    return Corrupt("service", record.key);
  }
  model::Service service;
  service.id = std::move(id);
  service.name = pb.name();
  service.layers.assign(pb.layers().begin(), pb.layers().end());
  service.normal = pb.normal();
  service.first_seen_ms = pb.first_seen_ms();
  service.last_seen_ms = record.timestamp_ms;
  return service;
}

absl::StatusOr<model::ServiceInstance> DecodeInstance(const Record& record) {
  records::InstanceRecord pb;
  KeyReader reader(record.key);
  std::string service_id, id;
  if (!reader.Skip(1) || !reader.ReadString(&service_id) || !reader.ReadString(&id) ||
      !pb.ParseFromString(record.value)) {
    return Corrupt("instance", record.key);
  }
  model::ServiceInstance instance;
  instance.id = std::move(id);
  instance.service_id = std::move(service_id);
  instance.name = pb.name();
  instance.layer = pb.layer();
  for (const auto& kv : pb.properties()) instance.properties.emplace_back(kv.key(), kv.value());
  instance.first_seen_ms = pb.first_seen_ms();
  instance.last_heartbeat_ms = pb.last_heartbeat_ms();
  return instance;
}

absl::StatusOr<model::Endpoint> DecodeEndpoint(const Record& record) {
  records::EndpointRecord pb;
  KeyReader reader(record.key);
  model::Endpoint endpoint;
  if (!reader.Skip(1) || !reader.ReadString(&endpoint.service_id) ||
      !reader.ReadString(&endpoint.id) || !pb.ParseFromString(record.value)) {
    return Corrupt("endpoint", record.key);
  }
  endpoint.name = pb.name();
  endpoint.first_seen_ms = pb.first_seen_ms();
  endpoint.last_seen_ms = record.timestamp_ms;
  return endpoint;
}

}  // namespace

absl::Status RocksMetadataStore::UpsertInstance(const std::string& service_name,
                                                const model::ServiceInstance& instance,
                                                bool replace_properties) {
  const int64_t now = clock_->NowMillis();
  const std::string instance_key = InstanceKey(instance.service_id, instance.id);
  if (replace_properties) {
    touches_.Record(instance_key, now);
  } else if (!touches_.ShouldTouch(instance_key, now)) {
    return absl::OkStatus();
  }
  absl::Status written = WriteInstance(service_name, instance, replace_properties, now);
  if (!written.ok()) touches_.Forget(instance_key);
  return written;
}

absl::Status RocksMetadataStore::WriteInstance(const std::string& service_name,
                                               const model::ServiceInstance& instance,
                                               bool replace_properties, int64_t now) {
  const std::string service_key = ServiceKey(instance.service_id);
  const std::string instance_key = InstanceKey(instance.service_id, instance.id);
  absl::MutexLock lock(&mu_);
  records::ServiceRecord service;
  SH_ASSIGN_OR_RETURN(auto stored_service, db_->Get(Family::kMetadata, service_key));
  if (stored_service && !service.ParseFromString(stored_service->value)) {
    return Corrupt("service", service_key);
  }
  if (!stored_service) {
    service.set_first_seen_ms(now);
    service.set_normal(true);
  }
  service.set_name(service_name);
  if (!instance.layer.empty() && std::find(service.layers().begin(), service.layers().end(),
                                           instance.layer) == service.layers().end()) {
    service.add_layers(instance.layer);
    std::sort(service.mutable_layers()->begin(), service.mutable_layers()->end());
  }

  records::InstanceRecord record;
  SH_ASSIGN_OR_RETURN(auto stored_instance, db_->Get(Family::kMetadata, instance_key));
  if (stored_instance && !record.ParseFromString(stored_instance->value)) {
    return Corrupt("instance", instance_key);
  }
  if (!stored_instance) record.set_first_seen_ms(now);
  record.set_service_id(instance.service_id);
  record.set_name(instance.name);
  if (!instance.layer.empty()) record.set_layer(instance.layer);
  if (replace_properties || !stored_instance) {
    record.clear_properties();
    for (const auto& [key, value] : instance.properties) {
      auto* kv = record.add_properties();
      kv->set_key(key);
      kv->set_value(value);
    }
  }
  record.set_last_heartbeat_ms(now);

  WriteBatch batch;
  batch.Put(Family::kMetadata, service_key, now, service.SerializeAsString());
  batch.Put(Family::kMetadata, instance_key, now, record.SerializeAsString());
  return db_->Write(std::move(batch));
}

absl::StatusOr<std::vector<model::Service>> RocksMetadataStore::ListServices() const {
  std::vector<model::Service> services;
  absl::Status decode_status;
  SH_RETURN_IF_ERROR(
      db_->ScanPrefix(Family::kMetadata, std::string(1, kServicePrefix), [&](const Record& record) {
        auto service = DecodeService(record);
        if (!service.ok()) {
          decode_status = service.status();
          return false;
        }
        services.push_back(std::move(*service));
        return true;
      }));
  SH_RETURN_IF_ERROR(decode_status);
  return services;
}

absl::StatusOr<std::optional<model::Service>> RocksMetadataStore::GetService(
    const std::string& service_id) const {
  SH_ASSIGN_OR_RETURN(auto record, db_->Get(Family::kMetadata, ServiceKey(service_id)));
  if (!record) return std::nullopt;
  SH_ASSIGN_OR_RETURN(auto service, DecodeService(*record));
  return service;
}

absl::StatusOr<std::vector<model::ServiceInstance>> RocksMetadataStore::ListInstances(
    const std::string& service_id) const {
  std::vector<model::ServiceInstance> instances;
  absl::Status decode_status;
  SH_RETURN_IF_ERROR(
      db_->ScanPrefix(Family::kMetadata, InstancePrefix(service_id), [&](const Record& record) {
        auto instance = DecodeInstance(record);
        if (!instance.ok()) {
          decode_status = instance.status();
          return false;
        }
        instances.push_back(std::move(*instance));
        return true;
      }));
  SH_RETURN_IF_ERROR(decode_status);
  return instances;
}

absl::StatusOr<std::optional<model::ServiceInstance>> RocksMetadataStore::GetInstance(
    const std::string& instance_id) const {
  auto parts = model::DecodeChildId(instance_id);
  if (!parts.ok()) return std::nullopt;  // not an id we could have issued
  SH_ASSIGN_OR_RETURN(auto record,
                      db_->Get(Family::kMetadata, InstanceKey(parts->service_id, instance_id)));
  if (!record) return std::nullopt;
  SH_ASSIGN_OR_RETURN(auto instance, DecodeInstance(*record));
  return instance;
}

absl::StatusOr<int64_t> RocksMetadataStore::EndpointFirstSeen(const std::string& key, int64_t now) {
  absl::MutexLock lock(&first_seen_mu_);
  auto known = first_seen_.find(key);
  if (known != first_seen_.end()) return known->second;
  SH_ASSIGN_OR_RETURN(auto stored, db_->Get(Family::kMetadata, key));
  int64_t first_seen = now;
  if (stored) {
    records::EndpointRecord pb;
    if (pb.ParseFromString(stored->value) && pb.first_seen_ms() > 0)
      first_seen = pb.first_seen_ms();
  }
  if (first_seen_.size() > TouchCoalescer::kMaxEntries) first_seen_.clear();
  first_seen_.emplace(key, first_seen);
  return first_seen;
}

absl::Status RocksMetadataStore::TouchEndpoints(const std::string& service_id,
                                                const std::vector<std::string>& endpoint_names) {
  const int64_t now = clock_->NowMillis();
  WriteBatch batch;
  std::vector<std::string> keys;  // due, in `batch`
  absl::Status status;
  for (const std::string& name : endpoint_names) {
    std::string id = model::EndpointId(service_id, name);
    std::string key = EndpointKey(service_id, id);
    if (!touches_.ShouldTouch(key, now)) continue;  // also drops a name repeated in this call
    keys.push_back(key);
    absl::StatusOr<int64_t> first_seen = EndpointFirstSeen(key, now);
    if (!first_seen.ok()) {
      status = first_seen.status();
      break;
    }
    records::EndpointRecord pb;
    pb.set_name(name);
    pb.set_first_seen_ms(*first_seen);
    batch.Put(Family::kMetadata, key, now, pb.SerializeAsString());
  }
  if (status.ok() && batch.Count() > 0) status = db_->Write(std::move(batch));
  if (!status.ok()) {
    for (const std::string& key : keys) touches_.Forget(key);
  }
  return status;
}

absl::StatusOr<std::vector<model::Endpoint>> RocksMetadataStore::FindEndpoints(
    const std::string& service_id, const std::string& keyword, int limit) const {
  std::vector<model::Endpoint> endpoints;
  absl::Status decode_status;
  SH_RETURN_IF_ERROR(
      db_->ScanPrefix(Family::kMetadata, EndpointPrefix(service_id), [&](const Record& record) {
        auto endpoint = DecodeEndpoint(record);
        if (!endpoint.ok()) {
          decode_status = endpoint.status();
          return false;
        }
        if (keyword.empty() || endpoint->name.find(keyword) != std::string::npos) {
          endpoints.push_back(std::move(*endpoint));
        }
        return true;
      }));
  SH_RETURN_IF_ERROR(decode_status);
  std::sort(endpoints.begin(), endpoints.end(),
            [](const model::Endpoint& a, const model::Endpoint& b) {
              if (a.first_seen_ms != b.first_seen_ms) return a.first_seen_ms > b.first_seen_ms;
              return a.name < b.name;
            });
  if (limit >= 0 && endpoints.size() > static_cast<size_t>(limit)) {
    endpoints.resize(static_cast<size_t>(limit));
  }
  return endpoints;
}

absl::StatusOr<std::optional<model::Endpoint>> RocksMetadataStore::GetEndpoint(
    const std::string& endpoint_id) const {
  auto parts = model::DecodeChildId(endpoint_id);
  if (!parts.ok()) return std::nullopt;
  SH_ASSIGN_OR_RETURN(auto record,
                      db_->Get(Family::kMetadata, EndpointKey(parts->service_id, endpoint_id)));
  if (!record) return std::nullopt;
  SH_ASSIGN_OR_RETURN(auto endpoint, DecodeEndpoint(*record));
  return endpoint;
}

}  // namespace stackhouse::storage
