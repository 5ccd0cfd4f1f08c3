// execExpression and readRecords over a fake MetricSource: what the golden cases cannot show
// over the real store (no store at all, sampled records, a failing read), hour buckets across a
// DST change, and every expression of the shipped dashboards.
#include <stdlib.h>
#include <time.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "config/config.h"
#include "fakes/fake_metric_source.h"
#include "graphql/http_endpoint.h"
#include "gtest/gtest.h"
#include "model/ids.h"
#include "query/query_service.h"
#include "rapidjson/document.h"
#include "service/default_ui_templates.h"

namespace stackhouse::query {
namespace {

constexpr char kFields[] =
    "{ type results { metric { labels { key value } } values { id value traceID owner { scope } } "
    "} error }";

// The relation entity of the requests, as booster-ui sends it.
constexpr char kEntity[] =
    R"({"serviceName":"svc","normal":true,"serviceInstanceName":"pod-1","processName":"app",)"
    R"("destServiceName":"svc","destNormal":true,"destServiceInstanceName":"pod-1",)"
    R"("destProcessName":"UNKNOWN_REMOTE"})";

std::string RelationId() {
  const std::string instance = model::InstanceId(model::ServiceId("svc"), "pod-1");
  return model::ProcessRelationId(model::ProcessId("app", instance),
                                  model::ProcessId("UNKNOWN_REMOTE", instance));
}

// Sets TZ for the test's lifetime (durations are parsed in the local zone).
class ScopedTz {
 public:
  explicit ScopedTz(const char* tz) {
    if (const char* old = getenv("TZ")) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTz() {
    if (old_.empty()) {
      unsetenv("TZ");
    } else {
      setenv("TZ", old_.c_str(), 1);
    }
    tzset();
  }

 private:
  std::string old_;
};

class MetricsResolversTest : public ::testing::Test {
 protected:
  // POSTs `query` with `variables` to an endpoint over `source` and parses the body.
  rapidjson::Document Post(metrics::MetricSource* source, const std::string& query,
                           const std::string& variables, int* status = nullptr) {
    QueryDeps deps;
    deps.config = &config_;
    deps.metric_source = source;
    auto endpoint = BuildQueryEndpoint(deps);
    EXPECT_TRUE(endpoint.ok()) << endpoint.status();
    std::string body = "{\"query\":\"" + query + "\",\"variables\":" + variables + "}";
    graphql::HttpRequest request;
    request.method = "POST";
    request.content_type = "application/json";
    request.accept = "application/json";
    request.body = body;
    graphql::HttpResponse response = (*endpoint)->Handle(request);
    if (status != nullptr) *status = response.status;
    rapidjson::Document doc;
    doc.Parse(response.body.c_str());
    EXPECT_FALSE(doc.HasParseError()) << response.body;
    return doc;
  }

  // execExpression of `expression` for the relation entity over `duration` (a JSON object).
  rapidjson::Document Exec(metrics::MetricSource* source, const std::string& expression,
                           const std::string& duration =
                               R"({"start":"2026-06-16 1000","end":"2026-06-16 1001",)"
                               R"("step":"MINUTE"})") {
    return Post(source,
                absl::StrCat("query ($e: String!, $entity: Entity!, $d: Duration!) { r: "
                             "execExpression(expression: $e, entity: $entity, duration: $d) ",
                             kFields, " }"),
                absl::StrCat(R"({"e":")", expression, R"(","entity":)", kEntity, R"(,"d":)",
                             duration, "}"));
  }

