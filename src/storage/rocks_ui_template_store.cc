#include "storage/rocks_ui_template_store.h"

#include "common/status_macros.h"
#include "stackhouse/records.pb.h"
#include "storage/key_codec.h"

namespace stackhouse::storage {
namespace {

constexpr char kTemplatePrefix = 't';

std::string TemplateKey(absl::string_view id) {
  std::string key(1, kTemplatePrefix);
  AppendString(&key, id);
  return key;
}

absl::StatusOr<UiTemplate> Decode(std::string id, const Record& record) {
  records::UiTemplateRecord pb;
  if (!pb.ParseFromString(record.value)) {
    return absl::DataLossError("cannot decode a stored UI template");
  }
  UiTemplate t;
  t.id = std::move(id);
  t.configuration = std::move(*pb.mutable_configuration());
  t.disabled = pb.disabled();
  t.update_time_ms = record.timestamp_ms;
  return t;
}

}  // namespace

absl::Status RocksUiTemplateStore::PutTemplate(const UiTemplate& t) {
  records::UiTemplateRecord pb;
  pb.set_configuration(t.configuration);
  pb.set_disabled(t.disabled);
  return db_->Put(Family::kUiTemplate, TemplateKey(t.id), t.update_time_ms, pb.SerializeAsString());
}

absl::StatusOr<std::optional<UiTemplate>> RocksUiTemplateStore::GetTemplate(
    const std::string& id) const {
  SH_ASSIGN_OR_RETURN(auto record, db_->Get(Family::kUiTemplate, TemplateKey(id)));
  if (!record) return std::nullopt;
  SH_ASSIGN_OR_RETURN(UiTemplate t, Decode(id, *record));
  return t;
}

absl::StatusOr<std::vector<UiTemplate>> RocksUiTemplateStore::ListTemplates() const {
  std::vector<UiTemplate> templates;
  absl::Status status;
  SH_RETURN_IF_ERROR(db_->ScanPrefix(
      Family::kUiTemplate, std::string(1, kTemplatePrefix), [&](const Record& record) {
        KeyReader reader(record.key);
        std::string id;
        if (!reader.Skip(1) || !reader.ReadString(&id)) {
          status = absl::DataLossError("cannot decode a stored UI template key");
          return false;
        }
        auto t = Decode(std::move(id), record);
        if (!t.ok()) {
          status = t.status();
          return false;
        }
        templates.push_back(std::move(*t));
        return true;
      }));
  SH_RETURN_IF_ERROR(status);
  return templates;
}

}  // namespace stackhouse::storage
