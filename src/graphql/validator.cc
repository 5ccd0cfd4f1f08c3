#include "graphql/validator.h"

#include <deque>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "graphql/coercion.h"

namespace stackhouse::graphql {
namespace {

using ast::Location;
using ast::Selection;

// Renders a literal as in the document (variables as `$name`) for messages.
void AppendPrinted(const ast::Value& value, std::string* out) {
  switch (value.kind) {
    case ast::Value::Kind::kVariable:
      absl::StrAppend(out, "$", value.text);
      return;
    case ast::Value::Kind::kList: {
      out->push_back('[');
      for (size_t i = 0; i < value.list.size(); ++i) {
        if (i > 0) out->append(", ");
        AppendPrinted(value.list[i], out);
      }
      out->push_back(']');
      return;
    }
    case ast::Value::Kind::kObject: {
      out->push_back('{');
      for (size_t i = 0; i < value.fields.size(); ++i) {
        if (i > 0) out->append(", ");
        absl::StrAppend(out, value.fields[i].name, ": ");
        AppendPrinted(value.fields[i].value, out);
      }
      out->push_back('}');
      return;
    }
    case ast::Value::Kind::kInt:
    case ast::Value::Kind::kFloat:
      out->append(value.text);
      return;
    default:
      out->append(LiteralToValue(value).ToLiteral());
      return;
  }
}

std::string Printed(const ast::Value& value) {
  std::string out;
  AppendPrinted(value, &out);
  return out;
}

bool TypesCompatible(const TypeRef* variable, const TypeRef* location) {
  if (location->is_non_null()) {
    if (!variable->is_non_null()) return false;
    return TypesCompatible(variable->of_type, location->of_type);
  }
  if (variable->is_non_null()) return TypesCompatible(variable->of_type, location);
  if (location->is_list()) {
    if (!variable->is_list()) return false;
    return TypesCompatible(variable->of_type, location->of_type);
  }
  if (variable->is_list()) return false;
  return variable->named == location->named;
}

// True when two output types cannot be merged into one response shape.
bool TypesConflict(const TypeRef* a, const TypeRef* b) {
  if (a->is_list() || b->is_list()) {
    if (!a->is_list() || !b->is_list()) return true;
    return TypesConflict(a->of_type, b->of_type);
  }
  if (a->is_non_null() || b->is_non_null()) {
    if (!a->is_non_null() || !b->is_non_null()) return true;
    return TypesConflict(a->of_type, b->of_type);
  }
  if (a->named->is_leaf() || b->named->is_leaf()) return a->named != b->named;
  return false;
}

std::vector<const TypeDef*> PossibleTypes(const TypeDef* type) {
  if (type->kind == TypeKind::kObject) return {type};
  return type->possible_types;
}

bool TypesOverlap(const TypeDef* a, const TypeDef* b) {
  if (a == b) return true;
  for (const TypeDef* x : PossibleTypes(a)) {
    for (const TypeDef* y : PossibleTypes(b)) {
      if (x == y) return true;
    }
  }
  return false;
}

absl::string_view OperationLocation(ast::OperationType type) {
  switch (type) {
    case ast::OperationType::kQuery:
      return "QUERY";
    case ast::OperationType::kMutation:
      return "MUTATION";
    case ast::OperationType::kSubscription:
      return "SUBSCRIPTION";
  }
  return "QUERY";
}

struct VariableUsage {
  absl::string_view name;
  const TypeRef* type;
  bool location_has_default;
  Location location;
  std::string path;  // for messages
};

// What one operation or fragment definition uses, for the per-operation rules.
struct Scope {
  std::vector<VariableUsage> variables;
  std::vector<std::pair<absl::string_view, Location>> spreads;
};

// A field selected in a selection set, for the merging rule.
struct FieldInSet {
  const Selection* node;
  const TypeDef* parent;
  const FieldDef* def;  // nullptr when undefined (reported elsewhere)
};
using FieldGroups = std::vector<std::pair<absl::string_view, std::vector<FieldInSet>>>;

struct Conflict {
  std::string message;
  std::vector<Location> locations;
};

class Validator {
 public:
  Validator(const Schema& schema, const ast::Document& document)
      : schema_(schema), document_(document) {}

