// Tests of the encoders (src/export/*_writer.cc) on profiles written as text
// (tests/analysis/flame_test_util.h): the pprof output read back with the generated protobuf
// classes, the folded output parsed back, the speedscope output parsed as JSON.
#include "export/profile_writers.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "analysis/ebpf_stack_merge.h"
#include "export_test_util.h"
#include "flame_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "perftools/profile.pb.h"

namespace stackhouse::exporter {
namespace {

using analysis::FlameGraph;
using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
using json = nlohmann::json;

std::unique_ptr<const FlameGraph> Parse(const std::string& text) {
  auto graph = analysis::testing::ParseFlameGraph(text);
  EXPECT_TRUE(graph.ok()) << graph.status();
  return graph.ok() ? *std::move(graph) : nullptr;
}

// Collects a writer's output and the sizes of the chunks it was handed in.
struct Collected {
  std::string bytes;
  std::vector<size_t> chunks;
  ChunkSink sink = [this](absl::string_view chunk) {
    bytes.append(chunk.data(), chunk.size());
    chunks.push_back(chunk.size());
    return true;
  };
};

perftools::profiles::Profile ReadPprof(const std::string& gzipped) {
  perftools::profiles::Profile profile;
  EXPECT_TRUE(profile.ParseFromString(testing::Gunzip(gzipped)));
  return profile;
}

// Each sample of `profile` as "frame;frame;... = v1/v2", root first, kernel frames (those in
// the "[kernel.kallsyms]" mapping) with a "k:" prefix.
std::vector<std::string> Samples(const perftools::profiles::Profile& p) {
  std::map<uint64_t, std::string> names;  // location id → name
  std::map<uint64_t, std::string> functions;
  for (const auto& f : p.function()) functions[f.id()] = p.string_table(f.name());
  std::map<uint64_t, std::string> mappings;
  for (const auto& m : p.mapping()) mappings[m.id()] = p.string_table(m.filename());
  for (const auto& l : p.location()) {
    EXPECT_EQ(l.line_size(), 1);
    const bool kernel = l.mapping_id() != 0 && mappings[l.mapping_id()] == "[kernel.kallsyms]";
    names[l.id()] = (kernel ? "k:" : "") + functions[l.line(0).function_id()];
  }
  std::vector<std::string> out;
  for (const auto& s : p.sample()) {
    std::vector<std::string> frames;
    for (auto it = s.location_id().rbegin(); it != s.location_id().rend(); ++it) {
      frames.push_back(names.at(*it));
    }
    out.push_back(absl::StrCat(absl::StrJoin(frames, ";"), " = ", absl::StrJoin(s.value(), "/")));
  }
  return out;
}

TEST(PprofWriterTest, OneSamplePerStackWithTheTreesTotals) {
  auto graph = Parse("on_cpu\n3: A B k:sys\n2: A B\n1: A C\n4: D\n");
  ASSERT_NE(graph, nullptr);
  Collected out;
  ASSERT_TRUE(WritePprof(*graph, out.sink).ok());
  perftools::profiles::Profile profile = ReadPprof(out.bytes);
  ASSERT_GE(profile.string_table_size(), 1);
  EXPECT_EQ(profile.string_table(0), "");
  ASSERT_EQ(profile.sample_type_size(), 1);
  EXPECT_EQ(profile.string_table(profile.sample_type(0).type()), "samples");
  EXPECT_EQ(profile.string_table(profile.sample_type(0).unit()), "count");
  EXPECT_THAT(Samples(profile), ElementsAre("A;B = 2", "A;B;k:sys = 3", "A;C = 1", "D = 4"));
  // One function and one location per distinct frame; user and kernel frames in two mappings.
  EXPECT_EQ(profile.function_size(), 5);
  EXPECT_EQ(profile.location_size(), 5);
  ASSERT_EQ(profile.mapping_size(), 2);
  EXPECT_EQ(profile.mapping(0).id(), 1u);
  EXPECT_EQ(profile.string_table(profile.mapping(0).filename()), "");
  EXPECT_EQ(profile.mapping(1).id(), 2u);
  for (const auto& location : profile.location()) EXPECT_NE(location.mapping_id(), 0u);
}

TEST(PprofWriterTest, TraceProfilesHaveSamplesAndWallTime) {
  auto graph = Parse("trace\n3: run get find\n2: run get\n");
  ASSERT_NE(graph, nullptr);
  Collected out;
  ASSERT_TRUE(WritePprof(*graph, out.sink).ok());
  perftools::profiles::Profile profile = ReadPprof(out.bytes);
  ASSERT_EQ(profile.sample_type_size(), 2);
  EXPECT_EQ(profile.string_table(profile.sample_type(1).type()), "wall");
  EXPECT_EQ(profile.string_table(profile.sample_type(1).unit()), "nanoseconds");
  EXPECT_EQ(profile.mapping_size(), 0);
  // find runs 3 dumps (20 ms); get and run span all 5 (40 ms), get's own 2 dumps 10 ms of it.
  EXPECT_THAT(Samples(profile), ElementsAre("run;get = 2/20000000", "run;get;find = 3/20000000"));
  int64_t totals[2] = {0, 0};
  for (const auto& s : profile.sample()) {
    for (int c = 0; c < 2; ++c) totals[c] += s.value(c);
  }
  EXPECT_EQ(totals[0], analysis::GraphTotal(*graph, 0));
  EXPECT_EQ(totals[1], analysis::GraphTotal(*graph, 1));
}

// A profile with `n` distinct stacks of a few frames each.
std::unique_ptr<const FlameGraph> WideGraph(int n) {
  std::string text = "on_cpu\n";
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&text, i % 7 + 1, ": main worker_", i % 97, " handler_", i, " k:sys_", i % 5,
                    "\n");
  }
  return Parse(text);
}

