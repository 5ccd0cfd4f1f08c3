#include "graphql/engine.h"

#include <functional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/json_writer.h"
#include "graphql/coercion.h"
#include "graphql/error.h"
#include "graphql/executor.h"
#include "graphql/parser.h"
#include "graphql/validator.h"

namespace stackhouse::graphql {
namespace {

std::string ErrorsOnly(const std::vector<Error>& errors) {
  std::string body;
  JsonWriter writer(&body);
  writer.BeginObject();
  writer.Key("errors");
  WriteErrors(errors, &writer);
  writer.EndObject();
  return body;
}

Engine::Response Failure(Engine::Outcome outcome, std::vector<Error> errors) {
  return Engine::Response{outcome, ErrorsOnly(errors)};
}

Engine::Response Failure(Engine::Outcome outcome, std::string message,
                         std::vector<ast::Location> locations, absl::string_view classification) {
  return Failure(
      outcome, {Error{std::move(message), std::move(locations), {}, std::string(classification)}});
}

}  // namespace

Engine::Engine(std::shared_ptr<const Schema> schema, Limits limits)
    : schema_(std::move(schema)), limits_(limits) {}

Engine::Response Engine::Execute(const Request& request, const Options& options) const {
  ParseOptions parse_options;
  parse_options.max_tokens = limits_.max_tokens;
  parse_options.max_depth = 2 * limits_.max_query_depth + 8;
  ParseError parse_error;
  absl::StatusOr<ast::Document> document =
      ParseExecutableDocument(request.query, parse_options, &parse_error);
  if (!document.ok()) {
    if (parse_error.limit_exceeded) {
      return Failure(Outcome::kRequestError, parse_error.message, {parse_error.location},
                     kExecutionAborted);
    }
    return Failure(Outcome::kSyntaxError, absl::StrCat("Invalid Syntax : ", parse_error.message),
                   {parse_error.location}, kInvalidSyntax);
  }

  if (absl::Status limits = CheckDocumentLimits(*document, limits_); !limits.ok()) {
    return Failure(Outcome::kRequestError, std::string(limits.message()), {}, kExecutionAborted);
  }

  if (std::vector<Error> errors = Validate(*schema_, *document); !errors.empty()) {
    return Failure(Outcome::kValidationError, std::move(errors));
  }

  const ast::OperationDefinition* operation = nullptr;
  if (request.operation_name.empty()) {
    if (document->operations.size() != 1) {
      return Failure(Outcome::kRequestError,
                     "Must provide operation name if query contains multiple operations.", {},
                     kValidationError);
    }
    operation = &document->operations.front();
  } else {
    for (const ast::OperationDefinition& candidate : document->operations) {
      if (candidate.name == request.operation_name) operation = &candidate;
    }
    if (operation == nullptr) {
      return Failure(Outcome::kRequestError,
                     absl::StrCat("Unknown operation named '", request.operation_name, "'."), {},
                     kValidationError);
    }
  }
  if (operation->operation == ast::OperationType::kMutation && !options.allow_mutations) {
    return Failure(Outcome::kMutationNotAllowed,
                   "Mutations are not allowed in GET requests; use POST", {operation->location},
                   kValidationError);
  }

  ast::Location variable_location;
  absl::StatusOr<Value> variables =
      CoerceVariables(*schema_, *operation, request.variables, &variable_location);
  if (!variables.ok()) {
    return Failure(Outcome::kRequestError, std::string(variables.status().message()),
                   {variable_location}, kValidationError);
  }

  std::string data;
  std::vector<Error> errors;
  JsonWriter data_writer(&data);
  ExecutionInput input;
  input.schema = schema_.get();
  input.document = &*document;
  input.operation = operation;
  input.variables = &*variables;
  input.root_value = options.root_value;
  input.user_context = options.user_context;
  // Streaming: the first piece is the response's head (`{"errors":[...],"data":` with the
  // errors met so far), then the data as it is written. When no error came before the first
  // piece, errors met later follow the data (`{"data":...,"errors":[...]}`, which GraphQL
  // allows); when some did, a later one would belong in the head already sent, so it cuts the
  // stream.
  bool streaming = false;
  bool stream_ok = true;
  size_t errors_at_start = 0;
  std::string cut_reason;
  const auto cut = [&](std::string reason) {
    stream_ok = false;
    cut_reason = std::move(reason);
  };
  // What was sent stays the start of the unstreamed response?
  const auto check_sent = [&] {
    if (stream_ok && errors_at_start > 0 && errors.size() != errors_at_start) {
      cut(absl::StrCat("an error after the response had begun: ", errors[errors_at_start].message));
    }
    if (stream_ok && data_writer.rewind_lost()) {
      cut("a null propagated into the part of the response already sent");
    }
  };
  const std::function<void()> after_list_item = [&] {
    if (data.size() < options.stream_chunk_bytes) return;
    if (!streaming) {
      streaming = true;
      errors_at_start = errors.size();
      std::string head;
      JsonWriter head_writer(&head);
      head_writer.BeginObject();
      if (!errors.empty()) {
        head_writer.Key("errors");
        WriteErrors(errors, &head_writer);
      }
      head_writer.Key("data");
      if (!options.stream->Write(head)) cut("the client took no more");
    }
    check_sent();
    if (stream_ok && !options.stream->Write(data)) cut("the client took no more");
    data_writer.Release();
  };
  if (options.stream != nullptr) input.after_list_item = &after_list_item;
  ExecuteOperation(input, &data_writer, &errors);

  if (streaming) {
    Response response;
    response.outcome = Outcome::kExecuted;
    response.streamed = Streamed::kCut;
    check_sent();
    if (stream_ok) {
      if (errors_at_start == 0 && !errors.empty()) {
        data.append(",\"errors\":");
        JsonWriter errors_writer(&data);
        WriteErrors(errors, &errors_writer);
      }
      data.push_back('}');
      if (options.stream->Write(data)) {
        response.streamed = Streamed::kComplete;
      } else {
        cut("the client took no more");
      }
    }
    response.cut_reason = std::move(cut_reason);
    return response;
  }

  Response response;
  response.outcome = Outcome::kExecuted;
  std::string& body = response.body;
  body.reserve(data.size() + 64);
  JsonWriter writer(&body);
  writer.BeginObject();
  if (!errors.empty()) {
    writer.Key("errors");
    WriteErrors(errors, &writer);
  }
  writer.Key("data");
  writer.RawValue(data);
  writer.EndObject();
  return response;
}

}  // namespace stackhouse::graphql
