#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

// Domain types shared by receivers, stores and resolvers. Plain values, no protobuf or
// RocksDB types; copyable and thread-compatible.
namespace stackhouse::model {

using KeyValueList = std::vector<std::pair<std::string, std::string>>;

// The layer of an entity that did not name one.
inline constexpr const char* kDefaultLayer = "GENERAL";

// A service reported by agents or Rover.
struct Service {
  std::string id;  // ServiceId(name)
  std::string name;
  std::vector<std::string> layers;  // sorted, distinct
  bool normal = true;
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;  // retention runs from here
};

// An instance of a service (a language agent or a pod Rover saw).
struct ServiceInstance {
  std::string id;  // InstanceId(service_id, name)
  std::string service_id;
  std::string name;
  std::string layer;
  KeyValueList properties;  // in reported order; keys may repeat (e.g. ipv4)
  int64_t first_seen_ms = 0;
  int64_t last_heartbeat_ms = 0;
};

// An endpoint of a service (an entry span's operation name).
struct Endpoint {
  std::string id;  // EndpointId(service_id, name)
  std::string service_id;
  std::string name;
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
};

}  // namespace stackhouse::model