  std::vector<Error> Run() {
    CheckOperationNames();
    for (const ast::FragmentDefinition& fragment : document_.fragments) {
      if (!fragments_.emplace(fragment.name, &fragment).second) {
        Fail("DuplicateFragmentName",
             absl::StrCat("There can be only one fragment named '", fragment.name, "'"),
             {fragment.location});
      }
    }
    for (const ast::FragmentDefinition& fragment : document_.fragments) {
      if (fragments_.at(fragment.name) == &fragment) VisitFragment(fragment);
    }
    for (const ast::OperationDefinition& operation : document_.operations) {
      VisitOperation(operation);
    }
    CheckUnusedFragments();
    // Merging expands fragment spreads, so it runs only on a document free of spread cycles.
    if (!CheckFragmentCycles()) {
      for (const PendingMerge& merge : pending_merges_) {
        path_ = merge.path;
        CheckMerging(*merge.selections, merge.parent);
      }
      if (merge_work_ > kMaxMergeWork) {
        path_.clear();
        Fail("FieldsConflict",
             absl::StrCat("checking that fields can be merged needs more than ", kMaxMergeWork,
                          " steps; simplify the document (limit on validation work)"),
             {});
      }
    }
    return Deduplicated();
  }

 private:
  void Fail(absl::string_view rule, absl::string_view text, std::vector<Location> locations) {
    std::string where = path_.empty() ? std::string(rule)
                                      : absl::StrCat(rule, "@[", absl::StrJoin(path_, "/"), "]");
    errors_.push_back(Error{absl::StrCat("Validation error (", where, ") : ", text),
                            std::move(locations),
                            {},
                            std::string(kValidationError)});
  }

  std::vector<Error> Deduplicated() {
    std::vector<Error> out;
    absl::flat_hash_set<std::string> seen;
    for (Error& error : errors_) {
      std::string key = error.message;
      for (const Location& l : error.locations) absl::StrAppend(&key, ";", l.line, ":", l.column);
      if (seen.insert(key).second) out.push_back(std::move(error));
    }
    return out;
  }

  void CheckOperationNames() {
    absl::flat_hash_set<absl::string_view> names;
    for (const ast::OperationDefinition& operation : document_.operations) {
      if (operation.name.empty()) {
        if (document_.operations.size() > 1) {
          Fail("LoneAnonymousOperationViolation",
               "This anonymous operation must be the only defined operation", {operation.location});
        }
      } else if (!names.insert(operation.name).second) {
        Fail("DuplicateOperationName",
             absl::StrCat("There can be only one operation named '", operation.name, "'"),
             {operation.location});
      }
    }
  }

  void VisitFragment(const ast::FragmentDefinition& fragment) {
    Scope& scope = fragment_scopes_[fragment.name];
    VisitDirectives(fragment.directives, "FRAGMENT_DEFINITION", &scope);
    const TypeDef* type = schema_.FindType(fragment.type_condition);
    if (type == nullptr) {
      Fail("UnknownType", absl::StrCat("Unknown type '", fragment.type_condition, "'"),
           {fragment.type_condition_location});
      return;
    }
    if (!type->is_composite()) {
      Fail("InvalidFragmentType",
           absl::StrCat("Fragment type condition is invalid, must be on Object/Interface/Union "
                        "but was '",
                        type->name, "'"),
           {fragment.type_condition_location});
      return;
    }
    VisitSelectionSet(fragment.selection_set, type, &scope);
  }

