#include "simulator/go_pprof.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "wire/go_profile.h"

namespace stackhouse::sim {
namespace {

using ::testing::ElementsAre;

skywalking::v3::ThreadSnapshot Dump(const std::string& segment,
                                    std::vector<std::string> root_first) {
  skywalking::v3::ThreadSnapshot dump;
  dump.set_taskid("task-1");
  dump.set_tracesegmentid(segment);
  for (auto& frame : root_first) dump.mutable_stack()->add_codesignatures(std::move(frame));
  return dump;
}

// The server's own reader (wire/go_profile.h) decodes what the simulated Go agent uploads.
TEST(GoPprofTest, TheServerReadsTheSimulatedProfile) {
  const std::string pprof = BuildGoCpuProfile(
      {Dump("seg-a", {"java.lang.Thread.run:840", "com.demo.Orders.get:42"}),
       Dump("seg-b", {"java.lang.Thread.run:840"}),
       Dump("seg-a", {"java.lang.Thread.run:840", "com.demo.Orders.get:42", "Lambda$1.apply"})},
      10, 1'700'000'000'000);
  ASSERT_GE(pprof.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(pprof[0]), 0x1f);  // gzip, as runtime/pprof writes it

  auto upload = wire::ReadGoProfileUpload(pprof, "task-1", 0);
  ASSERT_TRUE(upload.ok()) << upload.status();
  EXPECT_THAT(upload->segment_ids, ElementsAre("seg-a", "seg-b"));
  EXPECT_EQ(upload->dump_time_ms, 1'700'000'000'000);

  analysis::FrameTable frames;
  auto a = wire::ReadGoSegmentSamples(upload->pprof, "seg-a", &frames);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->period_ms, 10);
  ASSERT_EQ(a->samples.size(), 2u);
  std::vector<std::string> leaf_first;
  for (uint32_t id : a->samples[1].frames) leaf_first.push_back(frames.Signature(id));
  EXPECT_THAT(leaf_first, ElementsAre("Lambda$1.apply:0", "com.demo.Orders.get:42",
                                      "java.lang.Thread.run:840"));
  EXPECT_EQ(a->samples[1].count, 1);
}

}  // namespace
}  // namespace stackhouse::sim