TEST(PprofWriterTest, StreamsInChunks) {
  auto graph = WideGraph(20000);
  ASSERT_NE(graph, nullptr);
  Collected out;
  ASSERT_TRUE(WritePprof(*graph, out.sink).ok());
  EXPECT_GT(out.chunks.size(), 1u);
  for (size_t size : out.chunks) EXPECT_LE(size, size_t{64 * 1024});
  perftools::profiles::Profile profile = ReadPprof(out.bytes);
  EXPECT_EQ(profile.sample_size(), 20000);
  int64_t total = 0;
  for (const auto& s : profile.sample()) total += s.value(0);
  EXPECT_EQ(total, analysis::GraphTotal(*graph, 0));
}

TEST(ProfileWritersTest, StopWhenTheSinkRefuses) {
  auto graph = WideGraph(20000);
  ASSERT_NE(graph, nullptr);
  for (int format = 0; format < 3; ++format) {
    int calls = 0;
    ChunkSink refuse = [&calls](absl::string_view) {
      ++calls;
      return false;
    };
    absl::Status status = format == 0   ? WritePprof(*graph, refuse)
                          : format == 1 ? WriteFolded(*graph, refuse)
                                        : WriteSpeedscope(*graph, "x", refuse);
    EXPECT_TRUE(absl::IsCancelled(status)) << format << " " << status;
    EXPECT_EQ(calls, 1) << format;
  }
}

// Folded lines parsed back as flamegraph.pl does: the value after the last space.
std::map<std::string, int64_t> ParseFolded(const std::string& text) {
  std::map<std::string, int64_t> stacks;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    const size_t space = line.rfind(' ');
    int64_t value = 0;
    EXPECT_TRUE(absl::SimpleAtoi(line.substr(space + 1), &value)) << line;
    stacks[std::string(line.substr(0, space))] += value;
  }
  return stacks;
}

TEST(FoldedWriterTest, RoundTrips) {
  auto graph = Parse("on_cpu\n3: A B k:sys\n2: A B\n1: A C\n5: A B k:sys k:irq\n4: ''\n");
  ASSERT_NE(graph, nullptr);
  Collected out;
  ASSERT_TRUE(WriteFolded(*graph, out.sink).ok());
  EXPECT_THAT(ParseFolded(out.bytes), UnorderedElementsAre(Pair("A;B", 2), Pair("A;B;sys_[k]", 3),
                                                           Pair("A;B;sys_[k];irq_[k]", 5),
                                                           Pair("A;C", 1), Pair("[unknown]", 4)));
}

