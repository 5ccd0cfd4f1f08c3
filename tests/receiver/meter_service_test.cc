#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "language-agent/Meter.grpc.pb.h"
#include "language-agent/MeterCompat.grpc.pb.h"
#include "metrics/meter_analyzer.h"
#include "metrics/metric_catalog.h"
#include "model/ids.h"
#include "receiver/receiver_server.h"

namespace stackhouse::receiver {
namespace {

namespace v3 = skywalking::v3;
using ::testing::HasSubstr;
using testing::ReceiverServer;

constexpr int64_t kMinute = 60'000;
// The minute the data sets are stamped with: one minute before the server's clock.
constexpr int64_t kDataMinute = ReceiverServer::kNow - kMinute - ReceiverServer::kNow % kMinute;

v3::MeterData Single(const std::string& name, double value,
                     std::vector<std::pair<std::string, std::string>> labels) {
  v3::MeterData data;
  data.mutable_singlevalue()->set_name(name);
  data.mutable_singlevalue()->set_value(value);
  for (const auto& [k, v] : labels) {
    auto* label = data.mutable_singlevalue()->add_labels();
    label->set_name(k);
    label->set_value(v);
  }
  return data;
}

class MeterServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = server_.RegisterRoverProcess("K8S_SERVICE", "svc", "pod", "app");
    ASSERT_FALSE(app_.empty());
  }

  // A client-side network meter of `app` towards an unprofiled remote peer.
  v3::MeterData Network(const std::string& meter, double value,
                        const std::string& client = "") const {
    return Single("rover_net_p_client_" + meter, value,
                  {{"side", "client"},
                   {"client_process_id", client.empty() ? app_ : client},
                   {"server_address", "10.0.0.9:80"},
                   {"protocol", "http"},
                   {"is_ssl", "false"}});
  }

  static void StartDataSet(v3::MeterData* data, int64_t timestamp = kDataMinute + 5000) {
    data->set_service("svc");
    data->set_serviceinstance("pod");
    data->set_timestamp(timestamp);
  }

  grpc::Status CollectBatch(const std::vector<v3::MeterDataCollection>& collections) {
    auto stub = v3::MeterReportService::NewStub(server_.channel_shared());
    grpc::ClientContext context;
    v3::Commands response;
    auto writer = stub->collectBatch(&context, &response);
    for (const auto& c : collections) writer->Write(c);
    writer->WritesDone();
    return writer->Finish();
  }

  template <typename Stub>
  grpc::Status Collect(Stub* stub, const std::vector<v3::MeterData>& stream) {
    grpc::ClientContext context;
    v3::Commands response;
    auto writer = stub->collect(&context, &response);
    for (const auto& d : stream) writer->Write(d);
    writer->WritesDone();
    return writer->Finish();
  }

  grpc::Status Collect(const std::vector<v3::MeterData>& stream) {
    auto stub = v3::MeterReportService::NewStub(server_.channel_shared());
    return Collect(stub.get(), stream);
  }

  std::string RemoteId() const {
    return model::ProcessId(metrics::kUnknownRemote,
                            model::InstanceId(model::ServiceId("svc"), "pod"));
  }

  // The minute row of `metric` for `entity`, or nullopt.
  std::optional<metrics::Accumulator> Row(const char* metric, const std::string& entity,
                                          int64_t minute = kDataMinute,
                                          const std::string& label = "") {
    auto rows = server_.metric_store().ReadRows(*metrics::FindMetric(metric), entity,
                                                {metrics::Step::kMinute, {minute}});
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok()) return std::nullopt;
    for (const auto& s : *rows) {
      if (s.label_value == label) return s.rows[0];
    }
    return std::nullopt;
  }

  std::string Metrics() { return server_.metrics().RenderPrometheus(); }

  ReceiverServer server_;
  std::string app_;
};

