// Parses request JSON (bodies, `variables`) into `Value`s.
//
// Built on RapidJSON's SAX reader in iterative mode: RapidJSON never throws, and iterative
// parsing uses no recursion, so a hostile, deeply nested body cannot overflow the stack; nesting
// beyond `max_depth` is refused before any deep tree is built. (nlohmann-json was the other
// candidate; it throws and recurses, and its DOM would be a second copy of the data.) RapidJSON
// stays out of headers.
//
// Integers that fit int64 become `kInt`; other numbers become `kFloat`. Object members keep
// document order; a duplicated key keeps its last value.
//
// Thread-safety: reentrant.
#pragma once

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graphql/value.h"

namespace stackhouse::graphql {

// Errors: InvalidArgument (malformed JSON; the message names the problem and the byte offset),
// ResourceExhausted (nesting deeper than `max_depth`; the message names the limit).
absl::StatusOr<Value> ParseJson(absl::string_view text, size_t max_depth);

}  // namespace stackhouse::graphql
