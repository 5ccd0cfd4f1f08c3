// Execution of one operation of a validated document (October 2021 specification §6).
//
// The executor streams the `data` value straight into a `JsonWriter` while it resolves fields;
// no intermediate result tree is built. Null propagation (§6.4.4) rewinds the writer to the
// start of the nearest nullable value and writes `null` there. Selections are planned once per
// (field, concrete type) and arguments coerced once per field, so a list of 100,000 objects costs
// one plan plus one resolver call per selected field and item.
//
// Root fields of queries and mutations run one after another in document order (serially, as
// mutations require). A resolver's failed status, a thrown exception, a value that does not fit
// the field's type, and a null for a non-null field become errors in the `errors` list with the
// response path and the field's location.
//
// Thread-safety: `ExecuteOperation` is reentrant; concurrent calls may share a schema and
// document.
#pragma once

#include <functional>
#include <vector>

#include "common/json_writer.h"
#include "graphql/ast.h"
#include "graphql/error.h"
#include "graphql/resolver.h"
#include "graphql/schema.h"
#include "graphql/value.h"

namespace stackhouse::graphql {

struct ExecutionInput {
  const Schema* schema = nullptr;
  const ast::Document* document = nullptr;
  const ast::OperationDefinition* operation = nullptr;
  // Coerced variable values (an object), as returned by `CoerceVariables`.
  const Value* variables = nullptr;
  // The parent object of root fields; empty means an empty `Result::Map`.
  ObjectRef root_value;
  // Handed to every resolver (`ResolverContext::UserContext<T>()`).
  ObjectRef user_context;
  // Optional: called after each list item has been written, where the caller may stream out
  // what the writer holds (`JsonWriter::Release`). Must not write to the writer.
  const std::function<void()>* after_list_item = nullptr;
};

// Writes the `data` value (an object, or null when a non-null root field was null) to `writer`
// and appends field errors to `errors`. `input`'s pointers must be non-null and the operation's
// root type must exist (validation guarantees it).
void ExecuteOperation(const ExecutionInput& input, JsonWriter* writer, std::vector<Error>* errors);

}  // namespace stackhouse::graphql
