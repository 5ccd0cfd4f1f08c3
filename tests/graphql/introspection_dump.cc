// Runs an introspection query against the test schema and writes the JSON response, for the
// graphql-js interoperability check (js/check_introspection.mjs).
//
// Usage: graphql_introspection_dump <testdata dir> <query file or "-" for the built-in standard
//        query> <output file>
// Exits non-zero when the response is not HTTP 200 or carries errors.
#include <cstdio>
#include <fstream>
#include <string>

#include "common/json_writer.h"
#include "graphql/http_endpoint.h"
#include "graphql/introspection.h"
#include "test_schema.h"

int main(int argc, char** argv) {
  using namespace stackhouse::graphql;
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <testdata dir> <query file|-> <output file>\n", argv[0]);
    return 2;
  }
  auto schema = testing::BuildTestSchema(argv[1]);
  if (!schema.ok()) {
    std::fprintf(stderr, "schema: %s\n", std::string(schema.status().message()).c_str());
    return 1;
  }
  std::string query = std::string(argv[2]) == "-" ? std::string(StandardIntrospectionQuery())
                                                  : testing::ReadFileOrDie(argv[2]);
  HttpEndpoint endpoint(std::shared_ptr<const Schema>(*std::move(schema)), Limits());
  std::string body = "{\"query\":";
  stackhouse::JsonWriter::AppendQuoted(query, &body);
  body += "}";
  HttpRequest request;
  request.method = "POST";
  request.content_type = "application/json";
  request.body = body;
  HttpResponse response = endpoint.Handle(request);
  std::ofstream(argv[3], std::ios::binary) << response.body;
  if (response.status != 200 || response.body.find("\"errors\"") != std::string::npos) {
    std::fprintf(stderr, "introspection failed: HTTP %d %s\n", response.status,
                 response.body.substr(0, 2000).c_str());
    return 1;
  }
  return 0;
}