  ScopedTz utc_{"UTC"};
  config::Config config_;
  fakes::FakeMetricSource source_;
};

TEST_F(MetricsResolversTest, WithoutAStoreTheErrorSaysSo) {
  int status = 0;
  rapidjson::Document doc = Exec(nullptr, "process_relation_client_write_cpm");
  ASSERT_FALSE(doc.HasMember("errors"));
  const auto& r = doc["data"]["r"];
  EXPECT_STREQ(r["type"].GetString(), "UNKNOWN");
  EXPECT_EQ(r["results"].Size(), 0u);
  EXPECT_STREQ(r["error"].GetString(), "Metrics are not available: the server has no metric store");

  doc = Post(nullptr,
             "query ($c: RecordCondition!) { readRecords(condition: $c, duration: {start: "
             "\\\"2026-06-16 1000\\\", end: \\\"2026-06-16 1001\\\", step: MINUTE}) { name } }",
             absl::StrCat(R"({"c":{"name":"sampled_slow_trace_record","parentEntity":)", kEntity,
                          R"(,"topN":5,"order":"DES"}})"),
             &status);
  EXPECT_EQ(status, 200);
  ASSERT_TRUE(doc.HasMember("errors"));
  EXPECT_NE(std::string(doc["errors"][0]["message"].GetString()).find("no metric store"),
            std::string::npos);
}

TEST_F(MetricsResolversTest, TopNIsARecordListWithTraces) {
  constexpr int64_t k1000 = 1781604000000;  // 2026-06-16 10:00 UTC
  source_.PutRecords("sampled_slow_trace_record", RelationId(),
                     {{"/orders", "trace-1", 1200, k1000 + 1}, {"/pay", "trace-2", 900, k1000}});
  rapidjson::Document doc = Exec(&source_, "top_n(sampled_slow_trace_record,50,DES)/1000");
  ASSERT_FALSE(doc.HasMember("errors"));
  const auto& r = doc["data"]["r"];
  EXPECT_STREQ(r["type"].GetString(), "RECORD_LIST");
  ASSERT_EQ(r["results"].Size(), 1u);
  EXPECT_EQ(r["results"][0]["metric"]["labels"].Size(), 0u);
  const auto& values = r["results"][0]["values"];
  ASSERT_EQ(values.Size(), 2u);
  EXPECT_STREQ(values[0]["id"].GetString(), "/orders");
  EXPECT_STREQ(values[0]["value"].GetString(), "1.2");
  EXPECT_STREQ(values[0]["traceID"].GetString(), "trace-1");
  EXPECT_TRUE(values[0]["owner"].IsNull());
  EXPECT_STREQ(values[1]["value"].GetString(), "0.9");
  // The duration's minutes, the last one inclusive.
  EXPECT_EQ(source_.last_range, std::make_pair(k1000, k1000 + 120000));
  EXPECT_EQ(source_.last_limit, 50);

  doc = Post(&source_,
             "query ($c: RecordCondition!) { result: readRecords(condition: $c, duration: "
             "{start: \\\"2026-06-16 1000\\\", end: \\\"2026-06-16 1001\\\", step: MINUTE}) { "
             "name id value refId } }",
             absl::StrCat(R"({"c":{"name":"sampled_slow_trace_record","parentEntity":)", kEntity,
                          R"(,"topN":10,"order":"ASC"}})"));
  ASSERT_FALSE(doc.HasMember("errors"));
  const auto& records = doc["data"]["result"];
  ASSERT_EQ(records.Size(), 2u);
  EXPECT_STREQ(records[0]["name"].GetString(), "/orders");
  EXPECT_STREQ(records[0]["id"].GetString(), "trace-1");
  EXPECT_STREQ(records[0]["value"].GetString(), "1200");
  EXPECT_STREQ(records[0]["refId"].GetString(), "trace-1");
  EXPECT_EQ(source_.last_limit, 10);
  EXPECT_TRUE(source_.last_ascending);
}

TEST_F(MetricsResolversTest, AFailingReadIsAnErrorOfThatFieldOnly) {
  source_.fail = true;
  int status = 0;
  rapidjson::Document doc = Post(
      &source_,
      "query ($entity: Entity!) { a: execExpression(expression: "
      "\\\"process_relation_client_write_cpm\\\", entity: $entity, duration: {start: "
      "\\\"2026-06-16 1000\\\", end: \\\"2026-06-16 1001\\\", step: MINUTE}) { type error } b: "
      "execExpression(expression: \\\"2 * 21\\\", entity: $entity, duration: {start: "
      "\\\"2026-06-16 1000\\\", end: \\\"2026-06-16 1001\\\", step: MINUTE}) { type results { "
      "values { value } } } }",
      absl::StrCat(R"({"entity":)", kEntity, "}"), &status);
  EXPECT_EQ(status, 200);
  ASSERT_FALSE(doc.HasMember("errors"));
  EXPECT_STREQ(doc["data"]["a"]["error"].GetString(),
               "Reading process_relation_client_write_cpm: disk on fire");
  EXPECT_STREQ(doc["data"]["b"]["type"].GetString(), "SINGLE_VALUE");
  EXPECT_STREQ(doc["data"]["b"]["results"][0]["values"][0]["value"].GetString(), "42");
}

TEST_F(MetricsResolversTest, HourBucketsAcrossTheEndOfSummerTime) {
  ScopedTz berlin("Europe/Berlin");
  // 2023-10-29: 02:00-03:00 happens twice (CEST, then CET); its rows share one bucket, as the
  // store's hour rows do. 01:00 CEST = 2023-10-28 23:00 UTC = 1698534000000.
  constexpr int64_t k0100 = 1698534000000;
  source_.Put("process_relation_client_write_cpm", RelationId(), "", k0100, {60, 0, {}});
  source_.Put("process_relation_client_write_cpm", RelationId(), "", k0100 + 3600000, {120, 0, {}});
  source_.Put("process_relation_client_write_cpm", RelationId(), "", k0100 + 3 * 3600000,
              {180, 0, {}});
  rapidjson::Document doc =
      Exec(&source_, "process_relation_client_write_cpm",
           R"({"start":"2023-10-29 01","end":"2023-10-29 03","step":"HOUR"})");
  ASSERT_FALSE(doc.HasMember("errors"));
  const auto& values = doc["data"]["r"]["results"][0]["values"];
  ASSERT_EQ(values.Size(), 3u);
  EXPECT_STREQ(values[0]["id"].GetString(), absl::StrCat(k0100).c_str());
  EXPECT_STREQ(values[1]["id"].GetString(), absl::StrCat(k0100 + 3600000).c_str());
  EXPECT_STREQ(values[2]["id"].GetString(), absl::StrCat(k0100 + 3 * 3600000).c_str());
  EXPECT_STREQ(values[0]["value"].GetString(), "1");
  EXPECT_STREQ(values[1]["value"].GetString(), "2");
  EXPECT_STREQ(values[2]["value"].GetString(), "3");
}

// The "expressions" strings anywhere under `node` (widgets, tabs' children).
void CollectExpressions(const rapidjson::Value& node, std::vector<std::string>* out) {
  if (node.IsArray()) {
    for (const auto& item : node.GetArray()) CollectExpressions(item, out);
  } else if (node.IsObject()) {
    for (const auto& member : node.GetObject()) {
      if (std::string(member.name.GetString()) == "expressions" && member.value.IsArray()) {
        for (const auto& e : member.value.GetArray()) {
          if (e.IsString()) out->push_back(e.GetString());
        }
      } else {
        CollectExpressions(member.value, out);
      }
    }
  }
}

TEST_F(MetricsResolversTest, EveryExpressionOfTheDefaultDashboardsEvaluates) {
  auto templates = service::DefaultUiTemplates();
  ASSERT_TRUE(templates.ok()) << templates.status();
  std::vector<std::string> expressions;
  for (const storage::UiTemplate& t : *templates) {
    rapidjson::Document doc;
    doc.Parse(t.configuration.c_str());
    ASSERT_FALSE(doc.HasParseError()) << t.id;
    CollectExpressions(doc, &expressions);
  }
  ASSERT_FALSE(expressions.empty());
  metrics::MqeEntity process;
  process.service_name = "svc";
  process.normal = true;
  process.service_instance_name = "pod-1";
  process.process_name = "app";
  metrics::MqeEntity relation = process;
  relation.dest_service_name = "svc";
  relation.dest_normal = true;
  relation.dest_service_instance_name = "pod-1";
  relation.dest_process_name = "UNKNOWN_REMOTE";
  metrics::TimeBuckets buckets;
  buckets.starts_ms = {1781604000000};
  for (const std::string& e : expressions) {
    const bool of_process = e.rfind("continuous_profiling_", 0) == 0;
    metrics::ExpressionResult r =
        metrics::EvaluateExpression(e, of_process ? process : relation, buckets, &source_);
    EXPECT_FALSE(r.error.has_value()) << e << ": " << *r.error;
    EXPECT_NE(r.type, metrics::ResultType::kUnknown) << e;
  }
}

}  // namespace
}  // namespace stackhouse::query
