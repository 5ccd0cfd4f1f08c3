// The schema: types, fields, arguments and directives built from SDL, with resolvers bound by
// schema coordinate ("Type.field").
//
// `SchemaBuilder` collects SDL texts (each may `extend type Query`/`Mutation` or any other type;
// the order of texts does not matter), resolvers and type resolvers, then `Build` checks
// everything and returns an immutable `Schema`. The built-in scalars (`Int`, `Float`, `String`,
// `Boolean`, `ID`), directives (`@include`, `@skip`, `@deprecated`, `@specifiedBy`) and the
// introspection types are always present. A scalar declared as `scalar Long` gets the 64-bit
// integer behaviour of graphql-java's `Long`; other custom scalars pass values through unchanged.
//
// Ownership: a `Schema` owns all its definitions; pointers to `TypeDef`, `FieldDef`, `TypeRef`
// etc. stay valid for the schema's lifetime.
// Thread-safety: a built `Schema` is immutable and safe to share between threads (its bound
// resolvers must be thread-safe too). `SchemaBuilder` is single-threaded.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graphql/ast.h"
#include "graphql/resolver.h"
#include "graphql/value.h"

namespace stackhouse::graphql {

enum class TypeKind { kScalar, kObject, kInterface, kUnion, kEnum, kInputObject, kList, kNonNull };

// How a scalar coerces input and serializes output.
enum class ScalarKind { kInt, kFloat, kString, kBoolean, kId, kLong, kCustom };

class TypeDef;
class SchemaAssembler;

// A reference to a type: a named type or a List / NonNull wrapper. Interned by the schema, so
// two equal references are the same object.
struct TypeRef {
  TypeKind kind = TypeKind::kScalar;  // kList, kNonNull, or the named type's kind
  const TypeRef* of_type = nullptr;   // kList and kNonNull
  const TypeDef* named = nullptr;     // the innermost named type (set for every reference)

  bool is_non_null() const { return kind == TypeKind::kNonNull; }
  bool is_list() const { return kind == TypeKind::kList; }
  bool is_named() const { return !is_non_null() && !is_list(); }
  // The type without a NonNull wrapper.
  const TypeRef* Nullable() const { return is_non_null() ? of_type : this; }
  // GraphQL notation, e.g. "[Int!]!".
  std::string ToString() const;
};

// An argument or an input object field.
struct InputValueDef {
  std::string name;
  std::string description;
  const TypeRef* type = nullptr;
  std::optional<Value> default_value;  // coerced
  std::string default_value_literal;   // as GraphQL text, for introspection
  bool deprecated = false;
  std::string deprecation_reason;
  ast::Location location;
};

class FieldDef {
 public:
  std::string name;
  std::string description;
  std::vector<InputValueDef> args;
  const TypeRef* type = nullptr;
  bool deprecated = false;
  std::string deprecation_reason;
  const TypeDef* parent = nullptr;
  Resolver resolver;  // empty: the default resolver (reads a `Result::Map` by field name)
  ast::Location location;

  const InputValueDef* FindArg(absl::string_view arg_name) const;
};

struct EnumValueDef {
  std::string name;
  std::string description;
  bool deprecated = false;
  std::string deprecation_reason;
};

class TypeDef {
 public:
  TypeKind kind = TypeKind::kScalar;
  std::string name;
  std::string description;
  std::vector<FieldDef> fields;                // kObject, kInterface
  std::vector<const TypeDef*> interfaces;      // kObject, kInterface
  std::vector<const TypeDef*> possible_types;  // kUnion: members; kInterface: implementations
  std::vector<EnumValueDef> enum_values;       // kEnum
  std::vector<InputValueDef> input_fields;     // kInputObject
  std::string specified_by_url;                // kScalar
  ScalarKind scalar_kind = ScalarKind::kCustom;
  const TypeRef* ref = nullptr;  // the reference to this named type
  TypeResolver type_resolver;    // kInterface, kUnion (optional)

  const FieldDef* FindField(absl::string_view field_name) const;
  const EnumValueDef* FindEnumValue(absl::string_view value_name) const;
  const InputValueDef* FindInputField(absl::string_view field_name) const;
  // True for a union member or an implementation of an interface (or the type itself).
  bool IsPossibleType(const TypeDef* object_type) const;

  bool is_composite() const {
    return kind == TypeKind::kObject || kind == TypeKind::kInterface || kind == TypeKind::kUnion;
  }
  bool is_abstract() const { return kind == TypeKind::kInterface || kind == TypeKind::kUnion; }
  bool is_leaf() const { return kind == TypeKind::kScalar || kind == TypeKind::kEnum; }
  bool is_input() const { return is_leaf() || kind == TypeKind::kInputObject; }

