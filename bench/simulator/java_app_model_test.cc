#include "simulator/java_app_model.h"

#include <set>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace stackhouse::sim {
namespace {

TEST(JavaAppModelTest, PrimaryRouteIsFirstAndUnique) {
  JavaAppModel app("POST:/checkout");
  ASSERT_FALSE(app.routes().empty());
  EXPECT_EQ(app.routes()[0].endpoint, "POST:/checkout");
  EXPECT_EQ(app.routes()[0].http_method, "POST");
  int named = 0;
  for (const Route& r : app.routes()) named += r.endpoint == "POST:/checkout";
  EXPECT_EQ(named, 1);
}

TEST(JavaAppModelTest, PlansCoverTheRequestInOrder) {
  JavaAppModel app("GET:/orders");
  Rng rng(1);
  for (int i = 0; i < 500; ++i) {
    const Route& route = app.PickRoute(0.5, rng);
    RequestPlan plan = app.Plan(route, rng);
    EXPECT_GE(plan.duration_ms, route.min_ms);
    EXPECT_LE(plan.duration_ms, route.max_ms);
    ASSERT_FALSE(plan.phases.empty());
    EXPECT_EQ(plan.phases.front().begin_ms, 0);
    EXPECT_EQ(plan.phases.back().end_ms, plan.duration_ms);
    for (size_t p = 1; p < plan.phases.size(); ++p) {
      EXPECT_EQ(plan.phases[p].begin_ms, plan.phases[p - 1].end_ms);
    }
  }
}

TEST(JavaAppModelTest, PrimaryRequestsAreSlowEnoughToProfile) {
  JavaAppModel app("GET:/orders");
  Rng rng(2);
  for (int i = 0; i < 200; ++i) {
    RequestPlan plan = app.Plan(app.routes()[0], rng);
    EXPECT_GE(plan.duration_ms, 200);
    EXPECT_LE(plan.duration_ms, 3000);
  }
}

TEST(JavaAppModelTest, StacksAreDeepRootFirstAndVaryOverTheRequest) {
  JavaAppModel app("GET:/orders");
  Rng rng(3);
  std::set<std::string> leaves;
  for (int i = 0; i < 50; ++i) {
    RequestPlan plan = app.Plan(app.routes()[0], rng);
    for (int64_t at = 0; at < plan.duration_ms; at += 10) {
      std::vector<std::string> stack = app.Dump(plan, at, rng);
      ASSERT_GE(stack.size(), 40u);
      ASSERT_LE(stack.size(), 80u);
      EXPECT_EQ(stack.front(), "java.lang.Thread.run:840");
      for (const std::string& frame : stack) {
        // className.methodName:lineNumber
        ASSERT_TRUE(absl::StrContains(frame, ":")) << frame;
        ASSERT_TRUE(absl::StrContains(frame, ".")) << frame;
      }
      leaves.insert(stack.back());
    }
  }
  EXPECT_GT(leaves.size(), 10u);
  EXPECT_TRUE(leaves.count("sun.nio.ch.Net.poll:-2"));
}

TEST(JavaAppModelTest, SameSeedSamePlan) {
  JavaAppModel app("GET:/orders");
  Rng a(42), b(42);
  RequestPlan pa = app.Plan(app.routes()[0], a);
  RequestPlan pb = app.Plan(app.routes()[0], b);
  EXPECT_EQ(pa.duration_ms, pb.duration_ms);
  EXPECT_EQ(app.Dump(pa, 100, a), app.Dump(pb, 100, b));
}

}  // namespace
}  // namespace stackhouse::sim
