#pragma once

#include "storage/database.h"
#include "storage/ui_template_store.h"

namespace stackhouse::storage {

// UiTemplateStore on RocksDB: ui_template family (no retention), `t`+id → UiTemplateRecord
// stamped with the update time. Thread-safe.
class RocksUiTemplateStore final : public UiTemplateStore {
 public:
  // `db` must outlive the store.
  explicit RocksUiTemplateStore(Database* db) : db_(db) {}

  absl::Status PutTemplate(const UiTemplate& t) override;
  absl::StatusOr<std::optional<UiTemplate>> GetTemplate(const std::string& id) const override;
  absl::StatusOr<std::vector<UiTemplate>> ListTemplates() const override;

 private:
  Database* const db_;
};

}  // namespace stackhouse::storage
