// Policy validation, its JSON forms (stored and sent to Rover) and the cause messages of the
// tasks Rover triggers (grpc-protocol.md §3.4, §5.9; graphql-protocol.md §5.8, §6.1).
#include "model/continuous.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"
#include "model/ids.h"

namespace stackhouse::model {
namespace {

using M = ContinuousMonitorType;
using T = EbpfTargetType;

ContinuousCheckItem Item(M type, std::string threshold, int64_t period = 10, int64_t count = 3) {
  ContinuousCheckItem item;
  item.type = type;
  item.threshold = std::move(threshold);
  item.period = period;
  item.count = count;
  return item;
}

std::optional<std::string> Validate(ContinuousCheckItem item, T target = T::kOnCpu) {
  return ValidateContinuousTargets({{target, {std::move(item)}}});
}

TEST(ContinuousValidationTest, AcceptsValidTargets) {
  EXPECT_EQ(ValidateContinuousTargets({}), std::nullopt);
  EXPECT_EQ(ValidateContinuousTargets({{T::kOnCpu, {}}}), std::nullopt);
  EXPECT_EQ(Validate(Item(M::kProcessCpu, "100")), std::nullopt);
  EXPECT_EQ(Validate(Item(M::kProcessCpu, "+1", 1, 1)), std::nullopt);
  EXPECT_EQ(Validate(Item(M::kHttpAvgResponseTime, "2147483647")), std::nullopt);
}

TEST(ContinuousValidationTest, RefusesInOapOrderWithOapMessages) {
  EXPECT_EQ(ValidateContinuousTargets({{T::kOnCpu, {}}, {T::kOnCpu, {}}}),
            "contains multiple same target type: ON_CPU");
  EXPECT_EQ(ValidateContinuousTargets(
                {{T::kNetwork, {Item(M::kHttpErrorRate, "5"), Item(M::kHttpErrorRate, "6")}}}),
            "contains multiple same monitor type HTTP_ERROR_RATE in NETWORK");
  EXPECT_EQ(Validate(Item(M::kProcessCpu, "x", 0, 0)),
            "check PROCESS_CPU in ON_CPU error: period must be bigger than zero");
  EXPECT_EQ(Validate(Item(M::kProcessCpu, "x", 10, 0)),
            "check PROCESS_CPU in ON_CPU error: count must be bigger than zero");
  EXPECT_EQ(Validate(Item(M::kProcessCpu, "x", 10, 11)),
            "check PROCESS_CPU in ON_CPU error: count must be equal to or smaller than period");
  for (const char* bad : {"50.5", "", "+", "-", " 5", "5 ", "1e2", "2147483648", "٣"}) {
    EXPECT_EQ(Validate(Item(M::kProcessCpu, bad)),
              "check PROCESS_CPU in ON_CPU error: parsing threshold error")
        << bad;
  }
  EXPECT_EQ(Validate(Item(M::kProcessCpu, "0")),
            "check PROCESS_CPU in ON_CPU error: the process CPU percent should be in (0-100]");
  EXPECT_EQ(Validate(Item(M::kProcessCpu, "101")),
            "check PROCESS_CPU in ON_CPU error: the process CPU percent should be in (0-100]");
  EXPECT_EQ(Validate(Item(M::kProcessThreadCount, "-2147483648"), T::kOffCpu),
            "check PROCESS_THREAD_COUNT in OFF_CPU error: the process thread count must be "
            "bigger than zero");
  EXPECT_EQ(Validate(Item(M::kSystemLoad, "0")),
            "check SYSTEM_LOAD in ON_CPU error: the system load must be bigger than zero");
  EXPECT_EQ(Validate(Item(M::kSystemLoad, "1.5")),
            "check SYSTEM_LOAD in ON_CPU error: parsing threshold error");
  EXPECT_EQ(Validate(Item(M::kHttpErrorRate, "101"), T::kNetwork),
            "check HTTP_ERROR_RATE in NETWORK error: the HTTP error rate should be in (0-100]");
  EXPECT_EQ(Validate(Item(M::kHttpAvgResponseTime, "-1"), T::kNetwork),
            "check HTTP_AVG_RESPONSE_TIME in NETWORK error: the HTTP average response time must "
            "be bigger than zero");
  // The first failure in input order wins.
  EXPECT_EQ(ValidateContinuousTargets(
                {{T::kNetwork, {Item(M::kHttpErrorRate, "0")}}, {T::kOnCpu, {}}, {T::kOnCpu, {}}}),
            "check HTTP_ERROR_RATE in NETWORK error: the HTTP error rate should be in (0-100]");
}

TEST(ContinuousJsonTest, ConfigurationIsGsonInEnumOrder) {
  ContinuousCheckItem errors = Item(M::kHttpErrorRate, "10");
  errors.uri_list = std::vector<std::string>{"/a", "/b=c"};
  ContinuousCheckItem latency = Item(M::kHttpAvgResponseTime, "500", 10, 5);
  latency.uri_regex = "/api/<id>";
  std::vector<ContinuousTarget> targets = NormalizeContinuousTargets(
      {{T::kNetwork, {latency, errors}}, {T::kOnCpu, {Item(M::kProcessCpu, "80")}}});
  const std::string json = ContinuousConfigurationJson(targets);
  EXPECT_EQ(
      json,
      "{\"targetCheckers\":{\"ON_CPU\":{\"PROCESS_CPU\":{\"threshold\":\"80\",\"period\":10,"
      "\"count\":3}},\"NETWORK\":{\"HTTP_ERROR_RATE\":{\"threshold\":\"10\",\"period\":10,"
      "\"count\":3,\"uriList\":[\"/a\",\"/b\\u003dc\"]},\"HTTP_AVG_RESPONSE_TIME\":{"
      "\"threshold\":\"500\",\"period\":10,\"count\":5,\"uriRegex\":\"/api/\\u003cid\\u003e\"}"
      "}}}");
  EXPECT_EQ(ContinuousConfigurationJson({}), "{\"targetCheckers\":{}}");
  EXPECT_EQ(ContinuousPolicyUuid(json), Sha512Hex(json));

  ContinuousPolicy policy;
  policy.uuid = "u1";
  policy.targets = targets;
  EXPECT_EQ(ContinuousPolicyCommandEntry("order-svc", &policy),
            "{\"ServiceName\":\"order-svc\",\"UUID\":\"u1\",\"Profiling\":{\"ON_CPU\":{"
            "\"PROCESS_CPU\":{\"Threshold\":\"80\",\"Period\":10,\"Count\":3}},\"NETWORK\":{"
            "\"HTTP_ERROR_RATE\":{\"Threshold\":\"10\",\"Period\":10,\"Count\":3,\"URIList\":["
            "\"/a\",\"/b\\u003dc\"]},\"HTTP_AVG_RESPONSE_TIME\":{\"Threshold\":\"500\",\"Period\":"
            "10,\"Count\":5,\"URIRegex\":\"/api/\\u003cid\\u003e\"}}}}");
  EXPECT_EQ(ContinuousPolicyCommandEntry("a\"b", nullptr),
            "{\"ServiceName\":\"a\\\"b\",\"UUID\":\"\"}");
  policy.targets.clear();
  EXPECT_EQ(ContinuousPolicyCommandEntry("s", &policy),
            "{\"ServiceName\":\"s\",\"UUID\":\"u1\",\"Profiling\":{}}");
}

TEST(ContinuousCauseTest, ValuesAreJavaLongOfTimes100) {
  EXPECT_EQ(ContinuousCauseValue(80.0), 8000);
  EXPECT_EQ(ContinuousCauseValue(85.239), 8523);
  EXPECT_EQ(ContinuousCauseValue(-1.239), -123);
  EXPECT_EQ(ContinuousCauseValue(std::nan("")), 0);
  EXPECT_EQ(ContinuousCauseValue(std::numeric_limits<double>::infinity()),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ContinuousCauseValue(-1e300), std::numeric_limits<int64_t>::min());
}

TEST(ContinuousCauseTest, MessagePerMonitorType) {
  EXPECT_EQ(ContinuousCauseMessage(M::kProcessCpu, 80, 85.234, ""),
            "PROCESS_CPU: current 85.23% >= threshold 80.00%");
  EXPECT_EQ(ContinuousCauseMessage(M::kProcessCpu, 80, 85.5, ""),
            "PROCESS_CPU: current 85.50% >= threshold 80.00%");
  EXPECT_EQ(ContinuousCauseMessage(M::kHttpErrorRate, 10, 12.5, "/orders"),
            "HTTP_ERROR_RATE: current 12.50% >= threshold 10.00% on /orders");
  EXPECT_EQ(ContinuousCauseMessage(M::kProcessThreadCount, 100, 120.7, ""),
            "PROCESS_THREAD_COUNT: current 120 >= threshold 100");
  EXPECT_EQ(ContinuousCauseMessage(M::kSystemLoad, 1.5, 7.9, ""),
            "SYSTEM_LOAD: current 7 >= threshold 1");
  EXPECT_EQ(ContinuousCauseMessage(M::kHttpAvgResponseTime, 500, 512, "/api/.*"),
            "HTTP_AVG_RESPONSE_TIME: current 512.00ms >= threshold 500.00ms on /api/.*");
}

TEST(ContinuousCauseTest, PercentagesRoundHalfEvenOnTheBinaryValueAndGroup) {
  // 0.125 is exact: a tie, rounded to even; 85.235 is 85.2349999… as a double.
  EXPECT_EQ(ContinuousCauseMessage(M::kProcessCpu, 0.125, 0.375, ""),
            "PROCESS_CPU: current 0.38% >= threshold 0.12%");
  EXPECT_EQ(ContinuousCauseMessage(M::kProcessCpu, 85.235, 99.999, ""),
            "PROCESS_CPU: current 100.00% >= threshold 85.23%");
  EXPECT_EQ(ContinuousCauseMessage(M::kHttpErrorRate, 1234.5, 1234567.891, ""),
            "HTTP_ERROR_RATE: current 1,234,567.89% >= threshold 1,234.50%");
  EXPECT_EQ(ContinuousCauseMessage(M::kProcessCpu, -5, std::nan(""), ""),
            "PROCESS_CPU: current NaN >= threshold -5.00%");
}

TEST(ContinuousCauseTest, MillisecondsRoundHalfUpOnTheShortestDecimal) {
  // Java's %.2f: 0.125 → 0.13, 1.005 (1.00499… as a double, "1.005" shortest) → 1.01.
  EXPECT_EQ(ContinuousCauseMessage(M::kHttpAvgResponseTime, 0.125, 1.005, ""),
            "HTTP_AVG_RESPONSE_TIME: current 1.01ms >= threshold 0.13ms");
  EXPECT_EQ(ContinuousCauseMessage(M::kHttpAvgResponseTime, 9.995, 99.999, ""),
            "HTTP_AVG_RESPONSE_TIME: current 100.00ms >= threshold 10.00ms");
  EXPECT_EQ(ContinuousCauseMessage(M::kHttpAvgResponseTime, -0.5, std::nan(""), ""),
            "HTTP_AVG_RESPONSE_TIME: current NaNms >= threshold -0.50ms");
  EXPECT_EQ(ContinuousCauseMessage(M::kProcessThreadCount, 1e12, std::nan(""), ""),
            "PROCESS_THREAD_COUNT: current 0 >= threshold 2147483647");
}

TEST(ContinuousNamesTest, ParseRoundTrips) {
  for (M type : {M::kProcessCpu, M::kProcessThreadCount, M::kSystemLoad, M::kHttpErrorRate,
                 M::kHttpAvgResponseTime}) {
    EXPECT_EQ(ParseContinuousMonitorType(ContinuousMonitorTypeName(type)), type);
  }
  EXPECT_EQ(ParseContinuousMonitorType("CPU"), std::nullopt);
  EXPECT_EQ(ParseEbpfTargetType("NETWORK"), T::kNetwork);
  EXPECT_EQ(ParseEbpfTargetType("network"), std::nullopt);
}

}  // namespace
}  // namespace stackhouse::model
