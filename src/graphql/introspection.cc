#include "graphql/introspection.h"

#include "graphql/schema.h"

namespace stackhouse::graphql {
namespace {

constexpr absl::string_view kIntrospectionSdl = R"graphql(
"A GraphQL Schema defines the capabilities of a GraphQL server."
type __Schema {
  description: String
  "A list of all types supported by this server."
  types: [__Type!]!
  "The type that query operations will be rooted at."
  queryType: __Type!
  "If this server supports mutation, the type that mutation operations will be rooted at."
  mutationType: __Type
  "If this server support subscription, the type that subscription operations will be rooted at."
  subscriptionType: __Type
  "A list of all directives supported by this server."
  directives: [__Directive!]!
}

"The fundamental unit of any GraphQL Schema is the type."
type __Type {
  kind: __TypeKind!
  name: String
  description: String
  specifiedByURL: String
  fields(includeDeprecated: Boolean = false): [__Field!]
  interfaces: [__Type!]
  possibleTypes: [__Type!]
  enumValues(includeDeprecated: Boolean = false): [__EnumValue!]
  inputFields(includeDeprecated: Boolean = false): [__InputValue!]
  ofType: __Type
  isOneOf: Boolean
}

"An enum describing what kind of type a given `__Type` is."
enum __TypeKind {
  "Indicates this type is a scalar."
  SCALAR
  "Indicates this type is an object. `fields` and `interfaces` are valid fields."
  OBJECT
  "Indicates this type is an interface. `fields`, `interfaces`, and `possibleTypes` are valid fields."
  INTERFACE
  "Indicates this type is a union. `possibleTypes` is a valid field."
  UNION
  "Indicates this type is an enum. `enumValues` is a valid field."
  ENUM
  "Indicates this type is an input object. `inputFields` is a valid field."
  INPUT_OBJECT
  "Indicates this type is a list. `ofType` is a valid field."
  LIST
  "Indicates this type is a non-null. `ofType` is a valid field."
  NON_NULL
}

"Object and Interface types are described by a list of Fields, each of which has a name, potentially a list of arguments, and a return type."
type __Field {
  name: String!
  description: String
  args(includeDeprecated: Boolean = false): [__InputValue!]!
  type: __Type!
  isDeprecated: Boolean!
  deprecationReason: String
}

"Arguments provided to Fields or Directives and the input fields of an InputObject are represented as Input Values which describe their type and optionally a default value."
type __InputValue {
  name: String!
  description: String
  type: __Type!
  "A GraphQL-formatted string representing the default value for this input value."
  defaultValue: String
  isDeprecated: Boolean!
  deprecationReason: String
}

"One possible value for a given Enum. Enum values are unique values, not a placeholder for a string or numeric value."
type __EnumValue {
  name: String!
  description: String
  isDeprecated: Boolean!
  deprecationReason: String
}

"A Directive provides a way to describe alternate runtime execution and type validation behavior in a GraphQL document."
type __Directive {
  name: String!
  description: String
  isRepeatable: Boolean!
  locations: [__DirectiveLocation!]!
  args(includeDeprecated: Boolean = false): [__InputValue!]!
}

"A Directive can be adjacent to many parts of the GraphQL language, a __DirectiveLocation describes one such possible adjacencies."
enum __DirectiveLocation {
  QUERY
  MUTATION
  SUBSCRIPTION
  FIELD
  FRAGMENT_DEFINITION
  FRAGMENT_SPREAD
  INLINE_FRAGMENT
  VARIABLE_DEFINITION
  SCHEMA
  SCALAR
  OBJECT
  FIELD_DEFINITION
  ARGUMENT_DEFINITION
  INTERFACE
  UNION
  ENUM
  ENUM_VALUE
  INPUT_OBJECT
  INPUT_FIELD_DEFINITION
}
)graphql";

constexpr absl::string_view kStandardIntrospectionQuery = R"graphql(
query IntrospectionQuery {
  __schema {
    description
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types {
      ...FullType
    }
    directives {
      name
      description
      isRepeatable
      locations
      args(includeDeprecated: true) {
        ...InputValue
      }
    }
  }
}

fragment FullType on __Type {
  kind
  name
  description
  specifiedByURL
  isOneOf
  fields(includeDeprecated: true) {
    name
    description
    args(includeDeprecated: true) {
      ...InputValue
    }
    type {
      ...TypeRef
    }
    isDeprecated
    deprecationReason
  }
  inputFields(includeDeprecated: true) {
    ...InputValue
  }
  interfaces {
    ...TypeRef
  }
  enumValues(includeDeprecated: true) {
    name
    description
    isDeprecated
    deprecationReason
  }
  possibleTypes {
    ...TypeRef
  }
}

fragment InputValue on __InputValue {
  name
  description
  type { ...TypeRef }
  defaultValue
  isDeprecated
  deprecationReason
}

fragment TypeRef on __Type {
  kind
  name
  ofType {
    kind
    name
    ofType {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
                ofType {
                  kind
                  name
                  ofType {
                    kind
                    name
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
)graphql";

absl::string_view KindName(TypeKind kind) {
  switch (kind) {
    case TypeKind::kScalar:
      return "SCALAR";
    case TypeKind::kObject:
      return "OBJECT";
    case TypeKind::kInterface:
      return "INTERFACE";
    case TypeKind::kUnion:
      return "UNION";
    case TypeKind::kEnum:
      return "ENUM";
    case TypeKind::kInputObject:
      return "INPUT_OBJECT";
    case TypeKind::kList:
      return "LIST";
    case TypeKind::kNonNull:
      return "NON_NULL";
  }
  return "SCALAR";
}

Result OptionalString(const std::string& s) {
  return s.empty() ? Result::Null() : Result::String(s);
}

Result TypeList(const std::vector<const TypeDef*>& types) {
  std::vector<Result> items;
  items.reserve(types.size());
  for (const TypeDef* type : types) items.push_back(Result::Object(type->ref));
  return Result::List(std::move(items));
}

bool IncludeDeprecated(const ResolverContext& context) {
  return context.args().Get("includeDeprecated").bool_value();
}

Result InputValueList(const std::vector<InputValueDef>& values, bool include_deprecated) {
  std::vector<Result> items;
  items.reserve(values.size());
  for (const InputValueDef& value : values) {
    if (value.deprecated && !include_deprecated) continue;
    items.push_back(Result::Object(&value));
  }
  return Result::List(std::move(items));
}

// A resolver reading an introspection object of type `T` through `get(const T&, context)`.
template <typename T, typename Get>
std::pair<std::string, Resolver> Field(std::string coordinate, Get get) {
  return {std::move(coordinate), [get](const ResolverContext& context) -> absl::StatusOr<Result> {
            const T* source = context.Source<T>();
            if (source == nullptr) return Result::Null();
            return get(*source, context);
          }};
}

// The named type behind a `__Type` object, or nullptr for wrappers.
const TypeDef* Named(const TypeRef& ref) { return ref.is_named() ? ref.named : nullptr; }

}  // namespace

absl::string_view IntrospectionSdl() { return kIntrospectionSdl; }

absl::string_view StandardIntrospectionQuery() { return kStandardIntrospectionQuery; }

Resolver SchemaMetaResolver(const Schema* schema) {
  return
      [schema](const ResolverContext&) -> absl::StatusOr<Result> { return Result::Object(schema); };
}

Resolver TypeMetaResolver(const Schema* schema) {
  return [schema](const ResolverContext& context) -> absl::StatusOr<Result> {
    const TypeDef* type = schema->FindType(context.args().Get("name").string_value());
    return type == nullptr ? Result::Null() : Result::Object(type->ref);
  };
}

std::vector<std::pair<std::string, Resolver>> IntrospectionResolvers() {
  using Ctx = ResolverContext;
  std::vector<std::pair<std::string, Resolver>> r;

  r.push_back(Field<Schema>("__Schema.description", [](const Schema& s, const Ctx&) {
    return OptionalString(s.description());
  }));
  r.push_back(Field<Schema>("__Schema.types",
                            [](const Schema& s, const Ctx&) { return TypeList(s.types()); }));
  r.push_back(Field<Schema>("__Schema.queryType", [](const Schema& s, const Ctx&) {
    return Result::Object(s.query_type()->ref);
  }));
  r.push_back(Field<Schema>("__Schema.mutationType", [](const Schema& s, const Ctx&) {
    return s.mutation_type() ? Result::Object(s.mutation_type()->ref) : Result::Null();
  }));
  r.push_back(Field<Schema>("__Schema.subscriptionType", [](const Schema& s, const Ctx&) {
    return s.subscription_type() ? Result::Object(s.subscription_type()->ref) : Result::Null();
  }));
  r.push_back(Field<Schema>("__Schema.directives", [](const Schema& s, const Ctx&) {
    std::vector<Result> items;
    for (const DirectiveDef* directive : s.directives()) {
      items.push_back(Result::Object(directive));
    }
    return Result::List(std::move(items));
  }));

  r.push_back(Field<TypeRef>("__Type.kind", [](const TypeRef& t, const Ctx&) {
    return Result::String(std::string(KindName(t.kind)));
  }));
  r.push_back(Field<TypeRef>("__Type.name", [](const TypeRef& t, const Ctx&) {
    return Named(t) ? Result::String(t.named->name) : Result::Null();
  }));
  r.push_back(Field<TypeRef>("__Type.description", [](const TypeRef& t, const Ctx&) {
    return Named(t) ? OptionalString(t.named->description) : Result::Null();
  }));
  r.push_back(Field<TypeRef>("__Type.specifiedByURL", [](const TypeRef& t, const Ctx&) {
    return Named(t) ? OptionalString(t.named->specified_by_url) : Result::Null();
  }));
  r.push_back(Field<TypeRef>("__Type.fields", [](const TypeRef& t, const Ctx& context) {
    const TypeDef* type = Named(t);
    if (type == nullptr ||
        (type->kind != TypeKind::kObject && type->kind != TypeKind::kInterface)) {
      return Result::Null();
    }
    bool include_deprecated = IncludeDeprecated(context);
    std::vector<Result> items;
    for (const FieldDef& field : type->fields) {
      if (field.deprecated && !include_deprecated) continue;
      items.push_back(Result::Object(&field));
    }
    return Result::List(std::move(items));
  }));
  r.push_back(Field<TypeRef>("__Type.interfaces", [](const TypeRef& t, const Ctx&) {
    const TypeDef* type = Named(t);
    if (type == nullptr ||
        (type->kind != TypeKind::kObject && type->kind != TypeKind::kInterface)) {
      return Result::Null();
    }
    return TypeList(type->interfaces);
  }));
  r.push_back(Field<TypeRef>("__Type.possibleTypes", [](const TypeRef& t, const Ctx&) {
    const TypeDef* type = Named(t);
    if (type == nullptr || !type->is_abstract()) return Result::Null();
    return TypeList(type->possible_types);
  }));
  r.push_back(Field<TypeRef>("__Type.enumValues", [](const TypeRef& t, const Ctx& context) {
    const TypeDef* type = Named(t);
    if (type == nullptr || type->kind != TypeKind::kEnum) return Result::Null();
    bool include_deprecated = IncludeDeprecated(context);
    std::vector<Result> items;
    for (const EnumValueDef& value : type->enum_values) {
      if (value.deprecated && !include_deprecated) continue;
      items.push_back(Result::Object(&value));
    }
    return Result::List(std::move(items));
  }));
  r.push_back(Field<TypeRef>("__Type.inputFields", [](const TypeRef& t, const Ctx& context) {
    const TypeDef* type = Named(t);
    if (type == nullptr || type->kind != TypeKind::kInputObject) return Result::Null();
    return InputValueList(type->input_fields, IncludeDeprecated(context));
  }));
  r.push_back(Field<TypeRef>("__Type.ofType", [](const TypeRef& t, const Ctx&) {
    return t.of_type != nullptr ? Result::Object(t.of_type) : Result::Null();
  }));
  r.push_back(Field<TypeRef>("__Type.isOneOf", [](const TypeRef& t, const Ctx&) {
    const TypeDef* type = Named(t);
    return type != nullptr && type->kind == TypeKind::kInputObject ? Result::Bool(false)
                                                                   : Result::Null();
  }));

  r.push_back(Field<FieldDef>(
      "__Field.name", [](const FieldDef& f, const Ctx&) { return Result::String(f.name); }));
  r.push_back(Field<FieldDef>("__Field.description", [](const FieldDef& f, const Ctx&) {
    return OptionalString(f.description);
  }));
  r.push_back(Field<FieldDef>("__Field.args", [](const FieldDef& f, const Ctx& context) {
    return InputValueList(f.args, IncludeDeprecated(context));
  }));
  r.push_back(Field<FieldDef>(
      "__Field.type", [](const FieldDef& f, const Ctx&) { return Result::Object(f.type); }));
  r.push_back(Field<FieldDef>("__Field.isDeprecated", [](const FieldDef& f, const Ctx&) {
    return Result::Bool(f.deprecated);
  }));
  r.push_back(Field<FieldDef>("__Field.deprecationReason", [](const FieldDef& f, const Ctx&) {
    return f.deprecated ? Result::String(f.deprecation_reason) : Result::Null();
  }));

  r.push_back(Field<InputValueDef>("__InputValue.name", [](const InputValueDef& v, const Ctx&) {
    return Result::String(v.name);
  }));
  r.push_back(Field<InputValueDef>(
      "__InputValue.description",
      [](const InputValueDef& v, const Ctx&) { return OptionalString(v.description); }));
  r.push_back(Field<InputValueDef>("__InputValue.type", [](const InputValueDef& v, const Ctx&) {
    return Result::Object(v.type);
  }));
  r.push_back(Field<InputValueDef>("__InputValue.defaultValue", [](const InputValueDef& v,
                                                                   const Ctx&) {
    return v.default_value.has_value() ? Result::String(v.default_value_literal) : Result::Null();
  }));
  r.push_back(Field<InputValueDef>(
      "__InputValue.isDeprecated",
      [](const InputValueDef& v, const Ctx&) { return Result::Bool(v.deprecated); }));
  r.push_back(Field<InputValueDef>(
      "__InputValue.deprecationReason", [](const InputValueDef& v, const Ctx&) {
        return v.deprecated ? Result::String(v.deprecation_reason) : Result::Null();
      }));

  r.push_back(Field<EnumValueDef>("__EnumValue.name", [](const EnumValueDef& v, const Ctx&) {
    return Result::String(v.name);
  }));
  r.push_back(Field<EnumValueDef>("__EnumValue.description", [](const EnumValueDef& v, const Ctx&) {
    return OptionalString(v.description);
  }));
  r.push_back(Field<EnumValueDef>(
      "__EnumValue.isDeprecated",
      [](const EnumValueDef& v, const Ctx&) { return Result::Bool(v.deprecated); }));
  r.push_back(
      Field<EnumValueDef>("__EnumValue.deprecationReason", [](const EnumValueDef& v, const Ctx&) {
        return v.deprecated ? Result::String(v.deprecation_reason) : Result::Null();
      }));

  r.push_back(Field<DirectiveDef>("__Directive.name", [](const DirectiveDef& d, const Ctx&) {
    return Result::String(d.name);
  }));
  r.push_back(Field<DirectiveDef>("__Directive.description", [](const DirectiveDef& d, const Ctx&) {
    return OptionalString(d.description);
  }));
  r.push_back(Field<DirectiveDef>(
      "__Directive.isRepeatable",
      [](const DirectiveDef& d, const Ctx&) { return Result::Bool(d.repeatable); }));
  r.push_back(Field<DirectiveDef>("__Directive.locations", [](const DirectiveDef& d, const Ctx&) {
    std::vector<Result> items;
    for (const std::string& location : d.locations) items.push_back(Result::String(location));
    return Result::List(std::move(items));
  }));
  r.push_back(
      Field<DirectiveDef>("__Directive.args", [](const DirectiveDef& d, const Ctx& context) {
        return InputValueList(d.args, IncludeDeprecated(context));
      }));
  return r;
}

}  // namespace stackhouse::graphql