  void VisitOperation(const ast::OperationDefinition& operation) {
    Scope scope;
    VisitDirectives(operation.directives, OperationLocation(operation.operation), &scope);
    const TypeDef* root = nullptr;
    switch (operation.operation) {
      case ast::OperationType::kQuery:
        root = schema_.query_type();
        break;
      case ast::OperationType::kMutation:
        root = schema_.mutation_type();
        break;
      case ast::OperationType::kSubscription:
        root = schema_.subscription_type();
        break;
    }
    if (root == nullptr) {
      Fail("UnknownOperation",
           absl::StrCat("The schema does not support '",
                        absl::AsciiStrToLower(OperationLocation(operation.operation)),
                        "' operations"),
           {operation.location});
      return;
    }

    // Variable definitions.
    struct Defined {
      const ast::VariableDefinition* ast;
      const TypeRef* type;
    };
    absl::flat_hash_map<absl::string_view, Defined> defined;
    for (const ast::VariableDefinition& variable : operation.variables) {
      VisitDirectives(variable.directives, "VARIABLE_DEFINITION", &scope);
      if (defined.contains(variable.name)) {
        Fail("DuplicateVariableName",
             absl::StrCat("There can be only one variable named '", variable.name, "'"),
             {variable.location});
        continue;
      }
      const TypeRef* type = ResolveTypeRef(schema_, variable.type, &arena_);
      defined[variable.name] = Defined{&variable, type};
      if (type == nullptr) {
        Fail("UnknownType", absl::StrCat("Unknown type '", variable.type.NamedType(), "'"),
             {variable.type.location});
        continue;
      }
      if (!type->named->is_input()) {
        Fail("NonInputTypeOnVariable",
             absl::StrCat("Input variable '", variable.name, "' type '", type->ToString(),
                          "' is not an input type"),
             {variable.location});
        defined[variable.name].type = nullptr;
        continue;
      }
      if (variable.default_value.has_value()) {
        Scope ignored;
        std::string problem = CheckValue(*variable.default_value, type, false, "", &ignored);
        if (!problem.empty()) {
          Fail("BadValueForDefaultArg",
               absl::StrCat("Bad default value '", Printed(*variable.default_value), "' for type '",
                            type->ToString(), "' - ", problem),
               {variable.default_value->location});
        }
      }
    }

    VisitSelectionSet(operation.selection_set, root, &scope);

    // Variables used by the operation and the fragments it reaches.
    std::vector<const VariableUsage*> usages;
    for (const VariableUsage& usage : scope.variables) usages.push_back(&usage);
    absl::flat_hash_set<absl::string_view> reached;
    std::vector<absl::string_view> stack;
    for (const auto& spread : scope.spreads) stack.push_back(spread.first);
    while (!stack.empty()) {
      absl::string_view name = stack.back();
      stack.pop_back();
      if (!reached.insert(name).second) continue;
      used_fragments_.insert(name);
      auto it = fragment_scopes_.find(name);
      if (it == fragment_scopes_.end()) continue;
      for (const VariableUsage& usage : it->second.variables) usages.push_back(&usage);
      for (const auto& spread : it->second.spreads) stack.push_back(spread.first);
    }
    absl::flat_hash_set<absl::string_view> used;
    for (const VariableUsage* usage : usages) {
      used.insert(usage->name);
      path_.clear();
      if (!usage->path.empty()) path_.push_back(usage->path);
      auto it = defined.find(usage->name);
      if (it == defined.end()) {
        Fail("UndefinedVariable", absl::StrCat("Undefined variable '", usage->name, "'"),
             {usage->location});
        continue;
      }
      const TypeRef* variable_type = it->second.type;
      if (variable_type == nullptr || usage->type == nullptr) continue;
      const TypeRef* location_type = usage->type;
      if (location_type->is_non_null() && !variable_type->is_non_null()) {
        const auto& default_value = it->second.ast->default_value;
        bool has_non_null_default =
            default_value.has_value() && default_value->kind != ast::Value::Kind::kNull;
        if (has_non_null_default || usage->location_has_default) {
          location_type = location_type->of_type;
        }
      }
      if (!TypesCompatible(variable_type, location_type)) {
        Fail("VariableTypeMismatch",
             absl::StrCat("Variable '", usage->name, "' of type '", variable_type->ToString(),
                          "' used in position expecting type '", usage->type->ToString(), "'"),
             {usage->location});
      }
    }
    path_.clear();
    for (const ast::VariableDefinition& variable : operation.variables) {
      if (!used.contains(variable.name)) {
        Fail("UnusedVariable", absl::StrCat("Unused variable '", variable.name, "'"),
             {variable.location});
      }
    }
  }

