#include "metrics/mqe.h"

#include <map>
#include <string>

#include "fakes/fake_metric_source.h"
#include "gtest/gtest.h"
#include "model/ids.h"

namespace stackhouse::metrics {
namespace {

constexpr int64_t kT0 = 1781575200000;  // a minute bucket start

Accumulator Sum(int64_t sum, int64_t count = 0) {
  Accumulator a;
  a.sum = sum;
  a.count = count;
  return a;
}

class MqeTest : public ::testing::Test {
 protected:
  MqeTest() {
    entity_.service_name = "svc";
    entity_.normal = true;
    entity_.service_instance_name = "pod-1";
    entity_.process_name = "app";
    relation_ = entity_;
    relation_.dest_service_name = "svc";
    relation_.dest_normal = true;
    relation_.dest_service_instance_name = "pod-1";
    relation_.dest_process_name = "UNKNOWN_REMOTE";
    buckets_.starts_ms = {kT0, kT0 + 60000, kT0 + 120000};
  }
  std::string ProcessId(const std::string& name) const {
    return model::ProcessId(name, model::InstanceId(model::ServiceId("svc"), "pod-1"));
  }
  std::string RelationId() const { return ProcessId("app") + "-" + ProcessId("UNKNOWN_REMOTE"); }
  ExpressionResult Eval(absl::string_view expression, const MqeEntity& entity) {
    return EvaluateExpression(expression, entity, buckets_, &source_);
  }

  fakes::FakeMetricSource source_;
  MqeEntity entity_, relation_;
  TimeBuckets buckets_;
};

TEST_F(MqeTest, PlainSeriesWithAnEmptyMinute) {
  source_.Put("process_relation_client_write_cpm", RelationId(), "", kT0, Sum(42));
  source_.Put("process_relation_client_write_cpm", RelationId(), "", kT0 + 120000, Sum(7));
  auto r = Eval("process_relation_client_write_cpm", relation_);
  EXPECT_FALSE(r.error.has_value());
  EXPECT_EQ(r.type, ResultType::kTimeSeriesValues);
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_TRUE(r.results[0].labels.empty());
  ASSERT_EQ(r.results[0].values.size(), 3u);
  EXPECT_EQ(r.results[0].values[0].id, "1781575200000");
  EXPECT_EQ(r.results[0].values[0].value, 42);
  EXPECT_FALSE(r.results[0].values[1].value.has_value());  // no row: null
  EXPECT_EQ(r.results[0].values[1].id, "1781575260000");
  EXPECT_EQ(r.results[0].values[2].value, 7);
}

TEST_F(MqeTest, NoRowsAtAllIsOneSeriesOfNulls) {
  auto r = Eval("continuous_profiling_process_thread_count", entity_);
  ASSERT_EQ(r.results.size(), 1u);
  for (const auto& v : r.results[0].values) EXPECT_FALSE(v.value.has_value());
}

TEST_F(MqeTest, DividedByANumber) {
  source_.Put("continuous_profiling_process_cpu", ProcessId("app"), "", kT0, Sum(510000, 2));
  auto r = Eval(" continuous_profiling_process_cpu / 10000 ", entity_);
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_EQ(r.results[0].values[0].value, 25.5);  // avg 255000, in %
  EXPECT_FALSE(r.results[0].values[1].value.has_value());
  EXPECT_EQ(r.type, ResultType::kTimeSeriesValues);
}

TEST_F(MqeTest, LabeledSeriesSortedAndSelected) {
  source_.Put("process_relation_http1_response_status_cpm", RelationId(), "500", kT0, Sum(2));
  source_.Put("process_relation_http1_response_status_cpm", RelationId(), "200", kT0, Sum(90));
  source_.Put("process_relation_http1_response_status_cpm", RelationId(), "404", kT0 + 60000,
              Sum(1));
  auto r = Eval("process_relation_http1_response_status_cpm", relation_);
  ASSERT_EQ(r.results.size(), 3u);
  EXPECT_EQ(r.results[0].labels, (decltype(r.results[0].labels){{"code", "200"}}));
  EXPECT_EQ(r.results[1].labels[0].second, "404");
  EXPECT_EQ(r.results[2].labels[0].second, "500");
  EXPECT_EQ(r.results[0].values[0].value, 90);
  EXPECT_FALSE(r.results[1].values[0].value.has_value());

  r = Eval("process_relation_http1_response_status_cpm{code='500, 404'}", relation_);
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].labels[0].second, "404");
}

