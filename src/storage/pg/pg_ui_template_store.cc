#include "storage/pg/pg_ui_template_store.h"

#include "common/status_macros.h"

namespace stackhouse::storage::pg {
namespace {

std::vector<UiTemplate> Templates(const Result& r) {
  std::vector<UiTemplate> templates(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    UiTemplate& t = templates[static_cast<size_t>(row)];
    t.id = r.String(row, 0);
    t.configuration = r.String(row, 1);
    t.disabled = r.Bool(row, 2);
    t.update_time_ms = r.Int64(row, 3);
  }
  return templates;
}

}  // namespace

absl::Status PgUiTemplateStore::PutTemplate(const UiTemplate& t) {
  Params params;
  params.Text(t.id).Bytes(t.configuration).Bool(t.disabled).Int64(t.update_time_ms);
  return pool_
      ->ExecPrepared("sh_put_ui_template",
                     "INSERT INTO sh_ui_template (id, configuration, disabled, update_time_ms) "
                     "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET "
                     "configuration = EXCLUDED.configuration, disabled = EXCLUDED.disabled, "
                     "update_time_ms = EXCLUDED.update_time_ms",
                     params)
      .status();
}

absl::StatusOr<std::optional<UiTemplate>> PgUiTemplateStore::GetTemplate(
    const std::string& id) const {
  SH_ASSIGN_OR_RETURN(Result r, pool_->ExecPrepared("sh_get_ui_template",
                                                    "SELECT id, configuration, disabled, "
                                                    "update_time_ms FROM sh_ui_template "
                                                    "WHERE id = $1",
                                                    Params().Text(id)));
  std::vector<UiTemplate> templates = Templates(r);
  if (templates.empty()) return std::nullopt;
  return std::move(templates[0]);
}

absl::StatusOr<std::vector<UiTemplate>> PgUiTemplateStore::ListTemplates() const {
  SH_ASSIGN_OR_RETURN(Result r, pool_->ExecPrepared("sh_list_ui_templates",
                                                    "SELECT id, configuration, disabled, "
                                                    "update_time_ms FROM sh_ui_template "
                                                    "ORDER BY id"));
  return Templates(r);
}

}  // namespace stackhouse::storage::pg
