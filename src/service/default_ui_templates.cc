#include "service/default_ui_templates.h"

#include <algorithm>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/embedded_files.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace stackhouse::service {
namespace {

constexpr char kSuffix[] = ".dashboard.json";

}  // namespace

absl::StatusOr<std::vector<storage::UiTemplate>> DefaultUiTemplates() {
  std::vector<storage::UiTemplate> defaults;
  for (const EmbeddedFile& file : EmbeddedFiles()) {
    if (!absl::EndsWith(file.name, kSuffix)) continue;
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(file.content);
    if (doc.HasParseError()) {
      return absl::InternalError(absl::StrCat("Default dashboard ", file.name, ": ",
                                              rapidjson::GetParseError_En(doc.GetParseError()),
                                              " at byte ", doc.GetErrorOffset()));
    }
    if (!doc.IsObject()) {
      return absl::InternalError(absl::StrCat("Default dashboard ", file.name, " is no object"));
    }
    for (const char* field : {"id", "layer", "entity", "name"}) {
      auto it = doc.FindMember(field);
      if (it == doc.MemberEnd() || !it->value.IsString()) {
        return absl::InternalError(
            absl::StrCat("Default dashboard ", file.name, " has no string \"", field, "\""));
      }
    }
    rapidjson::StringBuffer minified;
    rapidjson::Writer<rapidjson::StringBuffer> writer(minified);
    doc.Accept(writer);
    storage::UiTemplate t;
    t.id = doc["id"].GetString();
    t.configuration.assign(minified.GetString(), minified.GetSize());
    defaults.push_back(std::move(t));
  }
  std::sort(defaults.begin(), defaults.end(),
            [](const storage::UiTemplate& a, const storage::UiTemplate& b) { return a.id < b.id; });
  auto twin = std::adjacent_find(
      defaults.begin(), defaults.end(),
      [](const storage::UiTemplate& a, const storage::UiTemplate& b) { return a.id == b.id; });
  if (twin != defaults.end()) {
    return absl::InternalError(absl::StrCat("Two default dashboards have the id ", twin->id));
  }
  return defaults;
}

}  // namespace stackhouse::service
