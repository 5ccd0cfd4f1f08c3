#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace stackhouse::storage {

// A dashboard template of SkyWalking's UI (graphql-protocol.md §2.9): JSON text the UI exports,
// kept verbatim. Disabled templates are kept but no longer offered.
struct UiTemplate {
  std::string id;
  std::string configuration;
  bool disabled = false;
  int64_t update_time_ms = 0;
};

// UI dashboard templates; they never expire. Implementations are thread-safe.
class UiTemplateStore {
 public:
  virtual ~UiTemplateStore() = default;

  // Stores (replaces) `t` durably.
  virtual absl::Status PutTemplate(const UiTemplate& t) = 0;
  // The template `id`, disabled or not; nullopt if there is none.
  virtual absl::StatusOr<std::optional<UiTemplate>> GetTemplate(const std::string& id) const = 0;
  // Every template, disabled or not, ordered by id.
  virtual absl::StatusOr<std::vector<UiTemplate>> ListTemplates() const = 0;
};

}  // namespace stackhouse::storage
