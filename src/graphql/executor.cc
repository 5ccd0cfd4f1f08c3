#include "graphql/executor.h"

#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "graphql/coercion.h"

namespace stackhouse::graphql {
namespace {

struct Plan;

// One response key of a selection set, with every field node merged into it.
struct PlannedField {
  absl::string_view response_key;
  std::string key_json;  // `"key":`, written as is
  const FieldDef* def;   // nullptr for `__typename`
  std::vector<const ast::Selection*> nodes;
  absl::StatusOr<Arguments> args = Arguments();
  // Plans of the sub-selection, one per concrete object type met so far.
  std::vector<std::pair<const TypeDef*, std::unique_ptr<Plan>>> children;
};

// The collected fields of a selection set for one concrete object type.
struct Plan {
  const TypeDef* type = nullptr;
  std::vector<PlannedField> fields;
};

// A response path segment without allocation: a key or an index.
struct PathEntry {
  absl::string_view key;
  int64_t index = -1;
};

const MapObject& EmptyRoot() {
  static const auto* const kRoot = new MapObject();
  return *kRoot;
}

class Execution {
 public:
  Execution(const ExecutionInput& input, JsonWriter* writer, std::vector<Error>* errors)
      : in_(input), w_(*writer), errors_(*errors) {
    for (const ast::FragmentDefinition& fragment : input.document->fragments) {
      fragments_.emplace(fragment.name, &fragment);
    }
  }

  void Run() {
    const TypeDef* root_type = nullptr;
    switch (in_.operation->operation) {
      case ast::OperationType::kQuery:
        root_type = in_.schema->query_type();
        break;
      case ast::OperationType::kMutation:
        root_type = in_.schema->mutation_type();
        break;
      case ast::OperationType::kSubscription:
        root_type = in_.schema->subscription_type();
        break;
    }
    if (root_type == nullptr) {
      w_.Null();
      return;
    }
    Plan plan;
    plan.type = root_type;
    absl::flat_hash_map<absl::string_view, size_t> index;
    absl::flat_hash_set<absl::string_view> visited;
    CollectFields(root_type, in_.operation->selection_set, &plan, &index, &visited);
    FinishPlan(&plan);
    ObjectRef root = in_.root_value;
    if (root.empty()) root = ObjectRef(&EmptyRoot(), TypeTag<MapObject>(), "");
    JsonWriter::Mark mark = w_.GetMark();
    if (!ExecuteSelectionSet(plan, root)) {
      w_.Rewind(mark);
      w_.Null();
    }
  }

 private:
  // Planning.

  bool ShouldInclude(const std::vector<ast::Directive>& directives) {
    for (const ast::Directive& directive : directives) {
      bool skip = directive.name == "skip";
      if (!skip && directive.name != "include") continue;
      const DirectiveDef* definition = in_.schema->FindDirective(directive.name);
      if (definition == nullptr) continue;
      absl::StatusOr<Arguments> args =
          CoerceArguments(definition->args, directive.arguments, *in_.variables);
      if (!args.ok()) continue;
      bool condition = args->Get("if").bool_value();
      if (skip == condition) return false;
    }
    return true;
  }

  bool FragmentApplies(const TypeDef* object_type, absl::string_view condition) {
    const TypeDef* type = in_.schema->FindType(condition);
    return type != nullptr && (type == object_type || type->IsPossibleType(object_type));
  }

  void CollectFields(const TypeDef* type, const std::vector<ast::Selection>& selections, Plan* plan,
                     absl::flat_hash_map<absl::string_view, size_t>* index,
                     absl::flat_hash_set<absl::string_view>* visited) {
    for (const ast::Selection& selection : selections) {
      if (!ShouldInclude(selection.directives)) continue;
      switch (selection.kind) {
        case ast::Selection::Kind::kField: {
          absl::string_view key = selection.ResponseKey();
          auto [it, inserted] = index->emplace(key, plan->fields.size());
          if (inserted) {
            const FieldDef* def = in_.schema->FindFieldIncludingMeta(*type, selection.name);
            if (def == nullptr) {  // cannot happen after validation
              index->erase(it);
              continue;
            }
            PlannedField& field = plan->fields.emplace_back();
            field.response_key = key;
            JsonWriter::AppendQuoted(key, &field.key_json);
            field.key_json.push_back(':');
            field.def = selection.name == "__typename" ? nullptr : def;
          }
          plan->fields[it->second].nodes.push_back(&selection);
          break;
        }
        case ast::Selection::Kind::kInlineFragment:
          if (!selection.type_condition.empty() &&
              !FragmentApplies(type, selection.type_condition)) {
            continue;
          }
          CollectFields(type, selection.selection_set, plan, index, visited);
          break;
        case ast::Selection::Kind::kFragmentSpread: {
          if (!visited->insert(selection.name).second) continue;
          auto it = fragments_.find(selection.name);
          if (it == fragments_.end() || !FragmentApplies(type, it->second->type_condition)) {
            continue;
          }
          CollectFields(type, it->second->selection_set, plan, index, visited);
          break;
        }
      }
    }
  }

