// libFuzzer target: any bytes as a GraphQL document through parse, limits, validation and
// execution against the test schema. Built only with -DSH_GRAPHQL_FUZZER=ON and clang; see
// tests/graphql/README.md for the command.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "graphql/engine.h"
#include "test_schema.h"

namespace {

const stackhouse::graphql::Engine& TheEngine() {
  static const auto* const engine = [] {
    auto schema = stackhouse::graphql::testing::BuildTestSchema(GRAPHQL_TESTDATA_DIR);
    if (!schema.ok()) std::abort();
    return new stackhouse::graphql::Engine(
        std::shared_ptr<const stackhouse::graphql::Schema>(*std::move(schema)),
        stackhouse::graphql::Limits());
  }();
  return *engine;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stackhouse::graphql;
  std::string document(reinterpret_cast<const char*>(data), size);
  testing::TestContext context;
  Engine::Options options;
  options.user_context = ObjectRef::Of(&context);
  Engine::Response response = TheEngine().Execute({document, Value(), ""}, options);
  if (response.body.empty() || response.body.front() != '{') __builtin_trap();
  return 0;
}
