#pragma once

#include "storage/pg/pg_pool.h"
#include "storage/ui_template_store.h"

namespace stackhouse::storage::pg {

// UiTemplateStore on PostgreSQL: table sh_ui_template, one row per template (kept until
// replaced). Thread-safe.
class PgUiTemplateStore final : public UiTemplateStore {
 public:
  // `pool` must outlive the store.
  explicit PgUiTemplateStore(Pool* pool) : pool_(pool) {}

  absl::Status PutTemplate(const UiTemplate& t) override;
  absl::StatusOr<std::optional<UiTemplate>> GetTemplate(const std::string& id) const override;
  absl::StatusOr<std::vector<UiTemplate>> ListTemplates() const override;

 private:
  Pool* const pool_;
};

}  // namespace stackhouse::storage::pg
