#include "simulator/java_wire.h"

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace stackhouse::sim {
namespace {

TEST(JavaWireTest, IdsUseTheJavaAgentsDottedForm) {
  JavaIdGenerator ids("0123456789abcdef0123456789abcdef");
  std::string a = ids.Next(52, 1'700'000'000'123);
  std::string b = ids.Next(52, 1'700'000'000'123);
  EXPECT_EQ(a, "0123456789abcdef0123456789abcdef.52.17000000001230000");
  EXPECT_EQ(b, "0123456789abcdef0123456789abcdef.52.17000000001230001");
}

TEST(JavaWireTest, InstancePropertiesLikeTheAgent) {
  Rng rng(1);
  JavaIdentity id = MakeJavaIdentity("demo-svc", 3, 1'700'000'000'000, rng);
  EXPECT_EQ(id.process_id.size(), 32u);
  EXPECT_NE(id.instance.find('@'), std::string::npos);
  skywalking::v3::InstanceProperties props = MakeInstanceProperties(id);
  EXPECT_EQ(props.service(), "demo-svc");
  int ipv4 = 0;
  bool java = false;
  for (const auto& kv : props.properties()) {
    ipv4 += kv.key() == "ipv4";
    java |= kv.key() == "language" && kv.value() == "java";
  }
  EXPECT_EQ(ipv4, 2);
  EXPECT_TRUE(java);
}

TEST(JavaWireTest, SegmentHasEntrySpanLastAndConsistentChildren) {
  Rng rng(7);
  JavaAppModel app("GET:/orders");
  JavaIdentity id = MakeJavaIdentity("demo-svc", 0, 1'700'000'000'000, rng);
  for (int i = 0; i < 200; ++i) {
    RequestPlan plan = app.Plan(app.routes()[0], rng);
    int64_t start = 1'700'000'000'000 + i;
    skywalking::v3::SegmentObject s =
        MakeSegment(id, plan, "t", "s", start, start + plan.duration_ms, rng);
    ASSERT_GE(s.spans_size(), 1);
    const auto& entry = s.spans(s.spans_size() - 1);
    EXPECT_EQ(entry.spanid(), 0);
    EXPECT_EQ(entry.parentspanid(), -1);
    EXPECT_EQ(entry.spantype(), skywalking::v3::Entry);
    EXPECT_EQ(entry.operationname(), "GET:/orders");
    EXPECT_EQ(entry.iserror(), plan.error);
    for (int k = 0; k + 1 < s.spans_size(); ++k) {
      const auto& child = s.spans(k);
      EXPECT_EQ(child.parentspanid(), 0);
      EXPECT_GE(child.starttime(), entry.starttime());
      EXPECT_LE(child.endtime(), entry.endtime());
      EXPECT_LE(child.starttime(), child.endtime());
      if (k > 0) {
        EXPECT_LE(s.spans(k - 1).endtime(), child.endtime());
      }
    }
  }
}

TEST(JavaWireTest, TruncatedRequestKeepsSpansInsideIt) {
  Rng rng(9);
  JavaAppModel app("GET:/orders");
  JavaIdentity id = MakeJavaIdentity("demo-svc", 0, 0, rng);
  RequestPlan plan = app.Plan(app.routes()[0], rng);
  skywalking::v3::SegmentObject s = MakeSegment(id, plan, "t", "s", 1000, 1100, rng);
  for (const auto& span : s.spans()) EXPECT_LE(span.endtime(), 1100);
}

}  // namespace
}  // namespace stackhouse::sim