TEST_F(MeterServiceTest, RoverNetworkMetersBecomeRelationMetricsWithAVirtualPeer) {
  v3::MeterDataCollection first, second;
  *first.add_meterdata() = Network("write_counts_counter", 5);
  StartDataSet(first.mutable_meterdata(0));
  *first.add_meterdata() = Network("write_counts_counter", 2);
  *second.add_meterdata() = Network("write_counts_counter", 4);
  StartDataSet(second.mutable_meterdata(0), kDataMinute + 30000);
  ASSERT_TRUE(CollectBatch({first, second}).ok());

  const std::string relation = model::ProcessRelationId(app_, RemoteId());
  auto row = Row("process_relation_client_write_cpm", relation);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->sum, 11);

  // The peer is a VIRTUAL process of the reporting instance, with its layer.
  auto peer = server_.ebpf().GetProcess(RemoteId());
  ASSERT_TRUE(peer.has_value());
  EXPECT_EQ(peer->name, "UNKNOWN_REMOTE");
  EXPECT_EQ(peer->detect_type, model::DetectType::kVirtual);
  EXPECT_EQ(peer->layer, "K8S_SERVICE");

  auto relations = server_.metric_store().ReadRelations(
      model::InstanceId(model::ServiceId("svc"), "pod"), 0, INT64_MAX);
  ASSERT_TRUE(relations.ok());
  ASSERT_EQ(relations->size(), 1u);
  EXPECT_EQ((*relations)[0].client_process_id, app_);
  EXPECT_EQ((*relations)[0].server_process_id, RemoteId());
  EXPECT_EQ((*relations)[0].component_id, 49);
  EXPECT_FALSE((*relations)[0].server_side);
}

TEST_F(MeterServiceTest, CollectStreamIsOneDataSetAndTheCompatServiceServesIt) {
  // Continuous profiling: CPU 25.5 % and 24.5 % of one process in one data set → avg × 10000.
  std::vector<v3::MeterData> stream = {
      Single("rover_con_p_process_cpu", 0.255, {{"process_name", "app"}, {"layer", "K8S_SERVICE"}}),
      Single("rover_con_p_process_cpu", 0.245,
             {{"process_name", "app"}, {"layer", "K8S_SERVICE"}})};
  StartDataSet(&stream[0]);
  auto compat = ::MeterReportService::NewStub(server_.channel_shared());
  ASSERT_TRUE(Collect(compat.get(), stream).ok());
  auto row = Row("continuous_profiling_process_cpu", app_);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->sum, 2500);
  EXPECT_EQ(row->count, 1);
}

TEST_F(MeterServiceTest, LanguageAgentMetersAreAcceptedAndCountedWithoutChecks) {
  std::vector<v3::MeterData> stream = {
      Single("instance_pvm_cpu", 12, {}),
      Single("instance_pvm_mem", std::numeric_limits<double>::quiet_NaN(), {})};
  StartDataSet(&stream[0], 1);  // a clock decades off is not looked at for unused meters
  ASSERT_TRUE(Collect(stream).ok());
  EXPECT_THAT(Metrics(), HasSubstr("stackhouse_meter_samples_ignored_total 2"));
  EXPECT_THAT(Metrics(), HasSubstr("stackhouse_meter_samples_received_total 2"));
}

TEST_F(MeterServiceTest, AnUnknownProcessIdInALabelIsDroppedAndCounted) {
  v3::MeterDataCollection c;
  *c.add_meterdata() = Network("write_counts_counter", 5, std::string(64, 'f'));
  StartDataSet(c.mutable_meterdata(0));
  ASSERT_TRUE(CollectBatch({c}).ok());
  EXPECT_FALSE(Row("process_relation_client_write_cpm",
                   model::ProcessRelationId(std::string(64, 'f'), RemoteId()))
                   .has_value());
  EXPECT_FALSE(server_.ebpf().GetProcess(RemoteId()).has_value());
  EXPECT_THAT(Metrics(),
              HasSubstr("stackhouse_metric_updates_dropped_total{reason=\"unknown_process\"} 1"));
}