  void CheckUnusedFragments() {
    for (const ast::FragmentDefinition& fragment : document_.fragments) {
      if (!used_fragments_.contains(fragment.name)) {
        Fail("UnusedFragment", absl::StrCat("Unused fragment '", fragment.name, "'"),
             {fragment.location});
      }
    }
  }

  // Reports spread cycles; returns true when there is one.
  bool CheckFragmentCycles() {
    bool found = false;
    // Iterative depth-first search; each cycle is reported once, at its first spread.
    enum class State { kNew, kActive, kDone };
    absl::flat_hash_map<absl::string_view, State> state;
    for (const ast::FragmentDefinition& fragment : document_.fragments) {
      if (state[fragment.name] != State::kNew) continue;
      struct Frame {
        absl::string_view name;
        size_t next;
      };
      std::vector<Frame> stack = {{fragment.name, 0}};
      std::vector<Location> spread_locations;
      state[fragment.name] = State::kActive;
      while (!stack.empty()) {
        Frame& frame = stack.back();
        const Scope& scope = fragment_scopes_[frame.name];
        if (frame.next >= scope.spreads.size()) {
          state[frame.name] = State::kDone;
          stack.pop_back();
          if (!spread_locations.empty()) spread_locations.pop_back();
          continue;
        }
        const auto& [target, location] = scope.spreads[frame.next++];
        if (!fragments_.contains(target)) continue;
        State& target_state = state[target];
        if (target_state == State::kActive) {
          std::vector<std::string> names;
          std::vector<Location> locations = spread_locations;
          locations.push_back(location);
          size_t start = 0;
          while (start < stack.size() && stack[start].name != target) ++start;
          for (size_t i = start; i < stack.size(); ++i) names.emplace_back(stack[i].name);
          names.emplace_back(target);
          locations.erase(locations.begin(),
                          locations.begin() + static_cast<std::ptrdiff_t>(start));
          path_.clear();
          found = true;
          Fail("FragmentCycle",
               absl::StrCat("Fragment cycles not allowed: ", absl::StrJoin(names, " -> ")),
               locations);
        } else if (target_state == State::kNew) {
          target_state = State::kActive;
          spread_locations.push_back(location);
          stack.push_back({target, 0});
        }
      }
    }
    return found;
  }

  void VisitDirectives(const std::vector<ast::Directive>& directives, absl::string_view location,
                       Scope* scope) {
    absl::flat_hash_set<absl::string_view> seen;
    for (const ast::Directive& directive : directives) {
      const DirectiveDef* definition = schema_.FindDirective(directive.name);
      if (definition == nullptr) {
        Fail("UnknownDirective", absl::StrCat("Unknown directive '", directive.name, "'"),
             {directive.location});
        continue;
      }
      if (!definition->AllowedAt(location)) {
        Fail("MisplacedDirective",
             absl::StrCat("Directive '", directive.name, "' not allowed here"),
             {directive.location});
        continue;
      }
      if (!definition->repeatable && !seen.insert(directive.name).second) {
        Fail("DuplicateDirectiveName",
             absl::StrCat("The directive '", directive.name,
                          "' can only be used once at this location"),
             {directive.location});
      }
      VisitArguments(directive.arguments, definition->args, /*is_directive=*/true,
                     directive.location, scope);
    }
  }

