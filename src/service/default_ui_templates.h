#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "storage/ui_template_store.h"

namespace stackhouse::service {

// The booster-ui dashboards Stackhouse ships (src/service/data/ui_templates/*.dashboard.json,
// compiled in; docs/dashboards.md lists them), ordered by id. Each configuration is the file's
// JSON object, minified; its "id" (e.g. "stackhouse-mesh-process") is the template id and
// stays the same across releases. Errors: Internal when a compiled-in file is not a JSON
// object with string "id", "layer", "entity" and "name", or two files share an id (a build
// defect). Thread-safe.
absl::StatusOr<std::vector<storage::UiTemplate>> DefaultUiTemplates();

}  // namespace stackhouse::service
