#include "metrics/meter_analyzer.h"

#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"
#include "model/ids.h"

namespace stackhouse::metrics {
namespace {

constexpr int64_t kTime = 1700000012345;  // 22:13:32.345 UTC

int64_t Minute(int64_t ms) { return ms - ms % 60000; }

model::MeterSample Single(std::string name, double value, model::KeyValueList labels) {
  model::MeterSample s;
  s.name = std::move(name);
  s.value = value;
  s.labels = std::move(labels);
  return s;
}

model::MeterDataSet Set(std::vector<model::MeterSample> samples) {
  model::MeterDataSet set;
  set.service = "svc";
  set.instance = "pod-1";
  set.timestamp_ms = kTime;
  set.samples = std::move(samples);
  return set;
}

std::string InstanceId() { return model::InstanceId(model::ServiceId("svc"), "pod-1"); }

const MetricUpdate* Find(const AnalyzedDataSet& out, absl::string_view metric) {
  for (const auto& u : out.updates) {
    if (u.metric->name == metric) return &u;
  }
  return nullptr;
}

TEST(MeterAnalyzerTest, SumsOneRelationWithinADataSetAndNamesTheVirtualPeerOnce) {
  // Two remote addresses of one client process: both become UNKNOWN_REMOTE, added together.
  auto out = AnalyzeDataSet(Set({Single("rover_net_p_client_write_counts_counter", 3,
                                        {{"client_process_id", "p1"},
                                         {"server_address", "10.0.0.1:80"},
                                         {"side", "client"},
                                         {"protocol", "http"},
                                         {"is_ssl", "true"}}),
                                 Single("rover_net_p_client_write_counts_counter", 4,
                                        {{"client_process_id", "p1"},
                                         {"server_address", "10.0.0.2:80"},
                                         {"side", "client"},
                                         {"protocol", "http"},
                                         {"is_ssl", "true"}})}),
                            kTime + 5000);
  const std::string remote = model::ProcessId("UNKNOWN_REMOTE", InstanceId());
  ASSERT_EQ(out.updates.size(), 1u);
  EXPECT_EQ(out.updates[0].metric->name, "process_relation_client_write_cpm");
  EXPECT_EQ(out.updates[0].entity_id, "p1-" + remote);
  EXPECT_EQ(out.updates[0].delta.sum, 7);
  EXPECT_EQ(out.updates[0].minute_ms, Minute(kTime));
  ASSERT_EQ(out.virtual_processes.size(), 1u);
  EXPECT_EQ(out.virtual_processes[0].id, remote);
  EXPECT_EQ(out.virtual_processes[0].name, "UNKNOWN_REMOTE");
  ASSERT_EQ(out.relations.size(), 1u);
  EXPECT_EQ(out.relations[0].component_id, 129);  // https
  EXPECT_FALSE(out.relations[0].server_side);
  EXPECT_EQ(out.relations[0].instance_id, InstanceId());
  EXPECT_EQ(out.relations[0].minute_ms, Minute(kTime + 5000));
}

TEST(MeterAnalyzerTest, ServerSideWithALocalPeerAndTheComponentRule) {
  auto out = AnalyzeDataSet(Set({Single("rover_net_p_server_read_counts_counter", 2,
                                        {{"server_process_id", "p2"},
                                         {"client_local", "true"},
                                         {"side", "server"},
                                         {"protocol", "unknown"},
                                         {"is_ssl", "false"}})}),
                            kTime);
  ASSERT_EQ(out.updates.size(), 1u);
  EXPECT_EQ(out.updates[0].entity_id,
            model::ProcessId("UNKNOWN_LOCAL", InstanceId()) + "-p2");  // always client → server
  ASSERT_EQ(out.relations.size(), 1u);
  EXPECT_TRUE(out.relations[0].server_side);
  EXPECT_EQ(out.relations[0].component_id, 110);
  EXPECT_EQ(NetworkComponent("http", "false"), 49);
  EXPECT_EQ(NetworkComponent("unknown", "true"), 130);
}

TEST(MeterAnalyzerTest, NetworkAveragesAreSummedInTheSetThenCountOnce) {
  auto out = AnalyzeDataSet(
      Set({Single("rover_net_p_client_write_exe_time_counter", 1.2,
                  {{"client_process_id", "p1"}, {"server_process_id", "p2"}, {"side", "client"}}),
           Single("rover_net_p_client_write_exe_time_counter", 0.3,
                  {{"client_process_id", "p1"}, {"server_process_id", "p2"}, {"side", "client"}})}),
      kTime);
  const MetricUpdate* u = Find(out, "process_relation_client_write_avg_exe_time");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->delta.sum, 2);  // round(1.5)
  EXPECT_EQ(u->delta.count, 1);
}

TEST(MeterAnalyzerTest, BothSidesOfAnHttpRequestLandInOneRowTwice) {
  model::KeyValueList labels{{"client_process_id", "p1"}, {"server_process_id", "p2"}};
  auto client = labels, server = labels;
  client.emplace_back("side", "client");
  server.emplace_back("side", "server");
  auto out = AnalyzeDataSet(Set({Single("rover_net_p_http1_request_counter", 5, client),
                                 Single("rover_net_p_http1_request_counter", 5, server)}),
                            kTime);
  ASSERT_EQ(out.updates.size(), 2u);
  EXPECT_EQ(out.updates[0].entity_id, out.updates[1].entity_id);
  EXPECT_EQ(out.updates[0].delta.sum + out.updates[1].delta.sum, 10);  // the OAP doubles them
}

TEST(MeterAnalyzerTest, ContinuousMetersAreAveragedScaledAndKeepTheUri) {
  auto out = AnalyzeDataSet(
      Set({Single("rover_con_p_process_cpu", 25.5, {{"process_name", "app"}, {"layer", "MESH"}}),
           Single("rover_con_p_process_cpu", 26.5, {{"process_name", "app"}, {"layer", "MESH"}}),
           Single("rover_con_p_http_error_rate", 0.004,
                  {{"process_name", "app"}, {"uri", "/orders"}, {"layer", "MESH"}})}),
      kTime);
  const MetricUpdate* cpu = Find(out, "continuous_profiling_process_cpu");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->entity_id, model::ProcessId("app", InstanceId()));
  EXPECT_EQ(cpu->delta.sum, 260000);  // avg 26 % × 10000
  EXPECT_EQ(cpu->delta.count, 1);
  const MetricUpdate* errors = Find(out, "continuous_profiling_http_error_rate");
  ASSERT_NE(errors, nullptr);
  EXPECT_EQ(errors->label_value, "/orders");
  EXPECT_EQ(errors->delta.sum, 1);  // 0.4 after × 100: between 0 and 1 → 1
  EXPECT_TRUE(out.relations.empty());
  EXPECT_TRUE(out.virtual_processes.empty());
}