 private:
  friend class SchemaAssembler;
  friend class SchemaBuilder;
  absl::flat_hash_map<std::string, size_t> field_index_;
};

struct DirectiveDef {
  std::string name;
  std::string description;
  std::vector<std::string> locations;  // e.g. "FIELD", "FRAGMENT_SPREAD"
  std::vector<InputValueDef> args;
  bool repeatable = false;

  bool AllowedAt(absl::string_view location) const;
  const InputValueDef* FindArg(absl::string_view arg_name) const;
};

class Schema {
 public:
  const TypeDef* FindType(absl::string_view name) const;
  const DirectiveDef* FindDirective(absl::string_view name) const;

  const TypeDef* query_type() const { return query_type_; }
  const TypeDef* mutation_type() const { return mutation_type_; }          // may be null
  const TypeDef* subscription_type() const { return subscription_type_; }  // may be null
  const std::string& description() const { return description_; }

  // All named types, sorted by name (as introspection lists them).
  const std::vector<const TypeDef*>& types() const { return sorted_types_; }
  const std::vector<const DirectiveDef*>& directives() const { return directive_list_; }

  // The meta fields: `__typename` (any composite type), `__schema` and `__type` (query root).
  const FieldDef& typename_field() const { return *typename_field_; }
  const FieldDef& schema_field() const { return *schema_field_; }
  const FieldDef& type_field() const { return *type_field_; }

  // The field `name` of `parent`, including the meta fields; nullptr when undefined.
  const FieldDef* FindFieldIncludingMeta(const TypeDef& parent, absl::string_view name) const;

 private:
  friend class SchemaAssembler;
  friend class SchemaBuilder;
  Schema() = default;

  std::deque<TypeDef> type_storage_;
  std::deque<TypeRef> ref_storage_;
  std::deque<DirectiveDef> directive_storage_;
  std::deque<FieldDef> meta_fields_;
  absl::flat_hash_map<std::string, TypeDef*> types_;
  absl::flat_hash_map<std::string, const DirectiveDef*> directives_;
  absl::flat_hash_map<std::string, const TypeRef*> refs_;  // by ToString()
  std::vector<const TypeDef*> sorted_types_;
  std::vector<const DirectiveDef*> directive_list_;
  const TypeDef* query_type_ = nullptr;
  const TypeDef* mutation_type_ = nullptr;
  const TypeDef* subscription_type_ = nullptr;
  std::string description_;
  const FieldDef* typename_field_ = nullptr;
  const FieldDef* schema_field_ = nullptr;
  const FieldDef* type_field_ = nullptr;
};

class SchemaBuilder {
 public:
  SchemaBuilder() = default;

  // Adds one SDL text. Errors: InvalidArgument on a syntax error (the message names
  // `source_name` and the position). Semantic errors are reported by `Build`.
  absl::Status AddSdl(absl::string_view sdl, absl::string_view source_name = "schema");

  // Binds `resolver` to the field at `coordinate` ("Type.field"). A later binding replaces an
  // earlier one. An unknown coordinate is reported by `Build`.
  void BindResolver(absl::string_view coordinate, Resolver resolver);

  // Binds a getter for objects given as `Result::Object<T>`/`ObjectArray<T>`:
  // `getter(const T&)` returns a `Result` or `absl::StatusOr<Result>`. A parent of another
  // type yields a field error.
  template <typename T, typename Getter>
  void BindGetter(absl::string_view coordinate, Getter getter) {
    std::string where(coordinate);
    BindResolver(coordinate,
                 [getter = std::move(getter),
                  where](const ResolverContext& context) -> absl::StatusOr<Result> {
                   const T* source = context.Source<T>();
                   if (source == nullptr) {
                     return absl::InternalError("unexpected parent object for " + where);
                   }
                   return getter(*source);
                 });
  }

  // Binds the type resolver of an interface or union type.
  void BindTypeResolver(absl::string_view abstract_type, TypeResolver resolver);

  // Checks and builds the schema. Errors: InvalidArgument listing every problem found (unknown
  // or duplicate types, bad extensions, wrong kinds of types in fields or arguments, objects
  // missing interface fields, invalid default values, resolvers bound to unknown fields).
  absl::StatusOr<std::unique_ptr<const Schema>> Build();

 private:
  struct Source {
    std::string name;
    ast::TypeSystemDocument document;
  };
  std::vector<Source> sources_;
  std::vector<std::pair<std::string, Resolver>> resolvers_;
  std::vector<std::pair<std::string, TypeResolver>> type_resolvers_;
};

}  // namespace stackhouse::graphql
