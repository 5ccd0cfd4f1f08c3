#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "storage/ui_template_store.h"

namespace stackhouse::task {

// The answer of a template mutation (GraphQL TemplateChangeStatus).
struct TemplateChange {
  std::string id;
  bool status = false;
  std::optional<std::string> message;  // why it failed
};

// SkyWalking UI's dashboard templates (graphql-protocol.md §2.9): booster-ui loads them at
// start and saves the dashboards an operator builds. The configuration is the UI's JSON,
// stored verbatim (at most kMaxConfigurationBytes). Thread-safe: changes are serialized.
class UiTemplateService {
 public:
  static constexpr size_t kMaxConfigurationBytes = 4 << 20;
  // By default, enabled templates beyond this many are refused (booster-ui ships about a
  // hundred).
  static constexpr size_t kMaxTemplates = 10'000;

  // Dependencies must outlive the service.
  UiTemplateService(storage::UiTemplateStore* store, const Clock* clock,
                    size_t max_templates = kMaxTemplates)
      : store_(store), clock_(clock), max_templates_(max_templates) {}

  // A new template with a fresh id.
  absl::StatusOr<TemplateChange> Add(const std::string& configuration);
  // Replaces the configuration of an enabled template.
  absl::StatusOr<TemplateChange> Change(const std::string& id, const std::string& configuration);
  // Disables a template: it is no longer listed or returned.
  absl::StatusOr<TemplateChange> Disable(const std::string& id);

  // The enabled template `id`, if any.
  absl::StatusOr<std::optional<storage::UiTemplate>> Get(const std::string& id) const;
  // Every enabled template, ordered by id.
  absl::StatusOr<std::vector<storage::UiTemplate>> List() const;

 private:
  storage::UiTemplateStore* const store_;
  const Clock* const clock_;
  const size_t max_templates_;
  absl::Mutex mu_;  // serializes read-modify-write changes
};

}  // namespace stackhouse::task