  void FinishPlan(Plan* plan) {
    for (PlannedField& field : plan->fields) {
      if (field.def == nullptr) continue;
      field.args = CoerceArguments(field.def->args, field.nodes.front()->arguments, *in_.variables);
    }
  }

  Plan* ChildPlan(PlannedField& field, const TypeDef* type) {
    for (auto& [planned_type, plan] : field.children) {
      if (planned_type == type) return plan.get();
    }
    auto plan = std::make_unique<Plan>();
    plan->type = type;
    absl::flat_hash_map<absl::string_view, size_t> index;
    absl::flat_hash_set<absl::string_view> visited;
    for (const ast::Selection* node : field.nodes) {
      CollectFields(type, node->selection_set, plan.get(), &index, &visited);
    }
    FinishPlan(plan.get());
    Plan* raw = plan.get();
    field.children.emplace_back(type, std::move(plan));
    return raw;
  }

  // Errors.

  std::vector<PathSegment> CurrentPath() const {
    std::vector<PathSegment> path;
    path.reserve(path_.size());
    for (const PathEntry& entry : path_) {
      if (entry.index >= 0) {
        path.emplace_back(entry.index);
      } else {
        path.emplace_back(std::string(entry.key));
      }
    }
    return path;
  }

  void AddError(const PlannedField& field, absl::string_view prefix, absl::string_view detail,
                absl::string_view classification) {
    std::vector<PathSegment> path = CurrentPath();
    std::string message = classification == kNullValueInNonNullableField
                              ? absl::StrCat("The field at path '", PathToString(path),
                                             "' was declared as a non null type, but the code "
                                             "involved in retrieving data has wrongly returned "
                                             "a null value.")
                              : absl::StrCat(prefix, " (", PathToString(path), ") : ", detail);
    errors_.push_back(Error{std::move(message),
                            {field.nodes.front()->location},
                            std::move(path),
                            std::string(classification)});
  }

  // Execution. Each function returns false when its value is null at a non-null position (an
  // error was recorded); the caller then nulls out the enclosing value.

  bool ExecuteSelectionSet(Plan& plan, const ObjectRef& source) {
    w_.BeginObject();
    for (PlannedField& field : plan.fields) {
      w_.RawKey(field.key_json);
      path_.push_back(PathEntry{field.response_key});
      bool ok = ExecuteField(plan.type, field, source);
      path_.pop_back();
      if (!ok) return false;
    }
    w_.EndObject();
    return true;
  }

  bool ExecuteField(const TypeDef* type, PlannedField& field, const ObjectRef& source) {
    if (field.def == nullptr) {
      w_.String(type->name);
      return true;
    }
    const FieldDef& def = *field.def;
    if (!field.args.ok()) {
      AddError(field, "Exception while fetching data", field.args.status().message(),
               kDataFetchingException);
      return FieldIsNull(def.type);
    }
    if (!def.resolver) {
      const MapObject* map = source.As<MapObject>();
      if (map == nullptr) {
        AddError(field, "Exception while fetching data",
                 absl::StrCat("no resolver is bound to '", type->name, ".", def.name, "'"),
                 kDataFetchingException);
        return FieldIsNull(def.type);
      }
      const Result* value = map->Find(def.name);
      return CompleteValue(def.type, field, value != nullptr ? *value : null_result_);
    }
    absl::StatusOr<Result> result = Invoke(def, field, source);
    if (!result.ok()) {
      AddError(field, "Exception while fetching data", result.status().message(),
               kDataFetchingException);
      return FieldIsNull(def.type);
    }
    return CompleteValue(def.type, field, *result);
  }

  absl::StatusOr<Result> Invoke(const FieldDef& def, const PlannedField& field,
                                const ObjectRef& source) {
    ResolverContext context(source, *field.args, def, in_.user_context);
    try {
      return def.resolver(context);
    } catch (const std::exception& e) {
      return absl::InternalError(e.what());
    } catch (...) {
      return absl::InternalError("unknown exception");
    }
  }

  void AfterListItem() {
    if (in_.after_list_item != nullptr) (*in_.after_list_item)();
  }

  // Writes null for a field whose error was already recorded.
  bool FieldIsNull(const TypeRef* type) {
    if (type->is_non_null()) return false;
    w_.Null();
    return true;
  }

