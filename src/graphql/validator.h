// Validation of executable documents against a schema (October 2021 specification §5).
//
// Rules checked: executable definitions (by the parser); operation name uniqueness; lone
// anonymous operation; operation type supported by the schema; fields defined on their type;
// field selection merging (same response name → same field and arguments, compatible shapes);
// leaf fields without and composite fields with a selection; argument names known and unique,
// required arguments present; fragment names unique, type conditions known and composite,
// fragments used, spreads target defined fragments, no cycles, spreads possible; values of
// correct type (including input object field names, uniqueness and required fields); directives
// defined, in valid locations and unique per location; variables unique, of input types, all
// uses defined, all defined used, and uses allowed (types compatible, with the default value
// rule).
//
// Each error is graphql-java shaped: message "Validation error (Rule@[path]) : text",
// locations, classification "ValidationError". The document must have passed
// `CheckDocumentLimits`, which bounds the recursion here.
//
// Thread-safety: reentrant.
#pragma once

#include <vector>

#include "graphql/ast.h"
#include "graphql/error.h"
#include "graphql/schema.h"

namespace stackhouse::graphql {

// Returns the validation errors of `document`; empty when it is valid.
std::vector<Error> Validate(const Schema& schema, const ast::Document& document);

}  // namespace stackhouse::graphql
