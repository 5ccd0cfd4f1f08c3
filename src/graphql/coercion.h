// Value coercion (October 2021 specification §3.5 scalars, §3.9 enums, §3.10 input objects,
// §3.11 lists, §6.1.2 variables, §6.4.1 arguments, §6.4.3 leaf values).
//
// Input rules: `Int` takes a 32-bit integer (a JSON number with an integral value from
// variables); `Float` any number; `String` a string; `Boolean` a boolean; `ID` a string or an
// integer (kept as a string); `Long` a 64-bit integer, a numeric string or an integral float;
// enums an enum literal (documents) or a name string (variables); input objects reject unknown
// fields and missing non-null fields and apply defaults; a non-list value given for a list type
// becomes a one-item list. Other custom scalars accept any value unchanged.
// Output rules: see `SerializeLeaf`.
//
// Thread-safety: reentrant.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graphql/ast.h"
#include "graphql/resolver.h"
#include "graphql/schema.h"
#include "graphql/value.h"

namespace stackhouse {
class JsonWriter;
}  // namespace stackhouse

namespace stackhouse::graphql {

// Converts a constant literal to a value as written (ints that overflow int64 become floats,
// variables become null). Used for scalar checks and schema default values.
Value LiteralToValue(const ast::Value& literal);

// Coerces a scalar or enum value. `from_literal` selects the document-literal rules (e.g. an
// enum needs an enum literal, `String` refuses an enum literal) rather than the JSON rules.
// Errors: InvalidArgument with a message like "Expected type 'Int' but was '\"x\"'".
absl::StatusOr<Value> CoerceLeaf(const TypeDef& type, const Value& value, bool from_literal);

// Coerces a JSON-sourced value (a variable) to `type`. Errors: InvalidArgument naming the
// problem and, for nested values, where (e.g. "... at 'request.targets[0]'").
absl::StatusOr<Value> CoerceInputValue(const Value& value, const TypeRef& type);

// Coerces a literal of a validated document to `type`, substituting `variables` (an object of
// coerced variable values). Errors: InvalidArgument (e.g. a missing non-null variable).
absl::StatusOr<Value> CoerceLiteral(const ast::Value& literal, const TypeRef& type,
                                    const Value& variables);

// CoerceArgumentValues: the arguments of a field or directive, defaults applied.
absl::StatusOr<Arguments> CoerceArguments(const std::vector<InputValueDef>& definitions,
                                          const std::vector<ast::Argument>& arguments,
                                          const Value& variables);

// CoerceVariableValues for `operation`: returns an object of coerced values (absent variables
// without default are left out). `inputs` must be an object or null. Errors: InvalidArgument
// with a graphql-java style message ("Variable 'x' has an invalid value: ..."); when
// `error_location` is not null it receives the location of the failing variable definition.
absl::StatusOr<Value> CoerceVariables(const Schema& schema,
                                      const ast::OperationDefinition& operation,
                                      const Value& inputs, ast::Location* error_location = nullptr);

// Resolves an AST type reference (of a variable definition) against the schema; the wrapper
// references are allocated in `*arena`, which must outlive their use. Returns nullptr when the
// named type is unknown.
const TypeRef* ResolveTypeRef(const Schema& schema, const ast::Type& type,
                              std::deque<TypeRef>* arena);

// Writes a leaf result of `type` (a scalar or enum). `Int` takes integers in 32-bit range (or
// integral floats, numeric strings); `Float` numbers; `String` strings (numbers and booleans are
// converted to text); `Boolean` booleans; `ID` strings or integers, always written as a string;
// `Long` integers, integral floats or numeric strings; enums a string naming a value; custom
// scalars any scalar as is. Errors: InvalidArgument describing the mismatch; nothing written.
absl::Status SerializeLeaf(const TypeDef& type, const Result& result, JsonWriter* writer);

}  // namespace stackhouse::graphql
