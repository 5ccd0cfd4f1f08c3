// SkyWalking UI bootstrap: the side menu and the dashboard templates (graphql-protocol.md §2.9,
// schema/ui_configuration.graphqls).
#include <algorithm>
#include <vector>

#include "common/status_macros.h"
#include "query/query_service.h"
#include "query/resolver_util.h"

namespace stackhouse::query {
namespace {

using Context = graphql::ResolverContext;

// The menu: groups of layers, as SkyWalking's UI arranges them (i18nKey and icon name the UI's
// translations and icons; it falls back to the title).
struct MenuEntry {
  const char* title;
  const char* layer;  // "" for a group
  const char* icon;
  const char* i18n_key;
  std::vector<MenuEntry> sub_items;
};

const std::vector<MenuEntry>& Menu() {
  static const auto* menu = new std::vector<MenuEntry>{
      {"General Service",
       "",
       "general_service",
       "general_service",
       {{"Services", "GENERAL", nullptr, "general_service_services", {}}}},
      {"Service Mesh",
       "",
       "service_mesh",
       "service_mesh",
       {{"Services", "MESH", nullptr, "service_mesh_service", {}},
        {"Control Plane", "MESH_CP", nullptr, "service_mesh_control_plane", {}},
        {"Data Plane", "MESH_DP", nullptr, "service_mesh_data_plane", {}}}},
      {"Kubernetes",
       "",
       "kubernetes",
       "kubernetes",
       {{"Cluster", "K8S", nullptr, "kubernetes_cluster", {}},
        {"Service", "K8S_SERVICE", nullptr, "kubernetes_service", {}}}},
      {"Operating System",
       "",
       "infrastructure",
       "infrastructure",
       {{"Linux", "OS_LINUX", nullptr, "infrastructure_linux", {}}}},
  };
  return *menu;
}

Result OptionalString(const char* s) { return s ? Result::String(s) : Result::Null(); }

// The item for `entry`; `active_layers` are the layers some known service has.
Result MenuItemResult(const MenuEntry& entry, const std::vector<std::string>& active_layers,
                      bool* active) {
  std::vector<Result> subs;
  bool any_sub_active = false;
  for (const MenuEntry& sub : entry.sub_items) {
    bool sub_active = false;
    subs.push_back(MenuItemResult(sub, active_layers, &sub_active));
    any_sub_active = any_sub_active || sub_active;
  }
  *active = entry.sub_items.empty() ? std::find(active_layers.begin(), active_layers.end(),
                                                entry.layer) != active_layers.end()
                                    : any_sub_active;
  return Result::Map({{"title", Result::String(entry.title)},
                      {"icon", OptionalString(entry.icon)},
                      {"layer", Result::String(entry.layer)},
                      {"activate", Result::Bool(*active)},
                      {"subItems", Result::List(std::move(subs))},
                      {"description", Result::Null()},
                      {"documentLink", Result::Null()},
                      {"i18nKey", OptionalString(entry.i18n_key)}});
}

Result TemplateResult(const storage::UiTemplate& t) {
  return Result::Map(
      {{"id", Result::String(t.id)}, {"configuration", Result::String(t.configuration)}});
}

Result ChangeResult(const service::TemplateChange& change) {
  return Result::Map(
      {{"id", Result::String(change.id)},
       {"status", Result::Bool(change.status)},
       {"message", change.message ? Result::String(*change.message) : Result::Null()}});
}

// The `setting` input object's string field.
std::string SettingField(const Context& c, absl::string_view field) {
  const graphql::Value* value = c.args().Get("setting").Find(field);
  return value ? value->string_value() : "";
}

}  // namespace

void BindUiResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder) {
  const storage::MetadataStore* metadata = deps.metadata;
  service::UiTemplateService* templates = deps.ui_templates;
  builder->BindResolver("Query.getMenuItems", [metadata](const Context&) -> absl::StatusOr<Result> {
    SH_ASSIGN_OR_RETURN(auto services, metadata->ListServices());
    std::vector<std::string> active_layers;
    for (const model::Service& s : services) {
      active_layers.insert(active_layers.end(), s.layers.begin(), s.layers.end());
    }
    std::vector<Result> items;
    for (const MenuEntry& entry : Menu()) {
      bool active = false;
      items.push_back(MenuItemResult(entry, active_layers, &active));
    }
    return Result::List(std::move(items));
  });
  // Without a template service (benchmarks), the template fields answer "no resolver".
  if (templates == nullptr) return;
  builder->BindResolver("Query.getAllTemplates",
                        [templates](const Context&) -> absl::StatusOr<Result> {
                          SH_ASSIGN_OR_RETURN(auto all, templates->List());
                          std::vector<Result> items;
                          for (const auto& t : all) items.push_back(TemplateResult(t));
                          return Result::List(std::move(items));
                        });
  builder->BindResolver("Query.getTemplate",
                        [templates](const Context& c) -> absl::StatusOr<Result> {
                          SH_ASSIGN_OR_RETURN(auto t, templates->Get(StringArg(c, "id")));
                          return t ? TemplateResult(*t) : Result::Null();
                        });
  builder->BindResolver(
      "Mutation.addTemplate", [templates](const Context& c) -> absl::StatusOr<Result> {
        SH_ASSIGN_OR_RETURN(auto change, templates->Add(SettingField(c, "configuration")));
        return ChangeResult(change);
      });
  builder->BindResolver(
      "Mutation.changeTemplate", [templates](const Context& c) -> absl::StatusOr<Result> {
        SH_ASSIGN_OR_RETURN(auto change, templates->Change(SettingField(c, "id"),
                                                           SettingField(c, "configuration")));
        return ChangeResult(change);
      });
  builder->BindResolver("Mutation.disableTemplate",
                        [templates](const Context& c) -> absl::StatusOr<Result> {
                          SH_ASSIGN_OR_RETURN(auto change, templates->Disable(StringArg(c, "id")));
                          return ChangeResult(change);
                        });
}

}  // namespace stackhouse::query