TEST_F(MqeTest, PercentilesAreSeriesByRank) {
  Accumulator h;
  h.buckets = {{0, 10}, {5, 20}, {10, 30}, {50, 40}};
  source_.Put("process_relation_http1_client_duration_percentile", RelationId(), "", kT0, h);
  auto r = Eval("process_relation_http1_client_duration_percentile", relation_);
  ASSERT_EQ(r.results.size(), 5u);
  EXPECT_EQ(r.results[0].labels[0], std::make_pair(std::string("p"), std::string("50")));
  EXPECT_EQ(r.results[0].values[0].value, 10);
  EXPECT_EQ(r.results[4].labels[0].second, "99");
  EXPECT_EQ(r.results[4].values[0].value, 50);
  EXPECT_FALSE(r.results[4].values[1].value.has_value());

  r = Eval("process_relation_http1_client_duration_percentile{p='50,99'}/1000", relation_);
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[1].labels[0].second, "99");
  EXPECT_EQ(r.results[1].values[0].value, 0.05);
}

TEST_F(MqeTest, HourStepDividesSumPerMinByTheMinutes) {
  buckets_.step = Step::kHour;
  buckets_.starts_ms = {kT0};
  source_.Put("process_relation_client_read_cpm", RelationId(), "", kT0, Sum(600));
  auto r = Eval("process_relation_client_read_cpm", relation_);
  EXPECT_EQ(r.results[0].values[0].value, 10);
}

TEST_F(MqeTest, TopNOfSampledRecords) {
  source_.PutRecords("sampled_slow_trace_record", RelationId(),
                     {{"/orders", "trace-1", 1200, kT0 + 1}, {"/pay", "trace-2", 900, kT0 + 2}});
  auto r = Eval("top_n(sampled_slow_trace_record, 50, DES)", relation_);
  EXPECT_FALSE(r.error.has_value()) << *r.error;
  EXPECT_EQ(r.type, ResultType::kRecordList);
  ASSERT_EQ(r.results.size(), 1u);
  ASSERT_EQ(r.results[0].values.size(), 2u);
  EXPECT_EQ(r.results[0].values[0].id, "/orders");
  EXPECT_EQ(r.results[0].values[0].value, 1200);
  EXPECT_EQ(r.results[0].values[0].trace_id, "trace-1");
  EXPECT_EQ(source_.last_limit, 50);
  EXPECT_FALSE(source_.last_ascending);
  EXPECT_EQ(source_.last_range, std::make_pair(kT0, kT0 + 180000));  // inclusive end bucket

  r = Eval("top_n(sampled_status_5xx_trace_record,3,asc)", relation_);
  EXPECT_EQ(r.type, ResultType::kRecordList);
  EXPECT_TRUE(source_.last_ascending);
}

TEST_F(MqeTest, ErrorsComeBackInTheResult) {
  auto check = [&](absl::string_view expression, absl::string_view error) {
    auto r = Eval(expression, relation_);
    ASSERT_TRUE(r.error.has_value()) << expression;
    EXPECT_EQ(*r.error, error) << expression;
    EXPECT_EQ(r.type, ResultType::kUnknown);
    EXPECT_TRUE(r.results.empty());
  };
  check("service_cpm", "Metric: [service_cpm] does not exist.");
  check("sampled_slow_trace_record",
        "Metric: [sampled_slow_trace_record] is topN record, need top_n function for query.");
  check("relabels(service_cpm, a='b')",
        "Unsupported function: relabels (Stackhouse supports top_n, avg, sum, max, min and "
        "latest)");
  check("top_n(sampled_slow_trace_record, 0, des)", "top_n needs a whole N of at least 1");
  check("top_n(sampled_slow_trace_record, 5, up)", "top_n order must be ASC or DES, not up");
  check("process_relation_client_write_cpm /",
        "Expression: [process_relation_client_write_cpm /] "
        "error: unexpected end of expression at position 35");
  check("(((a)", "Expression: [(((a)] error: expected ')' at position 5");
  source_.fail = true;
  check("process_relation_client_write_cpm",
        "Reading process_relation_client_write_cpm: disk on fire");
  std::string huge(1 << 20, 'a');
  auto r = Eval(huge, relation_);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(*r.error, "Expression is too long: 1048576 bytes, at most 4096");
}

TEST_F(MqeTest, WithoutASourceEveryReadIsAnError) {
  const std::string no_store = "Metrics are not available: the server has no metric store";
  for (absl::string_view expression :
       {"process_relation_client_write_cpm", "top_n(sampled_slow_trace_record, 5, des)",
        "avg(process_relation_client_write_cpm) / 2"}) {
    auto r = EvaluateExpression(expression, relation_, buckets_, nullptr);
    EXPECT_EQ(r.error, no_store) << expression;
    EXPECT_EQ(r.type, ResultType::kUnknown);
    EXPECT_TRUE(r.results.empty());
  }
  // What needs no read still answers.
  EXPECT_EQ(EvaluateExpression("service_cpm", relation_, buckets_, nullptr).error,
            "Metric: [service_cpm] does not exist.");
  auto r = EvaluateExpression("2 * 3", relation_, buckets_, nullptr);
  EXPECT_FALSE(r.error.has_value());
  EXPECT_EQ(r.results.at(0).values.at(0).value, 6);
}

