#include "graphql/engine.h"

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
  ExecuteOperation(input, &data_writer, &errors);

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
