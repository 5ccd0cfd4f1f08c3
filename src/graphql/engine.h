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

#include <cstddef>
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

  // Where a large response goes while it is produced (Options::stream). Not thread-safe: one
  // Execute uses it, on the calling thread.
  class Stream {
   public:
    virtual ~Stream() = default;
    // The next piece of the response; false once it cannot take more (the client is gone).
    virtual bool Write(absl::string_view chunk) = 0;
  };

  // What the buffered text of a streamed response may reach before it is sent.
  static constexpr size_t kDefaultStreamChunkBytes = 256 * 1024;

  struct Options {
    // The parent object of root fields (empty: an empty map).
    ObjectRef root_value;
    // Handed to every resolver.
    ObjectRef user_context;
    // False refuses mutations (GET requests) with `Outcome::kMutationNotAllowed`.
    bool allow_mutations = true;
    // Optional: once the response being written holds `stream_chunk_bytes` (checked after
    // each list item), it goes to `stream` while it is produced, in pieces of about that size,
    // and `Response::body` stays empty; smaller responses are returned whole in `body`. The
    // streamed bytes are exactly the body that would have been returned, except that errors
    // met after the first piece, when none came before it, follow the data
    // (`{"data":...,"errors":[...]}`: the same JSON object, keys in another order). The
    // stream is cut (Streamed::kCut) when what was sent would have to change: an error met
    // after the first piece when the head already listed errors, or a null propagating into
    // text already sent; and a stream that refuses a piece takes no more.
    Stream* stream = nullptr;
    size_t stream_chunk_bytes = kDefaultStreamChunkBytes;
  };

  enum class Streamed {
    kNo,        // the response is `Response::body`
    kComplete,  // the response went to Options::stream, whole
    kCut,       // the response went to Options::stream and is incomplete (see Options::stream)
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
    // The complete GraphQL response as JSON: `{"errors":[...]}` and/or `{"data":...}`; empty
    // when it was streamed.
    std::string body;
    Streamed streamed = Streamed::kNo;
    // For Streamed::kCut: why, e.g. the first error met after the stream had begun.
    std::string cut_reason{};
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
