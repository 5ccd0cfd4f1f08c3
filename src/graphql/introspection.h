// Introspection (October 2021 specification §4, plus the later additions graphql-js asks for:
// `specifiedByURL`, `isRepeatable`, `includeDeprecated` on arguments and input fields,
// `isOneOf`, `__Schema.description`).
//
// The introspection types are declared in SDL and resolved with the engine's own pointer-object
// resolvers: `__Schema` objects are `const Schema*`, `__Type` objects `const TypeRef*`, `__Field`
// `const FieldDef*`, `__InputValue` `const InputValueDef*`, `__EnumValue` `const EnumValueDef*`
// and `__Directive` `const DirectiveDef*`. `SchemaBuilder::Build` wires all of this in.
//
// Thread-safety: the resolvers only read the immutable schema.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "graphql/resolver.h"

namespace stackhouse::graphql {

class Schema;

// The SDL of the `__Schema`, `__Type`, ... types.
absl::string_view IntrospectionSdl();

// The resolvers of the introspection types' fields, by coordinate.
std::vector<std::pair<std::string, Resolver>> IntrospectionResolvers();

// The resolvers of the meta fields `__schema` and `__type(name:)` over `schema`, which must
// outlive them.
Resolver SchemaMetaResolver(const Schema* schema);
Resolver TypeMetaResolver(const Schema* schema);

// The standard introspection query, as sent by GraphiQL (graphql-js `getIntrospectionQuery`
// with descriptions, `specifiedByURL`, `isRepeatable`, `schemaDescription` and
// `inputValueDeprecation` enabled).
absl::string_view StandardIntrospectionQuery();

}  // namespace stackhouse::graphql
