// The request pipeline: parse → check limits → validate → select the operation → coerce
// variables → execute → serialize. Independent of any transport; `HttpEndpoint` maps its
// outcomes to HTTP.
//
// Example:
//   SchemaBuilder builder;
//   CHECK_OK(builder.AddSdl("type Query { hello(name: String = \"world\"): String! }"));
//   builder.BindResolver("Query.hello", [](const ResolverContext& c) -> absl::StatusOr<Result> {
//     return Result::String("hello " + c.args().Get("name").string_value());
//   });
//   Engine engine(*builder.Build(), Limits());
//   Engine::Response r = engine.Execute({.query = "{ hello }"});
//   // r.outcome == Outcome::kExecuted, r.body == R"({"data":{"hello":"hello world"}})"
//
// Thread-safety: `Engine` is immutable after construction; `Execute` may be called concurrently.
#pragma once

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "graphql/limits.h"
#include "graphql/resolver.h"
#include "graphql/schema.h"
#include "graphql/value.h"

namespace stackhouse::graphql {

class Engine {
 public:
  struct Request {
    absl::string_view query;
    // An object of variable values, or null.
    Value variables;
    // Empty: the document must contain exactly one operation.
    absl::string_view operation_name;
  };

  struct Options {
    // The parent object of root fields (empty: an empty map).
    ObjectRef root_value;
    // Handed to every resolver.
    ObjectRef user_context;
    // False refuses mutations (GET requests) with `Outcome::kMutationNotAllowed`.
    bool allow_mutations = true;
  };

  enum class Outcome {
    kExecuted,            // `data` present (possibly with field errors)
    kSyntaxError,         // `errors` only, classification InvalidSyntax
    kValidationError,     // `errors` only, classification ValidationError
    kRequestError,        // `errors` only: a limit, the operation choice, variable coercion
    kMutationNotAllowed,  // `errors` only: a mutation while `allow_mutations` is false
  };

  struct Response {
    Outcome outcome = Outcome::kExecuted;
    // The complete GraphQL response as JSON: `{"errors":[...]}` and/or `{"data":...}`.
    std::string body;
  };

  Engine(std::shared_ptr<const Schema> schema, Limits limits);

  Response Execute(const Request& request) const { return Execute(request, Options()); }
  Response Execute(const Request& request, const Options& options) const;

  const Schema& schema() const { return *schema_; }
  const Limits& limits() const { return limits_; }

 private:
  const std::shared_ptr<const Schema> schema_;
  const Limits limits_;
};

}  // namespace stackhouse::graphql
