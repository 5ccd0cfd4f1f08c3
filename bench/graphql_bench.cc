// Benchmarks of the GraphQL engine (src/graphql): parse + validate of a typical UI document, and
// execution + serialization of a 100,000-element flame-graph list of small objects.
//
//   graphql_bench --benchmark_counters_tabular=true
//
// Goals (issue 3): a UI document parsed and validated in well under 100 µs; 100,000 elements
// serialized at >= 100 MB/s.
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "graphql/engine.h"
#include "graphql/parser.h"
#include "graphql/schema.h"
#include "graphql/validator.h"

namespace stackhouse::graphql {
namespace {

constexpr absl::string_view kSdl = R"graphql(
scalar Long
enum EBPFProfilingStackType { KERNEL_SPACE USER_SPACE }
enum EBPFProfilingAnalyzeAggregateType { DURATION COUNT }
input EBPFProfilingAnalyzeTimeRange { start: Long! end: Long! }
type EBPFProfilingStackElement {
  id: String!
  parentId: String!
  symbol: String!
  stackType: EBPFProfilingStackType!
  dumpCount: Long!
}
type EBPFProfilingTree { elements: [EBPFProfilingStackElement!]! }
type EBPFProfilingAnalyzation { tip: String trees: [EBPFProfilingTree!]! }
type Query {
  analysisEBPFProfilingResult(scheduleIdList: [ID!]!, timeRanges: [EBPFProfilingAnalyzeTimeRange!]!,
                              aggregateType: EBPFProfilingAnalyzeAggregateType): EBPFProfilingAnalyzation!
}
)graphql";

constexpr absl::string_view kUiDocument = R"graphql(
query analysisEBPFResult($scheduleIdList: [ID!]!, $timeRanges: [EBPFProfilingAnalyzeTimeRange!]!, $aggregateType: EBPFProfilingAnalyzeAggregateType) {
  analysisEBPFResult: analysisEBPFProfilingResult(scheduleIdList: $scheduleIdList, timeRanges: $timeRanges, aggregateType: $aggregateType) {
    tip trees { elements { id parentId symbol stackType dumpCount } }
  }
}
)graphql";

struct Element {
  int64_t id;
  int64_t parent_id;
  std::string symbol;
  bool kernel;
  int64_t dump_count;
};

struct Tree {
  std::shared_ptr<const std::vector<Element>> elements;
};

std::shared_ptr<const Schema> BuildSchema(size_t elements) {
  SchemaBuilder builder;
  if (!builder.AddSdl(kSdl).ok()) std::abort();
  auto tree = std::make_shared<Tree>();
  auto list = std::make_shared<std::vector<Element>>();
  for (size_t i = 0; i < elements; ++i) {
    list->push_back(Element{static_cast<int64_t>(i + 1), static_cast<int64_t>(i / 4),
                            "org.apache.skywalking.Symbol.method" + std::to_string(i % 977) +
                                "(Symbol.java:" + std::to_string(i % 311) + ")",
                            i % 5 == 0, static_cast<int64_t>(i * 7 % 10007)});
  }
  tree->elements = std::move(list);
  builder.BindResolver(
      "Query.analysisEBPFProfilingResult",
      [tree](const ResolverContext&) -> absl::StatusOr<Result> {
        return Result::Map(
            {{"tip", Result::Null()},
             {"trees", Result::List({Result::Object(std::shared_ptr<const Tree>(tree))})}});
      });
  builder.BindGetter<Tree>("EBPFProfilingTree.elements",
                           [](const Tree& t) { return Result::ObjectArray(t.elements); });
  builder.BindGetter<Element>("EBPFProfilingStackElement.id",
                              [](const Element& e) { return Result::Int(e.id); });
  builder.BindGetter<Element>("EBPFProfilingStackElement.parentId",
                              [](const Element& e) { return Result::Int(e.parent_id); });
  builder.BindGetter<Element>("EBPFProfilingStackElement.symbol",
                              [](const Element& e) { return Result::String(e.symbol); });
  builder.BindGetter<Element>("EBPFProfilingStackElement.stackType", [](const Element& e) {
    return Result::String(e.kernel ? "KERNEL_SPACE" : "USER_SPACE");
  });
  builder.BindGetter<Element>("EBPFProfilingStackElement.dumpCount",
                              [](const Element& e) { return Result::Int(e.dump_count); });
  return std::shared_ptr<const Schema>(*builder.Build());
}

void BM_ParseAndValidateUiDocument(benchmark::State& state) {
  std::shared_ptr<const Schema> schema = BuildSchema(1);
  for (auto _ : state) {
    absl::StatusOr<ast::Document> doc = ParseExecutableDocument(kUiDocument, ParseOptions());
    std::vector<Error> errors = Validate(*schema, *doc);
    benchmark::DoNotOptimize(errors);
  }
}
BENCHMARK(BM_ParseAndValidateUiDocument);

void BM_ExecuteFlameGraph(benchmark::State& state) {
  std::shared_ptr<const Schema> schema = BuildSchema(static_cast<size_t>(state.range(0)));
  Engine engine(schema, Limits());
  Value variables = Value::Object(
      {{"scheduleIdList", Value::List({Value::String("s1")})},
       {"timeRanges",
        Value::List({Value::Object({{"start", Value::Int(0)}, {"end", Value::Int(1)}})})},
       {"aggregateType", Value::String("COUNT")}});
  size_t bytes = 0;
  for (auto _ : state) {
    Engine::Response response = engine.Execute({kUiDocument, variables, ""});
    bytes = response.body.size();
    benchmark::DoNotOptimize(response.body.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
  state.counters["response_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_ExecuteFlameGraph)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace stackhouse::graphql

BENCHMARK_MAIN();