TEST(MeterAnalyzerTest, EntityRefsNameOneEntityEachWhateverTheOrderOfTheSamples) {
  auto net = [](const char* meter, const char* client, const char* side) {
    return Single(meter, 1,
                  {{"client_process_id", client},
                   {"server_process_id", "s"},
                   {"side", side},
                   {"protocol", "tcp"},
                   {"is_ssl", "false"}});
  };
  // Connections taking turns, both sides of one pair, and a process of the continuous rules.
  auto out = AnalyzeDataSet(
      Set({net("rover_net_p_client_write_counts_counter", "c1", "client"),
           net("rover_net_p_client_write_counts_counter", "c2", "client"),
           Single("rover_con_p_process_cpu", 0.5, {{"process_name", "app"}}),
           net("rover_net_p_client_read_counts_counter", "c1", "client"),
           net("rover_net_p_server_read_counts_counter", "c1", "server"),
           net("rover_net_p_client_read_counts_counter", "c2", "client"),
           Single("rover_con_p_process_thread_count", 3, {{"process_name", "app"}})}),
      kTime);
  ASSERT_GE(out.updates.size(), 6u);
  absl::flat_hash_map<uint32_t, std::string> entity_of_ref;
  absl::flat_hash_set<std::string> entities;
  for (const MetricUpdate& u : out.updates) {
    ASSERT_NE(u.entity_ref, 0u) << u.metric->name;
    auto [it, inserted] = entity_of_ref.try_emplace(u.entity_ref, u.entity_id);
    EXPECT_EQ(it->second, u.entity_id) << "ref " << u.entity_ref << " names two entities";
    entities.insert(u.entity_id);
  }
  EXPECT_EQ(entities.size(), 3u);  // c1-s, c2-s and the process
  EXPECT_TRUE(entities.contains("c1-s"));
  EXPECT_TRUE(entities.contains("c2-s"));
  EXPECT_TRUE(entities.contains(model::ProcessId("app", InstanceId())));
}

