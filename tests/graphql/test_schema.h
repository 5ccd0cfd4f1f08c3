// The test schema (testdata/*.graphqls) with its resolvers, shared by the golden tests, the unit
// tests, the introspection dump and the benchmark.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "graphql/schema.h"

namespace stackhouse::graphql::testing {

// Per-request state of the test resolvers (mutations append to `log`).
struct TestContext {
  mutable absl::Mutex mu;
  mutable std::vector<std::string> log ABSL_GUARDED_BY(mu);
};

// A node of the `Node` type, resolved through getters (`Result::Object`/`ObjectArray`).
struct TestNode {
  int64_t id = 0;
  int32_t value = 0;
  int32_t depth = 0;
};

// Reads every `*.graphqls` file of `testdata_dir` (in name order) and binds the resolvers.
absl::StatusOr<std::unique_ptr<const Schema>> BuildTestSchema(const std::string& testdata_dir);

// Reads a whole file; fails the process on error (tests only).
std::string ReadFileOrDie(const std::string& path);

}  // namespace stackhouse::graphql::testing
