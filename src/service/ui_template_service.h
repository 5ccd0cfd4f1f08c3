#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "storage/ui_template_store.h"

namespace stackhouse::service {

// The answer of a template mutation (GraphQL TemplateChangeStatus).
struct TemplateChange {
  std::string id;
  bool status = false;
  std::optional<std::string> message;  // why it failed
};

// SkyWalking UI's dashboard templates (graphql-protocol.md §2.9): booster-ui loads them at
// start and saves the dashboards an operator builds. The configuration is the UI's JSON,
// stored verbatim (at most kMaxConfigurationBytes).
//
// The operator's stored templates are offered together with the server's defaults
// (DefaultUiTemplates()), which are not stored until an operator touches them:
// - an enabled stored template with the same (layer, entity, name) as a default replaces it;
// - Change(default id) stores the default's id with the new configuration; from then on it is
//   an operator template like any other;
// - Disable(default id) stores the default disabled, which hides it for good.
// A template is "visible" when List() offers it; Get, Change and Disable see only visible ones.
//
// Thread-safe: changes are serialized.
class UiTemplateService {
 public:
  static constexpr size_t kMaxConfigurationBytes = 4 << 20;
  // By default, enabled stored templates beyond this many are refused by Add (booster-ui ships
  // about a hundred). Defaults do not count.
  static constexpr size_t kMaxTemplates = 10'000;

  // Dependencies must outlive the service. `defaults` have distinct ids that no stored
  // template was given by Add (UUIDs).
  UiTemplateService(storage::UiTemplateStore* store, const Clock* clock,
                    std::vector<storage::UiTemplate> defaults = {},
                    size_t max_templates = kMaxTemplates);

  // A new template with a fresh id.
  absl::StatusOr<TemplateChange> Add(const std::string& configuration);
  // Replaces the configuration of a visible template.
  absl::StatusOr<TemplateChange> Change(const std::string& id, const std::string& configuration);
  // Disables a visible template: it is no longer listed or returned.
  absl::StatusOr<TemplateChange> Disable(const std::string& id);

  // The visible template `id`, if any.
  absl::StatusOr<std::optional<storage::UiTemplate>> Get(const std::string& id) const;
  // Every visible template (the enabled stored ones and the defaults neither stored nor replaced),
  // ordered by id.
  absl::StatusOr<std::vector<storage::UiTemplate>> List() const;

 private:
  // A default and its (layer, entity, name), joined by '\n'; "" if its JSON lacks them.
  struct Default {
    storage::UiTemplate t;
    std::string key;
  };

  // Visible templates of `stored` (the store's whole list).
  std::vector<storage::UiTemplate> Visible(std::vector<storage::UiTemplate> stored) const;

  // Constant after construction.
  storage::UiTemplateStore* const store_;
  const Clock* const clock_;
  const std::vector<Default> defaults_;  // ordered by id
  const size_t max_templates_;

  absl::Mutex mu_;  // serializes read-modify-write changes
};

}  // namespace stackhouse::service