TEST(FoldedWriterTest, FramesCannotBreakTheLineFormat) {
  auto symbols = std::make_shared<analysis::FrameTable>();
  analysis::EbpfStackTable stacks;
  const uint32_t a = symbols->Intern("Ljava/lang/String;.of");
  const uint32_t b = symbols->Intern("two\nlines\r");
  const uint32_t stack = stacks.Add(std::vector<analysis::EbpfFrame>{
      {a, analysis::StackType::kUserSpace}, {b, analysis::StackType::kUserSpace}});
  auto trees = analysis::BuildEbpfTrees({{stack, 7}}, stacks, *symbols);
  ASSERT_TRUE(trees.ok());
  analysis::EbpfFlameGraph graph(std::move(trees->trees), symbols, false, false);
  Collected out;
  ASSERT_TRUE(WriteFolded(graph, out.sink).ok());
  EXPECT_EQ(out.bytes, "Ljava/lang/String:.of;two lines  7\n");
}

TEST(FoldedWriterTest, TraceProfilesWriteCounts) {
  auto graph = Parse("trace\n3: run get find\n2: run get\n");
  ASSERT_NE(graph, nullptr);
  Collected out;
  ASSERT_TRUE(WriteFolded(*graph, out.sink).ok());
  EXPECT_EQ(out.bytes, "run;get 2\nrun;get;find 3\n");
}

TEST(SpeedscopeWriterTest, SharedFramesAndOneSampledProfilePerColumn) {
  auto graph = Parse("trace\n3: run get find\n2: run get\n1: gc\n");
  ASSERT_NE(graph, nullptr);
  Collected out;
  ASSERT_TRUE(WriteSpeedscope(*graph, "stackhouse trace profile", out.sink).ok());
  json file = json::parse(out.bytes);
  EXPECT_EQ(file["$schema"], "https://www.speedscope.app/file-format-schema.json");
  EXPECT_EQ(file["name"], "stackhouse trace profile");
  EXPECT_EQ(file["shared"]["frames"],
            json::parse(R"([{"name":"run"},{"name":"get"},{"name":"find"},{"name":"gc"}])"));
  ASSERT_EQ(file["profiles"].size(), 2u);
  const json& samples = file["profiles"][0];
  EXPECT_EQ(samples["type"], "sampled");
  EXPECT_EQ(samples["name"], "samples");
  EXPECT_EQ(samples["unit"], "none");
  EXPECT_EQ(samples["samples"], json::parse("[[0,1],[0,1,2],[3]]"));
  EXPECT_EQ(samples["weights"], json::parse("[2,3,1]"));
  EXPECT_EQ(samples["startValue"], 0);
  EXPECT_EQ(samples["endValue"], 6);
  const json& wall = file["profiles"][1];
  EXPECT_EQ(wall["name"], "wall");
  EXPECT_EQ(wall["unit"], "nanoseconds");
  // gc's single dump has no duration: only stacks with a non-zero value are listed.
  EXPECT_EQ(wall["samples"], json::parse("[[0,1],[0,1,2]]"));
  EXPECT_EQ(wall["endValue"], analysis::GraphTotal(*graph, 1));
}

TEST(SpeedscopeWriterTest, KernelFramesAreMarked) {
  auto graph = Parse("off_cpu_duration\n1000: app k:schedule\n");
  ASSERT_NE(graph, nullptr);
  Collected out;
  ASSERT_TRUE(WriteSpeedscope(*graph, "p", out.sink).ok());
  json file = json::parse(out.bytes);
  EXPECT_EQ(file["shared"]["frames"][1]["name"], "schedule_[k]");
  ASSERT_EQ(file["profiles"].size(), 1u);
  EXPECT_EQ(file["profiles"][0]["name"], "off_cpu");
  EXPECT_EQ(file["profiles"][0]["unit"], "nanoseconds");
}

}  // namespace
}  // namespace stackhouse::exporter