TEST_F(MqeTest, AnEntityWithMissingFields) {
  MqeEntity half;
  half.service_name = "svc";
  half.process_name = "app";  // no instance, no normal
  auto r = Eval("continuous_profiling_process_cpu", half);
  EXPECT_EQ(r.type, ResultType::kUnknown);
  EXPECT_TRUE(r.results.empty());
  EXPECT_FALSE(r.error.has_value());
  r = Eval("continuous_profiling_http_error_rate", half);  // labeled
  EXPECT_EQ(r.type, ResultType::kTimeSeriesValues);
  EXPECT_TRUE(r.results.empty());
  r = Eval("continuous_profiling_process_cpu/10000", half);
  EXPECT_EQ(r.error, "Unsupported binary operation: Unsupported operation.");
  // A process entity is not a relation entity.
  r = Eval("top_n(sampled_slow_trace_record, 5, des)", entity_);
  EXPECT_EQ(r.type, ResultType::kRecordList);
  EXPECT_TRUE(r.results.empty());
}

TEST_F(MqeTest, AggregationsAndArithmetic) {
  source_.Put("process_relation_client_write_cpm", RelationId(), "", kT0, Sum(4));
  source_.Put("process_relation_client_write_cpm", RelationId(), "", kT0 + 120000, Sum(8));
  source_.Put("process_relation_client_read_cpm", RelationId(), "", kT0, Sum(1));
  auto value = [&](absl::string_view e) {
    auto r = Eval(e, relation_);
    EXPECT_FALSE(r.error.has_value()) << e << ": " << *r.error;
    EXPECT_EQ(r.type, ResultType::kSingleValue) << e;
    return r.results.at(0).values.at(0).value;
  };
  EXPECT_EQ(value("avg(process_relation_client_write_cpm)"), 6);
  EXPECT_EQ(value("sum(process_relation_client_write_cpm)"), 12);
  EXPECT_EQ(value("max(process_relation_client_write_cpm)"), 8);
  EXPECT_EQ(value("MIN(process_relation_client_write_cpm)"), 4);
  EXPECT_EQ(value("latest(process_relation_client_write_cpm)"), 8);
  EXPECT_EQ(value("latest(process_relation_client_write_cpm) * 2 + 1"), 17);
  EXPECT_EQ(value("(1 + 2) * 3"), 9);
  EXPECT_FALSE(value("1 / 0").has_value());

  auto r = Eval("process_relation_client_write_cpm + process_relation_client_read_cpm", relation_);
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_EQ(r.results[0].values[0].value, 5);
  EXPECT_FALSE(r.results[0].values[1].value.has_value());  // null + null
  EXPECT_FALSE(r.results[0].values[2].value.has_value());  // 8 + null
  r = Eval("100 - process_relation_client_write_cpm", relation_);
  EXPECT_EQ(r.results[0].values[0].value, 96);
}

TEST(FormatMqeValueTest, AsJavaDecimalFormat) {
  EXPECT_EQ(FormatMqeValue(12), "12");
  EXPECT_EQ(FormatMqeValue(0.5), "0.5");
  EXPECT_EQ(FormatMqeValue(1234.5678), "1234.568");
  // Ties are decided on the binary value, as Java does since JDK 8: only exact ties go to even.
  EXPECT_EQ(FormatMqeValue(0.0005), "0.001");    // 0.00050000000000000001…
  EXPECT_EQ(FormatMqeValue(0.0015), "0.002");    // 0.00150000000000000003…
  EXPECT_EQ(FormatMqeValue(0.8055), "0.805");    // 0.80549999999999999378…
  EXPECT_EQ(FormatMqeValue(21.1485), "21.148");  // 21.14849999999999852…
  EXPECT_EQ(FormatMqeValue(0.0625), "0.062");    // exact tie: to even
  EXPECT_EQ(FormatMqeValue(0.1875), "0.188");    // exact tie: to even
  EXPECT_EQ(FormatMqeValue(-0.0625), "-0.062");
  EXPECT_EQ(FormatMqeValue(0.00151), "0.002");
  EXPECT_EQ(FormatMqeValue(0.1 + 0.2), "0.3");
  EXPECT_EQ(FormatMqeValue(999.9996), "1000");
  EXPECT_EQ(FormatMqeValue(-1.25), "-1.25");
  EXPECT_EQ(FormatMqeValue(1e20), "100000000000000000000");
  EXPECT_EQ(FormatMqeValue(0), "0");
}

}  // namespace
}  // namespace stackhouse::metrics
