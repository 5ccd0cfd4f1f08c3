// Request limits, filled by the server from its configuration, and the check of a parsed
// document against them.
//
// The defaults admit every document that real clients send (SkyWalking's UI and CLI, and the
// standard GraphiQL introspection query, whose depth is 15 and which selects 227 fields)
// while bounding the work a hostile request can cause.
//
// Thread-safety: plain data and a reentrant function.
#pragma once

#include <cstddef>

#include "absl/status/status.h"
#include "graphql/ast.h"

namespace stackhouse::graphql {

struct Limits {
  // Largest accepted HTTP request body (HTTP 413 beyond).
  size_t max_body_bytes = 4 * 1024 * 1024;
  // Largest nesting of fields, counted through fragments (also bounds the parser's nesting of
  // selection sets, list/object values and types).
  size_t max_query_depth = 32;
  // Most field selections in a document, counted with fragments expanded (like the OAP's
  // `maxQueryComplexity`, default 3000).
  size_t max_fields = 3000;
  // Most lexical tokens in a document.
  size_t max_tokens = 50'000;
  // Deepest nesting of the request JSON (`variables`).
  size_t max_json_depth = 64;
};

// Checks the field depth and the number of field selections of every operation and fragment,
// counting through fragment spreads (a spread cycle counts as nothing; validation reports it).
// Runs in time linear in the document. Errors: ResourceExhausted naming the limit, e.g.
// "maximum query depth exceeded 40 > 32 (limit max_query_depth)".
absl::Status CheckDocumentLimits(const ast::Document& document, const Limits& limits);

}  // namespace stackhouse::graphql