  void VisitArguments(const std::vector<ast::Argument>& arguments,
                      const std::vector<InputValueDef>& definitions, bool is_directive,
                      Location owner_location, Scope* scope) {
    absl::string_view kind = is_directive ? "directive" : "field";
    absl::flat_hash_set<absl::string_view> seen;
    for (const ast::Argument& argument : arguments) {
      if (!seen.insert(argument.name).second) {
        Fail("DuplicateArgumentNames",
             absl::StrCat("There can be only one argument named '", argument.name, "'"),
             {argument.location});
        continue;
      }
      const InputValueDef* definition = nullptr;
      for (const InputValueDef& d : definitions) {
        if (d.name == argument.name) definition = &d;
      }
      if (definition == nullptr) {
        RecordUntypedVariables(argument.value, scope);
        Fail(is_directive ? "UnknownDirective" : "UnknownArgument",
             absl::StrCat("Unknown ", kind, " argument '", argument.name, "'"),
             {argument.location});
        continue;
      }
      if (definition->type == nullptr) continue;
      std::string problem =
          CheckValue(argument.value, definition->type, definition->default_value.has_value(),
                     absl::StrJoin(path_, "/"), scope);
      if (!problem.empty()) {
        Fail("WrongType",
             absl::StrCat("argument '", argument.name, "' with value '", Printed(argument.value),
                          "' is not a valid '", definition->type->ToString(), "' - ", problem),
             {argument.location});
      }
    }
    for (const InputValueDef& definition : definitions) {
      if (definition.type == nullptr || !definition.type->is_non_null() ||
          definition.default_value.has_value() || seen.contains(definition.name)) {
        continue;
      }
      Fail(is_directive ? "MissingDirectiveArgument" : "MissingFieldArgument",
           absl::StrCat("Missing ", kind, " argument '", definition.name, "'"), {owner_location});
    }
  }

  // Records the variables of a literal whose expected type is unknown (an undefined field or
  // argument), so they still count as used; their types are not checked.
  void RecordUntypedVariables(const ast::Value& value, Scope* scope) {
    if (value.kind == ast::Value::Kind::kVariable) {
      scope->variables.push_back(
          VariableUsage{value.text, nullptr, false, value.location, absl::StrJoin(path_, "/")});
    }
    for (const ast::Value& item : value.list) RecordUntypedVariables(item, scope);
    for (const ast::ObjectField& field : value.fields) RecordUntypedVariables(field.value, scope);
  }

  // Checks a literal against `type`; returns "" or the problem. Records variable usages.
  std::string CheckValue(const ast::Value& value, const TypeRef* type, bool location_has_default,
                         const std::string& path, Scope* scope) {
    if (value.kind == ast::Value::Kind::kVariable) {
      scope->variables.push_back(
          VariableUsage{value.text, type, location_has_default, value.location, path});
      return "";
    }
    if (type->is_non_null()) {
      if (value.kind == ast::Value::Kind::kNull) {
        return absl::StrCat("Expected a non-null value of type '", type->ToString(), "'");
      }
      return CheckValue(value, type->of_type, false, path, scope);
    }
    if (value.kind == ast::Value::Kind::kNull) return "";
    if (type->is_list()) {
      if (value.kind != ast::Value::Kind::kList) {
        return CheckValue(value, type->of_type, false, path, scope);
      }
      for (const ast::Value& item : value.list) {
        std::string problem = CheckValue(item, type->of_type, false, path, scope);
        if (!problem.empty()) return problem;
      }
      return "";
    }
    const TypeDef& named = *type->named;
    if (named.kind == TypeKind::kInputObject) {
      if (value.kind != ast::Value::Kind::kObject) {
        return absl::StrCat("Expected an object of type '", named.name, "'");
      }
      absl::flat_hash_set<absl::string_view> seen;
      for (const ast::ObjectField& field : value.fields) {
        if (!seen.insert(field.name).second) {
          return absl::StrCat("There can be only one input field named '", field.name, "'");
        }
        const InputValueDef* definition = named.FindInputField(field.name);
        if (definition == nullptr) {
          return absl::StrCat("contains a field not in '", named.name, "': '", field.name, "'");
        }
        std::string problem = CheckValue(field.value, definition->type,
                                         definition->default_value.has_value(), path, scope);
        if (!problem.empty()) return problem;
      }
      std::vector<absl::string_view> missing;
      for (const InputValueDef& definition : named.input_fields) {
        if (definition.type->is_non_null() && !definition.default_value.has_value() &&
            !seen.contains(definition.name)) {
          missing.push_back(definition.name);
        }
      }
      if (!missing.empty()) {
        return absl::StrCat("is missing required fields '[", absl::StrJoin(missing, ", "), "]'");
      }
      return "";
    }
    absl::StatusOr<Value> coerced = CoerceLeaf(named, LiteralToValue(value), /*from_literal=*/true);
    return coerced.ok() ? "" : std::string(coerced.status().message());
  }

