#include "test_schema.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "absl/status/status.h"

namespace stackhouse::graphql::testing {
namespace {

struct Pet {
  const char* kind;  // "Dog" or "Cat"
  const char* name;
  int volume_or_lives;
};

const Pet kRex{"Dog", "Rex", 7};
const Pet kTom{"Cat", "Tom", 9};

Result Owner();

Result PetObject(const Pet& pet, bool with_type_name) {
  return Result::Object(&pet, with_type_name ? pet.kind : "");
}

Result Owner() {
  return Result::Map({{"name", Result::String("Alice")},
                      {"age", Result::Int(34)},
                      {"pets", Result::List({PetObject(kRex, true), PetObject(kTom, true)})}},
                     "Person");
}

void BindPets(SchemaBuilder& b) {
  for (const char* type : {"Dog", "Cat"}) {
    std::string t = type;
    b.BindGetter<Pet>(t + ".name", [](const Pet& p) { return Result::String(p.name); });
    b.BindGetter<Pet>(t + ".owner", [](const Pet&) { return Owner(); });
  }
  b.BindGetter<Pet>("Dog.barkVolume", [](const Pet& p) { return Result::Int(p.volume_or_lives); });
  b.BindGetter<Pet>("Cat.lives", [](const Pet& p) { return Result::Int(p.volume_or_lives); });
  b.BindGetter<Pet>("Cat.nickname", [](const Pet&) { return Result::String("Tommy"); });
  b.BindResolver("Dog.knows", [](const ResolverContext& c) -> absl::StatusOr<Result> {
    return Result::Bool(c.args().Get("command").string_value() == "SIT");
  });
  b.BindResolver("Query.pets", [](const ResolverContext&) -> absl::StatusOr<Result> {
    return Result::List({PetObject(kRex, true), PetObject(kTom, true)});
  });
  b.BindResolver("Query.pet", [](const ResolverContext& c) -> absl::StatusOr<Result> {
    const std::string& name = c.args().Get("name").string_value();
    for (const Pet* pet : {&kRex, &kTom}) {
      if (name == pet->name) return PetObject(*pet, true);
    }
    return Result::Null();
  });
  // Search results carry no type name: the union's type resolver decides.
  b.BindResolver("Query.search", [](const ResolverContext&) -> absl::StatusOr<Result> {
    return Result::List({PetObject(kTom, false), Owner(), PetObject(kRex, false)});
  });
  b.BindTypeResolver("SearchResult", [](const ObjectRef& object) -> absl::string_view {
    if (const Pet* pet = object.As<Pet>()) return pet->kind;
    return object.type_name();
  });
  b.BindResolver("Query.person",
                 [](const ResolverContext&) -> absl::StatusOr<Result> { return Owner(); });
}

void BindValues(SchemaBuilder& b) {
  b.BindResolver("Query.echo", [](const ResolverContext& c) -> absl::StatusOr<Result> {
    return Result::String(Value::Object(c.args().members()).ToLiteral());
  });
  b.BindResolver("Query.scalars", [](const ResolverContext&) -> absl::StatusOr<Result> {
    return Result::Map({{"int", Result::Int(7)},
                        {"float", Result::Float(1.5)},
                        {"string", Result::Int(12)},
                        {"boolean", Result::Bool(true)},
                        {"id", Result::Int(42)},
                        {"long", Result::Int(9007199254740993)},
                        {"step", Result::String("HOUR")},
                        {"json", Result::Float(2.25)}});
  });
  b.BindResolver("Query.badScalars", [](const ResolverContext&) -> absl::StatusOr<Result> {
    return Result::Map({{"intTooBig", Result::Int(int64_t{1} << 40)},
                        {"notAnEnum", Result::String("YEAR")},
                        {"stringForInt", Result::String("abc")},
                        {"listForString", Result::List({Result::String("a")})},
                        {"objectForInt", Result::Map({})}});
  });
  b.BindResolver("Query.longList", [](const ResolverContext&) -> absl::StatusOr<Result> {
    return Result::List({Result::Int(INT64_MAX), Result::Int(INT64_MIN), Result::Float(1e15),
                         Result::String("-42")});
  });
  b.BindResolver("Query.symbol", [](const ResolverContext&) -> absl::StatusOr<Result> {
    return Result::String(
        "ok \xC3\xA9 | bad \xFF\xFE | truncated \xE2\x82 | overlong \xC0\xAF | surrogate "
        "\xED\xA0\x80 | ctrl \x01\x1F | tab\t | quote\" | backslash\\ | newline\n");
  });
}

Result NodeObject(int64_t id, int32_t depth) {
  return Result::Object(
      std::make_shared<const TestNode>(TestNode{id, static_cast<int32_t>(id * 10), depth}));
}

void BindNodes(SchemaBuilder& b) {
  b.BindGetter<TestNode>("Node.id", [](const TestNode& n) { return Result::Int(n.id); });
  b.BindGetter<TestNode>("Node.value", [](const TestNode& n) { return Result::Int(n.value); });
  b.BindGetter<TestNode>("Node.fail", [](const TestNode& n) -> absl::StatusOr<Result> {
    return absl::InternalError("cannot compute fail of node " + std::to_string(n.id));
  });
  b.BindGetter<TestNode>("Node.failNonNull", [](const TestNode&) -> absl::StatusOr<Result> {
    return absl::UnavailableError("storage is unavailable");
  });
  b.BindGetter<TestNode>("Node.nullNonNull", [](const TestNode&) { return Result::Null(); });
  b.BindGetter<TestNode>("Node.child", [](const TestNode& n) {
    return n.depth >= 64 ? Result::Null() : NodeObject(n.id + 1, n.depth + 1);
  });
  b.BindGetter<TestNode>("Node.children", [](const TestNode& n) {
    auto children = std::make_shared<std::vector<TestNode>>();
    for (int i = 1; i <= 2; ++i) {
      children->push_back(TestNode{n.id * 10 + i, static_cast<int32_t>(i), n.depth + 1});
    }
    return Result::ObjectArray(std::shared_ptr<const std::vector<TestNode>>(std::move(children)));
  });
  b.BindGetter<TestNode>("Node.items", [](const TestNode& n) {
    return Result::List({NodeObject(n.id * 10 + 1, n.depth + 1), Result::Null(),
                         NodeObject(n.id * 10 + 2, n.depth + 1)});
  });
  b.BindResolver("Query.node",
                 [](const ResolverContext&) -> absl::StatusOr<Result> { return NodeObject(1, 0); });
  b.BindResolver("Query.nonNullNode",
                 [](const ResolverContext&) -> absl::StatusOr<Result> { return NodeObject(1, 0); });
  b.BindResolver("Query.nodes", [](const ResolverContext& c) -> absl::StatusOr<Result> {
    int64_t count = c.args().Get("count").int_value();
    if (count < 0) return absl::InvalidArgumentError("count must not be negative");
    auto nodes = std::make_shared<std::vector<TestNode>>();
    nodes->reserve(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      nodes->push_back(TestNode{i, static_cast<int32_t>(i % 1000), 0});
    }
    return Result::ObjectArray(std::shared_ptr<const std::vector<TestNode>>(std::move(nodes)));
  });
  b.BindResolver("Query.failing", [](const ResolverContext&) -> absl::StatusOr<Result> {
    return absl::InternalError("boom");
  });
  b.BindResolver("Query.failingNonNull", [](const ResolverContext&) -> absl::StatusOr<Result> {
    return absl::NotFoundError("please provide the service id or instance id");
  });
  b.BindResolver("Query.thrower", [](const ResolverContext&) -> absl::StatusOr<Result> {
    throw std::runtime_error("kaboom");
  });
  b.BindResolver("Query.deprecatedField", [](const ResolverContext&) -> absl::StatusOr<Result> {
    return Result::String("still works");
  });
}

}  // namespace

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::abort();
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

absl::StatusOr<std::unique_ptr<const Schema>> BuildTestSchema(const std::string& testdata_dir) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(testdata_dir)) {
    if (entry.path().extension() == ".graphqls") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  SchemaBuilder builder;
  for (const std::string& file : files) {
    absl::Status status = builder.AddSdl(ReadFileOrDie(file), file);
    if (!status.ok()) return status;
  }
  builder.BindResolver("Query.version", [](const ResolverContext&) -> absl::StatusOr<Result> {
    return Result::String("10.3.0-test");
  });
  builder.BindResolver("Query.hello", [](const ResolverContext& c) -> absl::StatusOr<Result> {
    return Result::String("hello " + c.args().Get("name").string_value());
  });
  builder.BindResolver("Mutation.append", [](const ResolverContext& c) -> absl::StatusOr<Result> {
    const TestContext* context = c.UserContext<TestContext>();
    if (context == nullptr) return absl::FailedPreconditionError("no context");
    absl::MutexLock lock(&context->mu);
    context->log.push_back(c.args().Get("entry").string_value());
    std::vector<Result> items;
    for (const std::string& entry : context->log) items.push_back(Result::String(entry));
    return Result::List(std::move(items));
  });
  BindPets(builder);
  BindValues(builder);
  BindNodes(builder);
  return builder.Build();
}

}  // namespace stackhouse::graphql::testing
