// Helpers shared by the unit tests: the test schema, loaded once.
#pragma once

#include <memory>
#include <string>

#include "graphql/engine.h"
#include "gtest/gtest.h"
#include "test_schema.h"

namespace stackhouse::graphql::testing {

inline std::shared_ptr<const Schema> TestSchema() {
  static const std::shared_ptr<const Schema> schema = [] {
    absl::StatusOr<std::unique_ptr<const Schema>> built = BuildTestSchema(GRAPHQL_TESTDATA_DIR);
    if (!built.ok()) {
      ADD_FAILURE() << built.status();
      return std::shared_ptr<const Schema>();
    }
    return std::shared_ptr<const Schema>(*std::move(built));
  }();
  return schema;
}

// Executes `query` on the test schema with a fresh TestContext; returns the response body.
inline Engine::Response RunQuery(absl::string_view query, Value variables = Value(),
                                 Limits limits = Limits()) {
  Engine engine(TestSchema(), limits);
  TestContext context;
  Engine::Options options;
  options.user_context = ObjectRef::Of(&context);
  return engine.Execute(Engine::Request{query, std::move(variables), ""}, options);
}

}  // namespace stackhouse::graphql::testing