TEST_F(MeterServiceTest, KnownAndUnknownProcessesTakingTurnsEachKeepTheirOwnFate) {
  // The service looks a run of one relation's updates up once: runs of a known and an unknown
  // client, taking turns, must each be kept or dropped on their own.
  const std::string ghost(64, 'e');
  v3::MeterDataCollection c;
  *c.add_meterdata() = Network("write_counts_counter", 1);
  *c.add_meterdata() = Network("write_counts_counter", 2, ghost);
  *c.add_meterdata() = Network("write_bytes_counter", 10);
  *c.add_meterdata() = Network("write_bytes_counter", 20, ghost);
  *c.add_meterdata() = Network("write_counts_counter", 4);
  StartDataSet(c.mutable_meterdata(0));
  ASSERT_TRUE(CollectBatch({c}).ok());
  const std::string known = model::ProcessRelationId(app_, RemoteId());
  auto counts = Row("process_relation_client_write_cpm", known);
  ASSERT_TRUE(counts.has_value());
  EXPECT_EQ(counts->sum, 5);
  auto bytes = Row("process_relation_client_write_total_bytes", known);
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(bytes->sum, 10);
  EXPECT_FALSE(Row("process_relation_client_write_cpm", model::ProcessRelationId(ghost, RemoteId()))
                   .has_value());
  EXPECT_THAT(Metrics(),
              HasSubstr("stackhouse_metric_updates_dropped_total{reason=\"unknown_process\"} 2"));
}

TEST_F(MeterServiceTest, BadMetersEndTheStreamNamingTheMessageAndKeepWhatCameBefore) {
  struct Case {
    const char* what;
    v3::MeterData bad;
    const char* message;
  };
  std::vector<Case> cases;
  {
    v3::MeterData d = Single("", 1, {});
    cases.push_back({"no name", d, "message 1 is a meter without a name"});
  }
  { cases.push_back({"no value", v3::MeterData(), "message 1 carries neither"}); }
  {
    v3::MeterData d = Network("write_counts_counter", std::numeric_limits<double>::infinity());
    cases.push_back({"infinite", d, "(not a finite number)"});
  }
  {
    v3::MeterData d = Network("write_counts_counter", 1);
    for (int i = 0; i < 100'000; ++i) d.mutable_singlevalue()->add_labels()->set_name("x");
    cases.push_back({"100,000 labels", d, "has 100005 labels (at most 64)"});
  }
  {
    v3::MeterData d;
    auto* h = d.mutable_histogram();
    h->set_name("rover_net_p_client_write_rtt_histogram");
    auto* b1 = h->add_values();
    b1->set_bucket(10);
    b1->set_count(1);
    auto* b2 = h->add_values();
    b2->set_bucket(5);
    b2->set_count(1);
    cases.push_back({"unsorted buckets", d, "bucket 1 does not lie above bucket 0"});
    b2->set_bucket(20);
    b2->set_count(-3);
    cases.push_back({"negative count", d, "bucket 1 has the count -3 (negative)"});
  }
  {
    v3::MeterData d = Network("write_counts_counter", 1);
    d.set_timestamp(ReceiverServer::kNow + 3LL * 365 * 24 * 3600 * 1000);
    cases.push_back({"years ahead", d, "ahead of the server's clock"});
  }
  for (Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::vector<v3::MeterData> stream = {Network("read_counts_counter", 1), c.bad};
    StartDataSet(&stream[0]);
    const auto before =
        Row("process_relation_client_read_cpm", model::ProcessRelationId(app_, RemoteId()));
    grpc::Status status = Collect(stream);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
    EXPECT_THAT(status.error_message(), HasSubstr("collect: message 1"));
    // The message before the bad one was stored.
    const auto after =
        Row("process_relation_client_read_cpm", model::ProcessRelationId(app_, RemoteId()));
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->sum, (before ? before->sum : 0) + 1);
  }
}

TEST_F(MeterServiceTest, CollectBatchNamesTheCollectionAndElement) {
  v3::MeterDataCollection good, bad;
  *good.add_meterdata() = Network("write_counts_counter", 3);
  StartDataSet(good.mutable_meterdata(0));
  *bad.add_meterdata() = Network("write_counts_counter", 1);
  StartDataSet(bad.mutable_meterdata(0));
  *bad.add_meterdata() = Single("", 1, {});
  grpc::Status status = CollectBatch({good, bad});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("collectBatch: message 1 element 1 is a meter without a name"));
  auto row = Row("process_relation_client_write_cpm", model::ProcessRelationId(app_, RemoteId()));
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->sum, 3);  // the first collection only
}

}  // namespace
}  // namespace stackhouse::receiver