  void VisitSelectionSet(const std::vector<Selection>& selections, const TypeDef* parent,
                         Scope* scope) {
    for (const Selection& selection : selections) {
      switch (selection.kind) {
        case Selection::Kind::kField:
          VisitField(selection, parent, scope);
          break;
        case Selection::Kind::kInlineFragment: {
          VisitDirectives(selection.directives, "INLINE_FRAGMENT", scope);
          const TypeDef* type = parent;
          if (!selection.type_condition.empty()) {
            type = schema_.FindType(selection.type_condition);
            if (type == nullptr) {
              Fail("UnknownType", absl::StrCat("Unknown type '", selection.type_condition, "'"),
                   {selection.location});
              break;
            }
            if (!type->is_composite()) {
              Fail("InvalidFragmentType",
                   absl::StrCat("Inline fragment type condition is invalid, must be on "
                                "Object/Interface/Union but was '",
                                type->name, "'"),
                   {selection.location});
              break;
            }
            if (!TypesOverlap(parent, type)) {
              Fail("InvalidFragmentType",
                   absl::StrCat("Fragment cannot be spread here as objects of type '", parent->name,
                                "' can never be of type '", type->name, "'"),
                   {selection.location});
              break;
            }
          }
          VisitSelectionSet(selection.selection_set, type, scope);
          break;
        }
        case Selection::Kind::kFragmentSpread: {
          VisitDirectives(selection.directives, "FRAGMENT_SPREAD", scope);
          auto it = fragments_.find(selection.name);
          if (it == fragments_.end()) {
            Fail("UndefinedFragment", absl::StrCat("Undefined fragment '", selection.name, "'"),
                 {selection.location});
            break;
          }
          scope->spreads.emplace_back(selection.name, selection.location);
          const TypeDef* type = schema_.FindType(it->second->type_condition);
          if (type != nullptr && type->is_composite() && !TypesOverlap(parent, type)) {
            Fail("InvalidFragmentType",
                 absl::StrCat("Fragment '", selection.name,
                              "' cannot be spread here as objects of type '", parent->name,
                              "' can never be of type '", type->name, "'"),
                 {selection.location});
          }
          break;
        }
      }
    }
    pending_merges_.push_back(PendingMerge{&selections, parent, path_});
  }

