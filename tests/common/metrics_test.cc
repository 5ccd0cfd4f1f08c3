#include "common/metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, RendersCountersAndGauges) {
  MetricsRegistry registry;
  registry.GetCounter("calls_total", "Calls", {{"method", "/a"}, {"code", "OK"}})->Increment(2);
  registry.GetCounter("calls_total", "ignored", {{"method", "/a"}, {"code", "OK"}})->Increment();
  registry.GetCounter("calls_total", "Calls", {{"method", "/b"}, {"code", "OK"}})->Increment();
  registry.AddGauge("temperature", "Heat", [] {
    return std::vector<MetricsRegistry::GaugeSample>{{{{"room", "a\"b"}}, 1.5}, {{}, 7}};
  });
  std::string text = registry.RenderPrometheus();
  EXPECT_THAT(text, HasSubstr("# HELP calls_total Calls\n# TYPE calls_total counter\n"));
  EXPECT_THAT(text, HasSubstr("calls_total{method=\"/a\",code=\"OK\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("calls_total{method=\"/b\",code=\"OK\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE temperature gauge\n"));
  EXPECT_THAT(text, HasSubstr("temperature{room=\"a\\\"b\"} 1.5\n"));
  EXPECT_THAT(text, HasSubstr("temperature 7\n"));
}

TEST(MetricsTest, CounterPointersAreStable) {
  MetricsRegistry registry;
  Counter* first = registry.GetCounter("x", "X", {{"k", "v"}});
  for (int i = 0; i < 100; ++i) registry.GetCounter("x", "X", {{"k", std::to_string(i)}});
  EXPECT_EQ(first, registry.GetCounter("x", "X", {{"k", "v"}}));
}

}  // namespace
}  // namespace stackhouse
