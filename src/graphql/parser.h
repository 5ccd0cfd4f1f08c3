// Recursive-descent parser for GraphQL documents (October 2021 specification, §2 and §3).
//
// `ParseExecutableDocument` accepts operations and fragments only; `ParseTypeSystemDocument`
// accepts schema definitions (SDL) including `extend` forms. Both run in time linear in the input
// and bound their recursion by `ParseOptions::max_depth` (nested selection sets, list/object
// values and type wrappers), so hostile input fails with an error instead of exhausting the stack.
//
// Errors: `InvalidArgument` for a syntax error, `ResourceExhausted` when a limit (tokens, depth)
// was exceeded; the message ends with "at line L column C". When `error` is not null it receives
// the same message without the position, and the position.
//
// Thread-safety: the functions are reentrant.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graphql/ast.h"

namespace stackhouse::graphql {

struct ParseOptions {
  size_t max_tokens = 50'000;
  size_t max_depth = 64;
};

struct ParseError {
  // E.g. "offending token '}' at line 1 column 9 (expected Name)".
  std::string message;
  ast::Location location;
  // True when a limit (max_tokens, max_depth) was exceeded rather than the grammar violated.
  bool limit_exceeded = false;
};

absl::StatusOr<ast::Document> ParseExecutableDocument(absl::string_view source,
                                                      const ParseOptions& options,
                                                      ParseError* error = nullptr);

absl::StatusOr<ast::TypeSystemDocument> ParseTypeSystemDocument(absl::string_view source,
                                                                const ParseOptions& options,
                                                                ParseError* error = nullptr);

}  // namespace stackhouse::graphql