  void VisitField(const Selection& field, const TypeDef* parent, Scope* scope) {
    path_.push_back(field.name);
    VisitDirectives(field.directives, "FIELD", scope);
    const FieldDef* definition = schema_.FindFieldIncludingMeta(*parent, field.name);
    if (definition == nullptr) {
      for (const ast::Argument& argument : field.arguments) {
        RecordUntypedVariables(argument.value, scope);
      }
      Fail("FieldUndefined",
           absl::StrCat("Field '", field.name, "' in type '", parent->name, "' is undefined"),
           {field.location});
      path_.pop_back();
      return;
    }
    VisitArguments(field.arguments, definition->args, /*is_directive=*/false, field.location,
                   scope);
    const TypeDef* named = definition->type->named;
    if (named->is_leaf()) {
      if (!field.selection_set.empty()) {
        Fail("SubselectionNotAllowed",
             absl::StrCat("Subselection not allowed on leaf type '", definition->type->ToString(),
                          "' of field '", field.name, "'"),
             {field.location});
      }
    } else if (field.selection_set.empty()) {
      Fail("SubselectionRequired",
           absl::StrCat("Subselection required for type '", definition->type->ToString(),
                        "' of field '", field.name, "'"),
           {field.location});
    } else {
      VisitSelectionSet(field.selection_set, named, scope);
    }
    path_.pop_back();
  }

  // Field selection merging (§5.3.2).

  void CollectFields(const std::vector<Selection>& selections, const TypeDef* parent,
                     FieldGroups* groups, absl::flat_hash_map<absl::string_view, size_t>* index,
                     absl::flat_hash_set<absl::string_view>* visited_fragments) {
    for (const Selection& selection : selections) {
      switch (selection.kind) {
        case Selection::Kind::kField: {
          absl::string_view key = selection.ResponseKey();
          auto [it, inserted] = index->emplace(key, groups->size());
          if (inserted) groups->emplace_back(key, std::vector<FieldInSet>());
          const FieldDef* def =
              parent == nullptr ? nullptr : schema_.FindFieldIncludingMeta(*parent, selection.name);
          (*groups)[it->second].second.push_back(FieldInSet{&selection, parent, def});
          ++merge_work_;
          break;
        }
        case Selection::Kind::kInlineFragment: {
          const TypeDef* type = selection.type_condition.empty()
                                    ? parent
                                    : schema_.FindType(selection.type_condition);
          CollectFields(selection.selection_set, type, groups, index, visited_fragments);
          break;
        }
        case Selection::Kind::kFragmentSpread: {
          auto it = fragments_.find(selection.name);
          if (it == fragments_.end() || !visited_fragments->insert(selection.name).second) break;
          CollectFields(it->second->selection_set, schema_.FindType(it->second->type_condition),
                        groups, index, visited_fragments);
          break;
        }
      }
    }
  }

  // Counts one unit of merging work; true once the budget is spent (reported once by Run).
  bool OutOfMergeBudget() { return ++merge_work_ > kMaxMergeWork; }

  FieldGroups Groups(const std::vector<Selection>& selections, const TypeDef* parent) {
    FieldGroups groups;
    if (OutOfMergeBudget()) return groups;
    absl::flat_hash_map<absl::string_view, size_t> index;
    absl::flat_hash_set<absl::string_view> visited;
    CollectFields(selections, parent, &groups, &index, &visited);
    return groups;
  }

  static bool SameArguments(const Selection& a, const Selection& b) {
    if (a.arguments.size() != b.arguments.size()) return false;
    for (const ast::Argument& x : a.arguments) {
      bool found = false;
      for (const ast::Argument& y : b.arguments) {
        if (x.name == y.name) {
          if (Printed(x.value) != Printed(y.value)) return false;
          found = true;
        }
      }
      if (!found) return false;
    }
    return true;
  }

