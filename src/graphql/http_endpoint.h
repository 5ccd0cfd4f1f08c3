// GraphQL over HTTP (spec §1), independent of any HTTP library: the server hands over the parts
// of a request it received on `/graphql` and writes back the returned status, content type and
// body.
//
//   POST, Content-Type application/json (or any `+json` type): body
//        {"query": "...", "variables": {...} | null, "operationName": "..." | null}
//   POST, Content-Type application/graphql: the body is the document
//   GET:  query parameters `query`, `variables` (JSON text), `operationName`; queries only
//
// Statuses: 200 for executed requests, syntax errors, variable and limit errors (GraphQL
// `errors`); 400 JSON for validation errors; 400 text/plain for "Missing request body",
// "Failed to parse a JSON document: <body>", "Missing query" and malformed fields; 405 for other
// methods and for mutations over GET; 406 when `Accept` admits no JSON type; 413 when the body
// exceeds `Limits::max_body_bytes`; 415 for other content types. GraphQL responses are
// `application/json; charset=utf-8`.
//
// Thread-safety: immutable after construction; `Handle` may be called concurrently.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "graphql/engine.h"
#include "graphql/limits.h"
#include "graphql/schema.h"

namespace stackhouse::graphql {

struct HttpRequest {
  absl::string_view method;        // "GET", "POST", ...
  absl::string_view content_type;  // the Content-Type header; empty when absent
  absl::string_view accept;        // the Accept header; empty when absent
  absl::string_view body;
  // Decoded query-string parameters (for GET).
  std::map<std::string, std::string, std::less<>> query_params;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  // Extra headers, e.g. `Allow` on 405.
  std::vector<std::pair<std::string, std::string>> headers;
  // kComplete / kCut: the response went to the ResponseStream (status, content type and body
  // there; `body` empty here), whole or cut (`cut_reason` says why; see
  // Engine::Options::stream).
  Engine::Streamed streamed = Engine::Streamed::kNo;
  std::string cut_reason{};
};

// Where Handle may send a large response while it is produced, e.g. an HTTP server's chunked
// response. Used by one Handle call, on its thread.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Starts the response: called once, before the first Write.
  virtual void Begin(int status, absl::string_view content_type) = 0;
  // The next piece of the body; false once the client is gone.
  virtual bool Write(absl::string_view chunk) = 0;
};

class HttpEndpoint {
 public:
  HttpEndpoint(std::shared_ptr<const Schema> schema, Limits limits);

  // Handles one request. `options.allow_mutations` is forced to false for GET. With `stream`,
  // an executed response larger than `options.stream_chunk_bytes` (status 200) goes to it
  // while it is produced, byte for byte what the returned body would have been, unless it is
  // cut (Engine::Options::stream); every error found before execution, and every smaller
  // response, is returned as without `stream`.
  HttpResponse Handle(const HttpRequest& request,
                      const Engine::Options& options = Engine::Options(),
                      ResponseStream* stream = nullptr) const;

  const Engine& engine() const { return engine_; }

 private:
  HttpResponse Run(absl::string_view query, Value variables, absl::string_view operation_name,
                   const Engine::Options& options, ResponseStream* stream) const;

  const Engine engine_;
};

}  // namespace stackhouse::graphql
