#include "service/ui_template_service.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/uuid.h"
#include "rapidjson/document.h"

namespace stackhouse::service {
namespace {

constexpr char kNotFound[] = "Can't find the template";

std::optional<TemplateChange> TooLarge(const std::string& id, const std::string& configuration) {
  if (configuration.size() <= UiTemplateService::kMaxConfigurationBytes) return std::nullopt;
  return TemplateChange{id, false,
                        absl::StrCat("The configuration is larger than ",
                                     UiTemplateService::kMaxConfigurationBytes, " bytes")};
}

// The (layer, entity, name) of a template by which booster-ui finds it, or "" when
// `configuration` is not an object with those three strings.
std::string KeyOf(const std::string& configuration) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(configuration.data(), configuration.size());
  if (doc.HasParseError() || !doc.IsObject()) return "";
  std::string key;
  for (const char* field : {"layer", "entity", "name"}) {
    auto it = doc.FindMember(field);
    if (it == doc.MemberEnd() || !it->value.IsString()) return "";
    absl::StrAppend(&key, key.empty() ? "" : "\n",
                    absl::string_view(it->value.GetString(), it->value.GetStringLength()));
  }
  return key;
}

bool ById(const storage::UiTemplate& a, const storage::UiTemplate& b) { return a.id < b.id; }

}  // namespace

UiTemplateService::UiTemplateService(storage::UiTemplateStore* store, const Clock* clock,
                                     std::vector<storage::UiTemplate> defaults,
                                     size_t max_templates)
    : store_(store),
      clock_(clock),
      defaults_([&defaults] {
        std::sort(defaults.begin(), defaults.end(), ById);
        std::vector<Default> keyed;
        for (storage::UiTemplate& t : defaults) {
          std::string key = KeyOf(t.configuration);
          keyed.push_back(Default{std::move(t), std::move(key)});
        }
        return keyed;
      }()),
      max_templates_(max_templates) {}

absl::StatusOr<TemplateChange> UiTemplateService::Add(const std::string& configuration) {
  storage::UiTemplate t;
  t.id = NewUuid();
  if (auto refused = TooLarge(t.id, configuration)) return *refused;
  t.configuration = configuration;
  t.update_time_ms = clock_->NowMillis();
  absl::MutexLock lock(&mu_);
  SH_ASSIGN_OR_RETURN(std::vector<storage::UiTemplate> stored, store_->ListTemplates());
  const size_t enabled = std::count_if(stored.begin(), stored.end(),
                                       [](const storage::UiTemplate& s) { return !s.disabled; });
  if (enabled >= max_templates_) {
    return TemplateChange{
        t.id, false,
        absl::StrCat("There are already ", enabled, " templates; disable some before adding more")};
  }
  SH_RETURN_IF_ERROR(store_->PutTemplate(t));
  return TemplateChange{t.id, true, std::nullopt};
}

absl::StatusOr<TemplateChange> UiTemplateService::Change(const std::string& id,
                                                         const std::string& configuration) {
  if (auto refused = TooLarge(id, configuration)) return *refused;
  absl::MutexLock lock(&mu_);
  SH_ASSIGN_OR_RETURN(auto visible, Get(id));
  if (!visible) return TemplateChange{id, false, kNotFound};
  visible->configuration = configuration;
  visible->update_time_ms = clock_->NowMillis();
  SH_RETURN_IF_ERROR(store_->PutTemplate(*visible));
  return TemplateChange{id, true, std::nullopt};
}

absl::StatusOr<TemplateChange> UiTemplateService::Disable(const std::string& id) {
  absl::MutexLock lock(&mu_);
  SH_ASSIGN_OR_RETURN(auto visible, Get(id));
  if (!visible) return TemplateChange{id, false, kNotFound};
  visible->disabled = true;
  visible->update_time_ms = clock_->NowMillis();
  SH_RETURN_IF_ERROR(store_->PutTemplate(*visible));
  return TemplateChange{id, true, std::nullopt};
}

absl::StatusOr<std::optional<storage::UiTemplate>> UiTemplateService::Get(
    const std::string& id) const {
  SH_ASSIGN_OR_RETURN(auto stored, store_->GetTemplate(id));
  if (stored) {
    if (stored->disabled) return std::nullopt;
    return stored;
  }
  auto d = std::lower_bound(defaults_.begin(), defaults_.end(), id,
                            [](const Default& a, const std::string& b) { return a.t.id < b; });
  if (d == defaults_.end() || d->t.id != id) return std::nullopt;
  // A default is hidden by an enabled stored template with its key.
  SH_ASSIGN_OR_RETURN(std::vector<storage::UiTemplate> all, store_->ListTemplates());
  for (const storage::UiTemplate& t : Visible(std::move(all))) {
    if (t.id == id) return t;
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<storage::UiTemplate>> UiTemplateService::List() const {
  SH_ASSIGN_OR_RETURN(std::vector<storage::UiTemplate> all, store_->ListTemplates());
  return Visible(std::move(all));
}

std::vector<storage::UiTemplate> UiTemplateService::Visible(
    std::vector<storage::UiTemplate> stored) const {
  absl::flat_hash_set<std::string> stored_ids;
  absl::flat_hash_set<std::string> enabled_keys;
  std::vector<storage::UiTemplate> visible;
  for (storage::UiTemplate& t : stored) {
    stored_ids.insert(t.id);
    if (t.disabled) continue;
    // Keys matter only to hide defaults; without any, no configuration is parsed.
    if (!defaults_.empty()) enabled_keys.insert(KeyOf(t.configuration));
    visible.push_back(std::move(t));
  }
  for (const Default& d : defaults_) {
    if (stored_ids.contains(d.t.id)) continue;
    if (!d.key.empty() && enabled_keys.contains(d.key)) continue;
    visible.push_back(d.t);
  }
  std::sort(visible.begin(), visible.end(), ById);
  return visible;
}

}  // namespace stackhouse::service