TEST(MeterAnalyzerTest, HistogramBucketsKeyedByTruncatedLowerBound) {
  model::MeterSample h;
  h.name = "rover_net_p_http1_client_duration_histogram";
  h.histogram = true;
  h.labels = {{"client_process_id", "p1"}, {"server_process_id", "p2"}, {"side", "client"}};
  h.buckets = {{5.9, false, 3}, {0, true, 2}, {10, false, -4}};
  auto out = AnalyzeDataSet(Set({h, h}), kTime);
  ASSERT_EQ(out.updates.size(), 1u);
  EXPECT_EQ(
      out.updates[0].delta.buckets,
      (BucketCounts{{std::numeric_limits<int64_t>::min(), 4}, {5, 6}, {10, 0}}));  // negative → 0
}

TEST(MeterAnalyzerTest, HistogramsOfOneGroupWithDifferentBoundsAddUpPerKey) {
  // 300 samples of one group, sample j with the bounds j, j + 300, j + 600 (each ascending, the
  // group's keys interleaved), and then one with the first sample's bounds again.
  std::vector<model::MeterSample> samples;
  for (int j = 0; j <= 300; ++j) {
    model::MeterSample h;
    h.name = "rover_net_p_http1_client_duration_histogram";
    h.histogram = true;
    h.labels = {{"client_process_id", "p1"}, {"server_process_id", "p2"}, {"side", "client"}};
    const int base = j == 300 ? 0 : j;
    for (int k = 0; k < 3; ++k) h.buckets.push_back({double(base + 300 * k), false, k + 1});
    samples.push_back(std::move(h));
  }
  auto out = AnalyzeDataSet(Set(std::move(samples)), kTime);
  ASSERT_EQ(out.updates.size(), 1u);
  const BucketCounts& buckets = out.updates[0].delta.buckets;
  ASSERT_EQ(buckets.size(), 900u);
  int64_t expected_key = 0;
  for (const auto& [key, count] : buckets) {
    EXPECT_EQ(key, expected_key);
    // Bucket k of a sample counts k + 1; the last sample repeats the first one's keys.
    const int64_t k = key / 300;
    EXPECT_EQ(count, key % 300 == 0 ? 2 * (k + 1) : k + 1) << key;
    ++expected_key;
  }
}

TEST(MeterAnalyzerTest, SidesCompareWithoutCase) {
  auto sample = [](const char* side) {
    return Single("rover_net_p_client_write_counts_counter", 1,
                  {{"client_process_id", "p1"}, {"server_process_id", "p2"}, {"side", side}});
  };
  auto out = AnalyzeDataSet(
      Set({sample("CLIENT"), sample("client"), sample("Inbound"), sample("INBOUND"), sample("")}),
      kTime);
  ASSERT_EQ(out.updates.size(), 3u);  // client, inbound, and no side
  EXPECT_EQ(out.updates[0].delta.sum, 2);
  EXPECT_EQ(out.updates[1].delta.sum, 2);
  EXPECT_EQ(out.updates[2].delta.sum, 1);
  ASSERT_EQ(out.relations.size(), 1u);  // none of them is the server side
  EXPECT_FALSE(out.relations[0].server_side);
}

TEST(MeterAnalyzerTest, UnusableSamplesAndDataSetsAreIgnored) {
  auto out = AnalyzeDataSet(
      Set({Single("instance_jvm_cpu", 1, {}),
           Single("rover_con_p_process_cpu", std::nan(""), {{"process_name", "app"}}),
           Single("rover_con_p_process_thread_count", INFINITY, {{"process_name", "app"}})}),
      kTime);
  EXPECT_TRUE(out.updates.empty());
  EXPECT_EQ(out.ignored_samples, 3);

  model::MeterDataSet no_service = Set({Single("rover_con_p_process_cpu", 1, {})});
  no_service.service.clear();
  EXPECT_TRUE(AnalyzeDataSet(no_service, kTime).updates.empty());
  model::MeterDataSet no_time = Set({Single("rover_con_p_process_cpu", 1, {})});
  no_time.timestamp_ms = 0;
  EXPECT_EQ(AnalyzeDataSet(no_time, kTime).ignored_samples, 1);
}

}  // namespace
}  // namespace stackhouse::metrics
