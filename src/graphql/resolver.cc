#include "graphql/resolver.h"

namespace stackhouse::graphql {

const Result* MapObject::Find(absl::string_view field) const {
  for (const auto& [name, value] : fields) {
    if (name == field) return &value;
  }
  return nullptr;
}

Result Result::List(std::vector<Result> items) {
  return Result(Payload(std::in_place_index<5>,
                        std::make_shared<const std::vector<Result>>(std::move(items))));
}

Result Result::Map(std::vector<std::pair<std::string, Result>> fields, std::string type_name) {
  auto map = std::make_shared<MapObject>();
  map->fields = std::move(fields);
  map->type_name = std::move(type_name);
  const MapObject* raw = map.get();
  ObjectRef ref(raw, TypeTag<MapObject>(), raw->type_name);
  return Result(Payload(std::in_place_index<6>, ObjectPayload{ref, std::move(map)}));
}

size_t Result::size() const {
  if (kind() == Kind::kList) return list().size();
  if (kind() == Kind::kObjectArray) return std::get<7>(payload_).size;
  return 0;
}

}  // namespace stackhouse::graphql