  std::optional<Conflict> FindConflict(absl::string_view key, const FieldInSet& a,
                                       const FieldInSet& b, bool parents_exclusive, int depth = 0) {
    // Nesting is bounded by the document limits; the guard keeps the recursion safe anyway.
    if (a.node == b.node || depth > kMaxMergeDepth || OutOfMergeBudget()) return std::nullopt;
    // Each pair of field nodes needs comparing once; without this, fragments spread in many
    // places make the comparison exponential.
    if (!compared_.insert(std::make_tuple(a.node, b.node, parents_exclusive)).second) {
      return std::nullopt;
    }
    bool exclusive = parents_exclusive ||
                     (a.parent != b.parent && a.parent != nullptr && b.parent != nullptr &&
                      a.parent->kind == TypeKind::kObject && b.parent->kind == TypeKind::kObject);
    std::vector<Location> locations = {a.node->location, b.node->location};
    if (!exclusive) {
      if (a.node->name != b.node->name) {
        return Conflict{absl::StrCat("'", key, "' : '", a.node->name, "' and '", b.node->name,
                                     "' are different fields"),
                        locations};
      }
      if (!SameArguments(*a.node, *b.node)) {
        return Conflict{absl::StrCat("'", key, "' : fields have different arguments"), locations};
      }
    }
    if (a.def == nullptr || b.def == nullptr) return std::nullopt;
    if (TypesConflict(a.def->type, b.def->type)) {
      return Conflict{
          absl::StrCat("'", key, "' : they return differing types '", a.def->type->ToString(),
                       "' and '", b.def->type->ToString(), "'"),
          locations};
    }
    if (a.node->selection_set.empty() || b.node->selection_set.empty()) return std::nullopt;
    FieldGroups groups_a = Groups(a.node->selection_set, a.def->type->named);
    FieldGroups groups_b = Groups(b.node->selection_set, b.def->type->named);
    for (const auto& [sub_key, fields_a] : groups_a) {
      for (const auto& [other_key, fields_b] : groups_b) {
        if (sub_key != other_key) continue;
        for (const FieldInSet& x : fields_a) {
          for (const FieldInSet& y : fields_b) {
            std::optional<Conflict> conflict = FindConflict(sub_key, x, y, exclusive, depth + 1);
            if (conflict.has_value()) {
              conflict->message = absl::StrCat("'", key, "' : ", conflict->message);
              conflict->locations.insert(conflict->locations.begin(), locations.begin(),
                                         locations.end());
              return conflict;
            }
          }
        }
      }
    }
    return std::nullopt;
  }

  void CheckMerging(const std::vector<Selection>& selections, const TypeDef* parent) {
    FieldGroups groups = Groups(selections, parent);
    for (const auto& [key, fields] : groups) {
      bool reported = false;
      for (size_t i = 0; i < fields.size() && !reported; ++i) {
        for (size_t j = i + 1; j < fields.size() && !reported; ++j) {
          std::optional<Conflict> conflict = FindConflict(key, fields[i], fields[j], false);
          if (conflict.has_value()) {
            Fail("FieldsConflict", conflict->message, conflict->locations);
            reported = true;
          }
        }
      }
    }
  }

  static constexpr int kMaxMergeDepth = 256;
  // Far above what real documents need (the standard introspection query needs 138).
  static constexpr size_t kMaxMergeWork = 200'000;

  // A selection set whose fields must be checked for merging, with the path where it was seen.
  struct PendingMerge {
    const std::vector<Selection>* selections;
    const TypeDef* parent;
    std::vector<std::string> path;
  };

  const Schema& schema_;
  const ast::Document& document_;
  std::vector<PendingMerge> pending_merges_;
  size_t merge_work_ = 0;
  absl::flat_hash_set<std::tuple<const Selection*, const Selection*, bool>> compared_;
  std::vector<Error> errors_;
  std::vector<std::string> path_;
  absl::flat_hash_map<absl::string_view, const ast::FragmentDefinition*> fragments_;
  absl::flat_hash_map<absl::string_view, Scope> fragment_scopes_;
  absl::flat_hash_set<absl::string_view> used_fragments_;
  std::deque<TypeRef> arena_;
};

}  // namespace

std::vector<Error> Validate(const Schema& schema, const ast::Document& document) {
  return Validator(schema, document).Run();
}

}  // namespace stackhouse::graphql
