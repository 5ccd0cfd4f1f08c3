#include "graphql/http_endpoint.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "graphql/json_reader.h"

namespace stackhouse::graphql {
namespace {

constexpr absl::string_view kJsonContentType = "application/json; charset=utf-8";
constexpr absl::string_view kTextContentType = "text/plain; charset=utf-8";

HttpResponse Text(int status, std::string body) {
  return HttpResponse{status, std::string(kTextContentType), std::move(body), {}};
}

// The media type of a header value, lower-cased, without parameters.
std::string MediaType(absl::string_view value) {
  absl::string_view type = value.substr(0, value.find(';'));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(type));
}

bool IsJsonMediaType(absl::string_view type) {
  return type == "application/json" || absl::EndsWith(type, "+json");
}

// True when the Accept header admits a JSON response.
bool AcceptsJson(absl::string_view accept) {
  if (absl::StripAsciiWhitespace(accept).empty()) return true;
  for (absl::string_view entry : absl::StrSplit(accept, ',')) {
    std::string type = MediaType(entry);
    // Entries with q=0 are refusals.
    std::string params = absl::AsciiStrToLower(entry);
    params.erase(std::remove(params.begin(), params.end(), ' '), params.end());
    if (absl::StrContains(params, ";q=0") && !absl::StrContains(params, ";q=0.")) continue;
    if (type == "*/*" || type == "application/*" || IsJsonMediaType(type)) return true;
  }
  return false;
}

}  // namespace

HttpEndpoint::HttpEndpoint(std::shared_ptr<const Schema> schema, Limits limits)
    : engine_(std::move(schema), limits) {}

HttpResponse HttpEndpoint::Handle(const HttpRequest& request, const Engine::Options& options,
                                  ResponseStream* stream) const {
  const Limits& limits = engine_.limits();
  const bool is_get = request.method == "GET";
  if (!is_get && request.method != "POST") {
    HttpResponse response = Text(405, "Method Not Allowed");
    response.headers.emplace_back("Allow", "GET, POST");
    return response;
  }
  if (!AcceptsJson(request.accept)) {
    return Text(406, "Not Acceptable: the response is application/json");
  }
  if (request.body.size() > limits.max_body_bytes) {
    return Text(
        413, absl::StrCat("Request body of ", request.body.size(), " bytes exceeds the limit of ",
                          limits.max_body_bytes, " bytes (limit max_body_bytes)"));
  }

  if (is_get) {
    Engine::Options get_options = options;
    get_options.allow_mutations = false;
    auto query = request.query_params.find("query");
    if (query == request.query_params.end() || query->second.empty()) {
      return Text(400, "Missing query");
    }
    Value variables;
    if (auto it = request.query_params.find("variables");
        it != request.query_params.end() && !it->second.empty()) {
      absl::StatusOr<Value> parsed = ParseJson(it->second, limits.max_json_depth);
      if (!parsed.ok()) {
        return Text(400, absl::StrCat("Failed to parse a JSON document: ", it->second));
      }
      if (!parsed->is_null() && parsed->kind() != Value::Kind::kObject) {
        return Text(400, "Invalid request: 'variables' must be a JSON object");
      }
      variables = *std::move(parsed);
    }
    absl::string_view operation_name;
    if (auto it = request.query_params.find("operationName"); it != request.query_params.end()) {
      operation_name = it->second;
    }
    return Run(query->second, std::move(variables), operation_name, get_options, stream);
  }

  std::string media_type = MediaType(request.content_type);
  bool is_graphql = media_type == "application/graphql";
  if (!is_graphql && !IsJsonMediaType(media_type)) {
    return Text(415, absl::StrCat("Unsupported Media Type: '", request.content_type,
                                  "'; use application/json or application/graphql"));
  }
  if (request.body.empty()) return Text(400, "Missing request body");
  if (is_graphql) return Run(request.body, Value(), "", options, stream);

  absl::StatusOr<Value> parsed = ParseJson(request.body, limits.max_json_depth);
  if (!parsed.ok()) {
    if (absl::IsResourceExhausted(parsed.status())) {
      return Text(400,
                  absl::StrCat("Failed to parse a JSON document: ", parsed.status().message()));
    }
    return Text(400, absl::StrCat("Failed to parse a JSON document: ", request.body));
  }
  if (parsed->kind() != Value::Kind::kObject) {
    return Text(400, "Invalid request: the body must be a JSON object");
  }
  const Value* query = parsed->Find("query");
  if (query == nullptr || query->is_null() ||
      (query->kind() == Value::Kind::kString && query->string_value().empty())) {
    return Text(400, "Missing query");
  }
  if (query->kind() != Value::Kind::kString) {
    return Text(400, "Invalid request: 'query' must be a string");
  }
  Value variables;
  if (const Value* given = parsed->Find("variables"); given != nullptr) {
    if (!given->is_null() && given->kind() != Value::Kind::kObject) {
      return Text(400, "Invalid request: 'variables' must be a JSON object");
    }
    variables = *given;
  }
  absl::string_view operation_name;
  if (const Value* given = parsed->Find("operationName"); given != nullptr) {
    if (!given->is_null() && given->kind() != Value::Kind::kString) {
      return Text(400, "Invalid request: 'operationName' must be a string");
    }
    operation_name = given->string_value();
  }
  return Run(query->string_value(), std::move(variables), operation_name, options, stream);
}

HttpResponse HttpEndpoint::Run(absl::string_view query, Value variables,
                               absl::string_view operation_name, const Engine::Options& options,
                               ResponseStream* stream) const {
  // Only an executed response streams, and that is a 200.
  class StartingStream final : public Engine::Stream {
   public:
    explicit StartingStream(ResponseStream* out) : out_(out) {}
    bool Write(absl::string_view chunk) override {
      if (!begun_) out_->Begin(200, kJsonContentType);
      begun_ = true;
      return out_->Write(chunk);
    }

   private:
    ResponseStream* const out_;
    bool begun_ = false;
  };
  Engine::Request request{query, std::move(variables), operation_name};
  std::optional<StartingStream> engine_stream;
  Engine::Options run_options = options;
  if (stream != nullptr) {
    engine_stream.emplace(stream);
    run_options.stream = &*engine_stream;
  }
  Engine::Response result = engine_.Execute(request, run_options);
  if (result.streamed != Engine::Streamed::kNo) {
    HttpResponse response{200, std::string(kJsonContentType), "", {}};
    response.streamed = result.streamed;
    response.cut_reason = std::move(result.cut_reason);
    return response;
  }
  int status = 200;
  switch (result.outcome) {
    case Engine::Outcome::kValidationError:
      status = 400;
      break;
    case Engine::Outcome::kMutationNotAllowed:
      status = 405;
      break;
    default:
      break;
  }
  HttpResponse response{status, std::string(kJsonContentType), std::move(result.body), {}};
  if (status == 405) response.headers.emplace_back("Allow", "POST");
  return response;
}

}  // namespace stackhouse::graphql
