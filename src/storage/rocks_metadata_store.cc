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
  return absl::DataLossError(absl::StrCat("cannot decode stored ", what, " record (key size ",
                                          key.size(), ")"));
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

}  // namespace

absl::Status RocksMetadataStore::UpsertInstance(const std::string& service_name,
                                                const model::ServiceInstance& instance,
                                                bool replace_properties) {
  const int64_t now = clock_->NowMillis();
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
  if (!instance.layer.empty() &&
      std::find(service.layers().begin(), service.layers().end(), instance.layer) ==
          service.layers().end()) {
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
  SH_RETURN_IF_ERROR(db_->ScanPrefix(Family::kMetadata, std::string(1, kServicePrefix),
                                     [&](const Record& record) {
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
  SH_RETURN_IF_ERROR(db_->ScanPrefix(Family::kMetadata, InstancePrefix(service_id),
                                     [&](const Record& record) {
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

}  // namespace stackhouse::storage