  bool CompleteValue(const TypeRef* type, PlannedField& field, const Result& result) {
    if (type->is_non_null()) {
      if (result.is_null()) {
        AddError(field, "", "", kNullValueInNonNullableField);
        return false;
      }
      return CompleteNonNull(type->of_type, field, result);
    }
    if (result.is_null()) {
      w_.Null();
      return true;
    }
    JsonWriter::Mark mark = w_.GetMark();
    if (!CompleteNonNull(type, field, result)) {
      w_.Rewind(mark);
      w_.Null();
    }
    return true;
  }

  // Completes a non-null `result` of nullable `type`; false: this value must become null.
  bool CompleteNonNull(const TypeRef* type, PlannedField& field, const Result& result) {
    if (type->is_list()) {
      const TypeRef* item_type = type->of_type;
      if (result.kind() == Result::Kind::kList) {
        w_.BeginArray();
        const std::vector<Result>& items = result.list();
        for (size_t i = 0; i < items.size(); ++i) {
          path_.push_back(PathEntry{{}, static_cast<int64_t>(i)});
          bool ok = CompleteValue(item_type, field, items[i]);
          path_.pop_back();
          if (!ok) return false;
          AfterListItem();
        }
        w_.EndArray();
        return true;
      }
      if (result.kind() == Result::Kind::kObjectArray) {
        w_.BeginArray();
        const size_t size = result.size();
        for (size_t i = 0; i < size; ++i) {
          path_.push_back(PathEntry{{}, static_cast<int64_t>(i)});
          bool ok = CompleteObjectItem(item_type, field, result.ArrayItem(i));
          path_.pop_back();
          if (!ok) return false;
          AfterListItem();
        }
        w_.EndArray();
        return true;
      }
      AddError(field, "Can't resolve value", "type mismatch error, expected a list",
               kDataFetchingException);
      return false;
    }
    const TypeDef* named = type->named;
    if (named->is_leaf()) {
      absl::Status status = SerializeLeaf(*named, result, &w_);
      if (!status.ok()) {
        AddError(field, "Can't serialize value", status.message(), kDataFetchingException);
        return false;
      }
      return true;
    }
    if (result.kind() != Result::Kind::kObject) {
      AddError(field, "Can't resolve value", "type mismatch error, expected an object",
               kDataFetchingException);
      return false;
    }
    return CompleteObject(named, field, result.object());
  }

  // An item of a `Result::ObjectArray` (never null) at `type`.
  bool CompleteObjectItem(const TypeRef* type, PlannedField& field, const ObjectRef& object) {
    const TypeRef* nullable = type->Nullable();
    if (nullable->is_list() || nullable->named->is_leaf()) {
      AddError(field, "Can't resolve value", "type mismatch error, expected a leaf value or list",
               kDataFetchingException);
      return FieldIsNull(type);
    }
    if (type->is_non_null()) return CompleteObject(nullable->named, field, object);
    JsonWriter::Mark mark = w_.GetMark();
    if (!CompleteObject(nullable->named, field, object)) {
      w_.Rewind(mark);
      w_.Null();
    }
    return true;
  }

  bool CompleteObject(const TypeDef* type, PlannedField& field, const ObjectRef& object) {
    const TypeDef* concrete = type;
    if (type->is_abstract()) {
      concrete = ConcreteType(type, field, object);
      if (concrete == nullptr) return false;
    }
    return ExecuteSelectionSet(*ChildPlan(field, concrete), object);
  }

  const TypeDef* ConcreteType(const TypeDef* abstract, const PlannedField& field,
                              const ObjectRef& object) {
    absl::string_view name = object.type_name();
    if (name.empty() && abstract->type_resolver) name = abstract->type_resolver(object);
    if (name.empty()) {
      AddError(field, "Can't resolve value",
               absl::StrCat("could not determine the concrete type of '", abstract->name, "'"),
               kDataFetchingException);
      return nullptr;
    }
    const TypeDef* type = in_.schema->FindType(name);
    if (type == nullptr || type->kind != TypeKind::kObject || !abstract->IsPossibleType(type)) {
      AddError(field, "Can't resolve value",
               absl::StrCat("runtime object type '", name, "' is not a possible type for '",
                            abstract->name, "'"),
               kDataFetchingException);
      return nullptr;
    }
    return type;
  }

  const ExecutionInput& in_;
  JsonWriter& w_;
  std::vector<Error>& errors_;
  absl::flat_hash_map<absl::string_view, const ast::FragmentDefinition*> fragments_;
  std::vector<PathEntry> path_;
  const Result null_result_;
};

}  // namespace

void ExecuteOperation(const ExecutionInput& input, JsonWriter* writer, std::vector<Error>* errors) {
  Execution(input, writer, errors).Run();
}

}  // namespace stackhouse::graphql
