// The syntax tree of GraphQL documents (October 2021 specification): executable documents
// (operations and fragments) and type-system documents (SDL).
//
// Nodes own their strings (names are copied out of the source; string literals are decoded) so a
// tree outlives the text it was parsed from. `Location`s are 1-based; the column counts Unicode
// code points. A tree is plain data: immutable once built, safe to read from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stackhouse::graphql::ast {

struct Location {
  uint32_t line = 0;
  uint32_t column = 0;
};

struct ObjectField;

// A literal or variable in a document.
struct Value {
  enum class Kind { kVariable, kInt, kFloat, kString, kBoolean, kNull, kEnum, kList, kObject };
  Kind kind = Kind::kNull;
  Location location;
  // kVariable: the name without `$`; kInt/kFloat: the source text; kString: the decoded text;
  // kEnum: the name.
  std::string text;
  bool boolean = false;             // kBoolean
  std::vector<Value> list;          // kList
  std::vector<ObjectField> fields;  // kObject
};

struct ObjectField {
  std::string name;
  Location location;
  Value value;
};

// A type reference: `Name`, `[T]` or `T!`.
struct Type {
  enum class Kind { kNamed, kList, kNonNull };
  Kind kind = Kind::kNamed;
  Location location;
  std::string name;               // kNamed
  std::unique_ptr<Type> of_type;  // kList, kNonNull

  // The innermost named type.
  const std::string& NamedType() const {
    return kind == Kind::kNamed ? name : of_type->NamedType();
  }
};

struct Argument {
  std::string name;
  Location location;
  Value value;
};

struct Directive {
  std::string name;
  Location location;
  std::vector<Argument> arguments;
};

// A field, fragment spread or inline fragment.
struct Selection {
  enum class Kind { kField, kFragmentSpread, kInlineFragment };
  Kind kind = Kind::kField;
  Location location;
  std::string alias;                // kField; empty when none
  std::string name;                 // kField: field name; kFragmentSpread: fragment name
  std::string type_condition;       // kInlineFragment; empty when none
  std::vector<Argument> arguments;  // kField
  std::vector<Directive> directives;
  std::vector<Selection> selection_set;  // empty for leaf fields and spreads

  const std::string& ResponseKey() const { return alias.empty() ? name : alias; }
};

enum class OperationType { kQuery, kMutation, kSubscription };

struct VariableDefinition {
  std::string name;
  Location location;
  Type type;
  std::optional<Value> default_value;
  std::vector<Directive> directives;
};

struct OperationDefinition {
  OperationType operation = OperationType::kQuery;
  std::string name;  // empty for anonymous operations
  Location location;
  std::vector<VariableDefinition> variables;
  std::vector<Directive> directives;
  std::vector<Selection> selection_set;
};

struct FragmentDefinition {
  std::string name;
  Location location;
  std::string type_condition;
  Location type_condition_location;
  std::vector<Directive> directives;
  std::vector<Selection> selection_set;
};

// An executable document, definitions in source order per kind.
struct Document {
  std::vector<OperationDefinition> operations;
  std::vector<FragmentDefinition> fragments;
};

// Type system definitions (SDL).

struct InputValueDefinition {
  std::string description;
  std::string name;
  Location location;
  Type type;
  std::optional<Value> default_value;
  std::vector<Directive> directives;
};

struct FieldDefinition {
  std::string description;
  std::string name;
  Location location;
  std::vector<InputValueDefinition> arguments;
  Type type;
  std::vector<Directive> directives;
};

struct EnumValueDefinition {
  std::string description;
  std::string name;
  Location location;
  std::vector<Directive> directives;
};

struct TypeDefinition {
  enum class Kind { kScalar, kObject, kInterface, kUnion, kEnum, kInputObject };
  Kind kind = Kind::kScalar;
  bool is_extension = false;
  std::string description;
  std::string name;
  Location location;
  std::vector<std::string> interfaces;  // kObject, kInterface
  std::vector<Directive> directives;
  std::vector<FieldDefinition> fields;             // kObject, kInterface
  std::vector<std::string> members;                // kUnion
  std::vector<EnumValueDefinition> enum_values;    // kEnum
  std::vector<InputValueDefinition> input_fields;  // kInputObject
};

struct SchemaDefinition {
  bool is_extension = false;
  std::string description;
  Location location;
  std::vector<Directive> directives;
  std::vector<std::pair<OperationType, std::string>> root_types;
};

struct DirectiveDefinition {
  std::string description;
  std::string name;
  Location location;
  std::vector<InputValueDefinition> arguments;
  bool repeatable = false;
  std::vector<std::string> locations;
};

struct TypeSystemDocument {
  std::vector<TypeDefinition> types;
  std::vector<SchemaDefinition> schemas;
  std::vector<DirectiveDefinition> directives;
};

}  // namespace stackhouse::graphql::ast
