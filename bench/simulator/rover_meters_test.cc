#include "simulator/rover_meters.h"

#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::sim {
namespace {

namespace v3 = skywalking::v3;
using ::testing::ElementsAre;
using ::testing::Pair;

// A mesh pod (application + Envoy sidecar) and a pod with its application alone.
std::vector<MeterProcess> Processes() {
  return {
      {0, "id-app-0", "reviews.default", "reviews-0", "java", "MESH"},
      {1, "id-envoy-0", "reviews.default", "reviews-0", "envoy", "MESH_DP"},
      {2, "id-app-1", "reviews.default", "reviews-1", "java", "MESH"},
  };
}

std::map<std::string, std::string> LabelsOf(const v3::MeterData& d) {
  std::map<std::string, std::string> out;
  const auto& labels = d.has_singlevalue() ? d.singlevalue().labels() : d.histogram().labels();
  for (const auto& l : labels) out[l.name()] = l.value();
  return out;
}

const std::string& NameOf(const v3::MeterData& d) {
  return d.has_singlevalue() ? d.singlevalue().name() : d.histogram().name();
}

int64_t Total(const v3::MeterHistogram& h) {
  int64_t total = 0;
  for (const auto& b : h.values()) total += b.count();
  return total;
}

// The single value of meter `name` whose labels include `match`.
double Value(const v3::MeterDataCollection& c, const std::string& name,
             const std::map<std::string, std::string>& match) {
  for (const auto& d : c.meterdata()) {
    if (!d.has_singlevalue() || d.singlevalue().name() != name) continue;
    auto labels = LabelsOf(d);
    bool all = true;
    for (const auto& [k, v] : match) all = all && labels[k] == v;
    if (all) return d.singlevalue().value();
  }
  ADD_FAILURE() << "no " << name;
  return -1;
}

TEST(BucketIndexTest, LastBoundNotAboveTheValueAndTheFirstForValuesBelowTheSecond) {
  const std::vector<double> bounds = {1, 2, 5};
  EXPECT_EQ(BucketIndex(bounds, 0), 0u);  // below the first bound: still the first bucket
  EXPECT_EQ(BucketIndex(bounds, 1.5), 0u);
  EXPECT_EQ(BucketIndex(bounds, 2), 1u);
  EXPECT_EQ(BucketIndex(bounds, 4.9), 1u);
  EXPECT_EQ(BucketIndex(bounds, 1e9), 2u);
}

TEST(RoverBucketsTest, AscendingAsRovers) {
  for (const auto* bounds : {&SocketBucketsNs(), &SocketBucketsUs(), &HttpPackageSizeBuckets(),
                             &HttpDurationBuckets()}) {
    ASSERT_FALSE(bounds->empty());
    for (size_t i = 1; i < bounds->size(); ++i) EXPECT_LT((*bounds)[i - 1], (*bounds)[i]);
  }
  EXPECT_EQ(SocketBucketsNs().size(), 34u);
  EXPECT_EQ(SocketBucketsUs().back(), 5'000'000);
}

TEST(ConnectionsOfTest, PeersOfTheInstanceByIdThenLocalAndRemote) {
  auto processes = Processes();
  auto app = ConnectionsOf(processes, 0);
  ASSERT_EQ(app.size(), 4u);
  EXPECT_TRUE(app[0].client);  // the lower index is the client of its sidecar
  EXPECT_EQ(app[0].peer, PeerKind::kProcess);
  EXPECT_EQ(app[0].peer_value, "id-envoy-0");
  EXPECT_FALSE(app[1].client);
  EXPECT_EQ(app[1].peer, PeerKind::kLocal);
  EXPECT_EQ(app[2].peer, PeerKind::kRemote);
  EXPECT_TRUE(app[2].http);
  EXPECT_FALSE(app[2].ssl);  // even key
  EXPECT_EQ(app[2].peer_value, "10.96.0.1:8080");
  EXPECT_FALSE(app[3].http);
  EXPECT_EQ(app[3].peer_value, "10.97.0.1:3306");

  auto envoy = ConnectionsOf(processes, 1);
  ASSERT_EQ(envoy.size(), 4u);
  EXPECT_FALSE(envoy[0].client);  // the same connection, from the server's end
  EXPECT_EQ(envoy[0].peer_value, "id-app-0");
  EXPECT_TRUE(envoy[2].ssl);

  EXPECT_EQ(ConnectionsOf(processes, 2).size(), 3u);  // alone in its pod
}

TEST(ConnectionsOfTest, ALargeChainedPodWithManyRemotePeers) {
  std::vector<MeterProcess> pod;
  for (uint64_t k = 0; k < 5; ++k) {
    pod.push_back({k, absl::StrCat("id-", k), "svc", "pod-0", absl::StrCat("p", k), "K8S_SERVICE"});
  }
  const ConnectionShape shape{40, true};
  auto middle = ConnectionsOf(pod, 2, shape);
  ASSERT_EQ(middle.size(), 2u + 1u + 40u);
  EXPECT_FALSE(middle[0].client);  // the previous process is the client
  EXPECT_EQ(middle[0].peer_value, "id-1");
  EXPECT_TRUE(middle[1].client);
  EXPECT_EQ(middle[1].peer_value, "id-3");
  EXPECT_EQ(middle[2].peer, PeerKind::kLocal);
  std::set<std::string> remotes;
  int http = 0;
  for (size_t i = 3; i < middle.size(); ++i) {
    EXPECT_EQ(middle[i].peer, PeerKind::kRemote);
    EXPECT_TRUE(middle[i].client);
    remotes.insert(middle[i].peer_value);
    http += middle[i].http ? 1 : 0;
  }
  EXPECT_EQ(remotes.size(), 40u);
  EXPECT_EQ(http, 20);
  EXPECT_EQ(ConnectionsOf(pod, 0, shape).size(), 1u + 1u + 40u);  // first of the chain
  // The other processes' remote addresses differ from this one's.
  EXPECT_FALSE(remotes.count(ConnectionsOf(pod, 3, shape)[5].peer_value));
}

TEST(RoverMeterModelTest, FirstElementCarriesTheDataSetAndTheContinuousMetersTheirLabels) {
  RoverMeterModel model(42, 5000);
  auto c = model.Report(Processes(), 0, 0, 1'700'000'000'000);
  ASSERT_GT(c.meterdata_size(), 0);
  EXPECT_EQ(c.meterdata(0).service(), "reviews.default");
  EXPECT_EQ(c.meterdata(0).serviceinstance(), "reviews-0");
  EXPECT_EQ(c.meterdata(0).timestamp(), 1'700'000'000'000);
  for (int i = 1; i < c.meterdata_size(); ++i) {
    EXPECT_TRUE(c.meterdata(i).service().empty());
    EXPECT_EQ(c.meterdata(i).timestamp(), 0);
  }

  std::map<std::string, int> continuous;
  for (const auto& d : c.meterdata()) {
    const std::string& name = NameOf(d);
    if (name.rfind("rover_con_p_", 0) != 0) continue;
    ++continuous[name];
    auto labels = LabelsOf(d);
    EXPECT_EQ(labels["process_name"], "java");
    EXPECT_EQ(labels["layer"], "MESH");
    bool http = name.find("http") != std::string::npos;
    EXPECT_EQ(labels.count("uri"), http ? 1u : 0u) << name;
  }
  EXPECT_THAT(
      continuous,
      ElementsAre(Pair("rover_con_p_http_avg_response_time", 2),
                  Pair("rover_con_p_http_error_rate", 2), Pair("rover_con_p_process_cpu", 1),
                  Pair("rover_con_p_process_thread_count", 1), Pair("rover_con_p_system_load", 1)));
  double cpu = Value(c, "rover_con_p_process_cpu", {});
  EXPECT_GT(cpu, 0);
  EXPECT_LE(cpu, 95);
}

TEST(RoverMeterModelTest, NetworkMetersNameTheirSideAndPeerAsRoverDoes) {
  RoverMeterModel model(42, 5000);
  auto processes = Processes();
  auto c = model.Report(processes, 1, 3, 1'700'000'000'000);  // the Envoy
  std::set<std::string> peers;
  for (const auto& d : c.meterdata()) {
    const std::string& name = NameOf(d);
    if (name.rfind("rover_net_p_", 0) != 0) continue;
    auto labels = LabelsOf(d);
    const std::string side = labels["side"];
    ASSERT_TRUE(side == "client" || side == "server") << name;
    const std::string remote = side == "client" ? "server" : "client";
    EXPECT_EQ(labels[side + "_process_id"], "id-envoy-0") << name;
    if (name.rfind("rover_net_p_http1_", 0) != 0) {
      EXPECT_EQ(name.rfind("rover_net_p_" + side + "_", 0), 0u) << name;
    }
    if (name.find("_duration_") != std::string::npos) {
      EXPECT_NE(name.find("http1_" + side + "_duration"), std::string::npos) << name;
    }
    EXPECT_TRUE(labels["protocol"] == "http" || labels["protocol"] == "tcp");
    EXPECT_TRUE(labels["is_ssl"] == "true" || labels["is_ssl"] == "false");
    EXPECT_EQ(labels.count("code"), name == "rover_net_p_http1_response_status_counter" ? 1u : 0u);
    if (labels.count(remote + "_process_id")) {
      peers.insert("process " + labels[remote + "_process_id"]);
    } else if (labels[remote + "_local"] == "true") {
      peers.insert("local");
    } else {
      peers.insert("address " + labels[remote + "_address"]);
    }
  }
  EXPECT_THAT(peers, ElementsAre("address 10.96.0.2:443", "address 10.97.0.2:3306", "local",
                                 "process id-app-0"));
}

TEST(RoverMeterModelTest, HistogramsCarryEveryBucketAndTheirTotalsMatchTheCounters) {
  RoverMeterModel model(7, 5000);
  auto processes = Processes();
  for (size_t p = 0; p < processes.size(); ++p) {
    auto c = model.Report(processes, p, 1, 1'700'000'000'000);
    int histograms = 0;
    for (const auto& d : c.meterdata()) {
      if (!d.has_histogram()) continue;
      ++histograms;
      const auto& h = d.histogram();
      const std::string& name = h.name();
      auto labels = LabelsOf(d);
      for (int i = 1; i < h.values_size(); ++i) {
        EXPECT_LT(h.values(i - 1).bucket(), h.values(i).bucket()) << name;
      }
      const std::string side = labels["side"];
      const std::string prefix = "rover_net_p_" + side + "_";
      std::string counter;
      size_t buckets = 0;
      if (name == prefix + "write_rtt_histogram") {
        counter = prefix + "write_counts_counter";
        buckets = SocketBucketsUs().size();
      } else if (name == prefix + "write_exe_time_histogram") {
        counter = prefix + "write_counts_counter";
        buckets = SocketBucketsNs().size();
      } else if (name == prefix + "read_exe_time_histogram") {
        counter = prefix + "read_counts_counter";
        buckets = SocketBucketsNs().size();
      } else if (name.find("package_size_histogram") != std::string::npos) {
        counter = "rover_net_p_http1_request_counter";
        buckets = HttpPackageSizeBuckets().size();
      } else if (name == "rover_net_p_http1_" + side + "_duration_histogram") {
        counter = "rover_net_p_http1_request_counter";
        buckets = HttpDurationBuckets().size();
      } else {
        ADD_FAILURE() << "unexpected histogram " << name;
        continue;
      }
      EXPECT_EQ(static_cast<size_t>(h.values_size()), buckets) << name;
      // The counter of the same connection has the same labels.
      EXPECT_EQ(Total(h), static_cast<int64_t>(Value(c, counter, labels))) << name;
    }
    EXPECT_GT(histograms, 0);
  }
}

TEST(RoverMeterModelTest, StatusCountersAddUpToTheRequests) {
  RoverMeterModel model(3, 5000);
  auto c = model.Report(Processes(), 0, 0, 1'700'000'000'000);
  std::map<std::string, double> by_address;  // remote address → Σ status counts
  for (const auto& d : c.meterdata()) {
    if (!d.has_singlevalue() ||
        d.singlevalue().name() != "rover_net_p_http1_response_status_counter") {
      continue;
    }
    auto labels = LabelsOf(d);
    const std::string peer = labels["side"] == "client" ? labels["server_process_id"] : "";
    by_address[labels["server_address"] + labels["client_local"] + peer] += d.singlevalue().value();
  }
  ASSERT_EQ(by_address.size(), 3u);  // the sidecar, the local client, the remote web service
  EXPECT_EQ(by_address["10.96.0.1:8080"],
            Value(c, "rover_net_p_http1_request_counter", {{"server_address", "10.96.0.1:8080"}}));
  EXPECT_EQ(by_address["true"],
            Value(c, "rover_net_p_http1_request_counter", {{"client_local", "true"}}));
}

TEST(RoverMeterModelTest, TheSameSeedRepeatsItselfAndRoundsDiffer) {
  auto processes = Processes();
  RoverMeterModel a(11, 5000), b(11, 5000), other(12, 5000);
  const int64_t t = 1'700'000'000'000;
  EXPECT_EQ(a.Report(processes, 2, 5, t).SerializeAsString(),
            b.Report(processes, 2, 5, t).SerializeAsString());
  EXPECT_NE(a.Report(processes, 2, 5, t).SerializeAsString(),
            a.Report(processes, 2, 6, t).SerializeAsString());
  EXPECT_NE(a.Report(processes, 2, 5, t).SerializeAsString(),
            other.Report(processes, 2, 5, t).SerializeAsString());
  // A process's values follow its key, not its place in the list.
  std::vector<MeterProcess> alone = {processes[2]};
  EXPECT_EQ(a.Report(processes, 2, 5, t).SerializeAsString(),
            a.Report(alone, 0, 5, t).SerializeAsString());
}

TEST(RoverMeterModelTest, LongerIntervalsCountMore) {
  auto processes = Processes();
  RoverMeterModel five(1, 5000), sixty(1, 60'000);
  const std::map<std::string, std::string> remote = {{"server_address", "10.97.0.1:3306"}};
  EXPECT_GT(
      Value(sixty.Report(processes, 0, 0, 1), "rover_net_p_client_write_counts_counter", remote),
      Value(five.Report(processes, 0, 0, 1), "rover_net_p_client_write_counts_counter", remote));
}

}  // namespace
}  // namespace stackhouse::sim
