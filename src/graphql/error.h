// GraphQL errors as they appear in a response's `errors` array (graphql-java's shape):
// `message`, `locations`, `path` (execution errors only) and `extensions.classification`.
//
// Thread-safety: plain data.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "graphql/ast.h"

namespace stackhouse {
class JsonWriter;
}  // namespace stackhouse

namespace stackhouse::graphql {

// Classifications used in `extensions.classification`.
inline constexpr absl::string_view kInvalidSyntax = "InvalidSyntax";
inline constexpr absl::string_view kValidationError = "ValidationError";
inline constexpr absl::string_view kDataFetchingException = "DataFetchingException";
inline constexpr absl::string_view kNullValueInNonNullableField = "NullValueInNonNullableField";
inline constexpr absl::string_view kExecutionAborted = "ExecutionAborted";

// A response key or a list index.
using PathSegment = std::variant<std::string, int64_t>;

struct Error {
  std::string message;
  std::vector<ast::Location> locations;
  std::vector<PathSegment> path;
  std::string classification;
};

// Formats a path as graphql-java does in messages: "/a/b/0/c".
std::string PathToString(const std::vector<PathSegment>& path);

// Writes `errors` as a JSON array.
void WriteErrors(const std::vector<Error>& errors, JsonWriter* writer);

}  // namespace stackhouse::graphql
