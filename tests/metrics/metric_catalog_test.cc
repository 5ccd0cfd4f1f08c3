#include "metrics/metric_catalog.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace stackhouse::metrics {
namespace {

TEST(MetricCatalogTest, FortyTwoRelationAndFiveContinuousMetricsWithDistinctNames) {
  int relation = 0, continuous = 0;
  std::set<std::string> names;
  for (const MetricDefinition& d : Catalog()) {
    EXPECT_TRUE(names.insert(d.name).second) << d.name;
    if (d.name.rfind("process_relation_", 0) == 0) {
      ++relation;
      EXPECT_EQ(d.scope, MetricScope::kProcessRelation);
      EXPECT_EQ(d.meter.rfind("rover_net_p_", 0), 0u) << d.meter;
    } else {
      ++continuous;
      EXPECT_EQ(d.scope, MetricScope::kProcess);
      EXPECT_EQ(d.meter.rfind("rover_con_p_", 0), 0u) << d.meter;
    }
  }
  EXPECT_EQ(relation, 42);
  EXPECT_EQ(continuous, 5);
}

TEST(MetricCatalogTest, RowsAsTheAddendumNamesThem) {
  const MetricDefinition* connect = FindMetric("process_relation_client_connect_exe_time");
  ASSERT_NE(connect, nullptr);
  EXPECT_EQ(connect->meter, "rover_net_p_client_connect_exe_time_counter");
  EXPECT_EQ(connect->function, MetricFunction::kAvg);
  EXPECT_EQ(FindMetric("process_relation_client_connect_avg_exe_time"), nullptr);
  ASSERT_NE(FindMetric("process_relation_server_connect_avg_exe_time"), nullptr);

  const MetricDefinition* rtt = FindMetric("process_relation_server_write_rtt_time_percentile");
  ASSERT_NE(rtt, nullptr);
  EXPECT_EQ(rtt->meter, "rover_net_p_server_write_rtt_histogram");
  EXPECT_TRUE(rtt->labeled());

  const MetricDefinition* status = FindMetric("process_relation_http1_response_status_cpm");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->label, "code");
  EXPECT_EQ(status->function, MetricFunction::kSumPerMin);

  const MetricDefinition* cpu = FindMetric("continuous_profiling_process_cpu");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->scale, 10000);
  EXPECT_TRUE(cpu->average_in_data_set);
  EXPECT_FALSE(cpu->labeled());
  EXPECT_EQ(FindMetric("continuous_profiling_system_load")->scale, 100);
  EXPECT_EQ(FindMetric("continuous_profiling_http_error_rate")->label, "uri");

  ASSERT_EQ(MetricsOfMeter("rover_net_p_client_write_counts_counter").size(), 1u);
  EXPECT_EQ(MetricsOfMeter("rover_net_p_client_write_counts_counter")[0]->name,
            "process_relation_client_write_cpm");
  EXPECT_TRUE(MetricsOfMeter("instance_jvm_cpu").empty());
}

TEST(MetricCatalogTest, SampledRecords) {
  EXPECT_TRUE(IsSampledRecord("sampled_slow_trace_record"));
  EXPECT_TRUE(IsSampledRecord("sampled_status_5xx_trace_record"));
  EXPECT_FALSE(IsSampledRecord("process_relation_client_write_cpm"));
}

}  // namespace
}  // namespace stackhouse::metrics
