#include "task/ui_template_service.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/uuid.h"

namespace stackhouse::task {
namespace {

constexpr char kNotFound[] = "Can't find the template";

std::optional<TemplateChange> TooLarge(const std::string& id, const std::string& configuration) {
  if (configuration.size() <= UiTemplateService::kMaxConfigurationBytes) return std::nullopt;
  return TemplateChange{id, false,
                        absl::StrCat("The configuration is larger than ",
                                     UiTemplateService::kMaxConfigurationBytes, " bytes")};
}

}  // namespace

absl::StatusOr<TemplateChange> UiTemplateService::Add(const std::string& configuration) {
  storage::UiTemplate t;
  t.id = NewUuid();
  if (auto refused = TooLarge(t.id, configuration)) return *refused;
  t.configuration = configuration;
  t.update_time_ms = clock_->NowMillis();
  absl::MutexLock lock(&mu_);
  SH_ASSIGN_OR_RETURN(std::vector<storage::UiTemplate> enabled, List());
  if (enabled.size() >= max_templates_) {
    return TemplateChange{t.id, false,
                          absl::StrCat("There are already ", enabled.size(),
                                       " templates; disable some before adding more")};
  }
  SH_RETURN_IF_ERROR(store_->PutTemplate(t));
  return TemplateChange{t.id, true, std::nullopt};
}

absl::StatusOr<TemplateChange> UiTemplateService::Change(const std::string& id,
                                                         const std::string& configuration) {
  if (auto refused = TooLarge(id, configuration)) return *refused;
  absl::MutexLock lock(&mu_);
  SH_ASSIGN_OR_RETURN(auto stored, store_->GetTemplate(id));
  if (!stored || stored->disabled) return TemplateChange{id, false, kNotFound};
  stored->configuration = configuration;
  stored->update_time_ms = clock_->NowMillis();
  SH_RETURN_IF_ERROR(store_->PutTemplate(*stored));
  return TemplateChange{id, true, std::nullopt};
}

absl::StatusOr<TemplateChange> UiTemplateService::Disable(const std::string& id) {
  absl::MutexLock lock(&mu_);
  SH_ASSIGN_OR_RETURN(auto stored, store_->GetTemplate(id));
  if (!stored || stored->disabled) return TemplateChange{id, false, kNotFound};
  stored->disabled = true;
  stored->update_time_ms = clock_->NowMillis();
  SH_RETURN_IF_ERROR(store_->PutTemplate(*stored));
  return TemplateChange{id, true, std::nullopt};
}

absl::StatusOr<std::optional<storage::UiTemplate>> UiTemplateService::Get(
    const std::string& id) const {
  SH_ASSIGN_OR_RETURN(auto stored, store_->GetTemplate(id));
  if (!stored || stored->disabled) return std::nullopt;
  return stored;
}

absl::StatusOr<std::vector<storage::UiTemplate>> UiTemplateService::List() const {
  SH_ASSIGN_OR_RETURN(std::vector<storage::UiTemplate> all, store_->ListTemplates());
  std::vector<storage::UiTemplate> enabled;
  for (auto& t : all) {
    if (!t.disabled) enabled.push_back(std::move(t));
  }
  return enabled;
}

}  // namespace stackhouse::task
