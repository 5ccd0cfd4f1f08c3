#include "service/default_ui_templates.h"

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/metric_catalog.h"
#include "metrics/mqe.h"
#include "rapidjson/document.h"

namespace stackhouse::service {
namespace {

using ::testing::UnorderedElementsAreArray;

// A metric source without rows: an expression then fails only if it is itself wrong.
class NoRows : public metrics::MetricSource {
 public:
  absl::StatusOr<std::vector<metrics::LabeledRows>> ReadRows(const metrics::MetricDefinition&,
                                                             absl::string_view,
                                                             const metrics::TimeBuckets&) override {
    return std::vector<metrics::LabeledRows>{};
  }
  absl::StatusOr<std::vector<metrics::SampledRecord>> TopRecords(absl::string_view,
                                                                 absl::string_view, int64_t,
                                                                 int64_t, int, bool) override {
    return std::vector<metrics::SampledRecord>{};
  }
};

// What booster-ui needs of a dashboard, and the links and expressions of its widgets.
struct Dashboard {
  std::string id, name, layer, entity;
  bool is_root = false;
  std::set<std::string> widget_types;  // "Widget" as the graph type: "Widget/Line"
  // (link field, dashboard name) of every widget that links to another dashboard.
  std::vector<std::pair<std::string, std::string>> links;
  std::vector<std::string> expressions;
};

std::string StringField(const rapidjson::Value& v, const char* field) {
  auto it = v.FindMember(field);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// Checks one widget of `d` (and the widgets of its tabs) the way booster-ui reads them.
void CheckWidget(const rapidjson::Value& w, Dashboard* d) {
  ASSERT_TRUE(w.IsObject()) << d->id;
  for (const char* field : {"x", "y", "w", "h"}) {
    ASSERT_TRUE(w.HasMember(field) && w[field].IsInt()) << d->id << " widget lacks " << field;
  }
  ASSERT_FALSE(StringField(w, "i").empty()) << d->id;
  const std::string type = StringField(w, "type");
  static const std::set<std::string> kTypes = {
      "Tab",         "Widget", "Text", "Profile", "Ebpf", "NetworkProfiling", "ContinuousProfiling",
      "TaskTimeline"};
  ASSERT_TRUE(kTypes.contains(type)) << d->id << ": widget type '" << type << "'";
  std::string graph_type;
  if (w.HasMember("graph")) {
    ASSERT_TRUE(w["graph"].IsObject()) << d->id;
    graph_type = StringField(w["graph"], "type");
  }
  d->widget_types.insert(type == "Widget" ? absl::StrCat("Widget/", graph_type) : type);
  if (type == "Widget") {
    ASSERT_FALSE(graph_type.empty()) << d->id << ": a Widget needs graph.type";
  }
  if (type == "Text") {
    ASSERT_FALSE(StringField(w["graph"], "content").empty()) << d->id;
  }

  if (graph_type == "ServiceList" || graph_type == "InstanceList") {
    // Stackhouse computes no service or instance metrics: the lists have no metric columns.
    EXPECT_FALSE(w.HasMember("expressions") || w.HasMember("metrics")) << d->id;
    d->links.emplace_back(absl::StrCat(graph_type, ".dashboardName"),
                          StringField(w["graph"], "dashboardName"));
  }
  for (const char* field : {"linkDashboard", "processDashboardName", "instanceDashboardName"}) {
    if (w.HasMember(field)) d->links.emplace_back(field, StringField(w, field));
  }
  if (w.HasMember("expressions")) {
    ASSERT_TRUE(w["expressions"].IsArray()) << d->id;
    ASSERT_EQ(w["expressions"].Size(), 1u) << d->id;
    ASSERT_TRUE(w.HasMember("typesOfMQE") && w["typesOfMQE"].IsArray()) << d->id;
    for (const auto& e : w["expressions"].GetArray()) {
      ASSERT_TRUE(e.IsString()) << d->id;
      d->expressions.push_back(e.GetString());
    }
  }
  if (type == "Tab") {
    ASSERT_TRUE(w.HasMember("children") && w["children"].IsArray()) << d->id;
    ASSERT_FALSE(w["children"].Empty()) << d->id;
    for (const auto& tab : w["children"].GetArray()) {
      ASSERT_FALSE(StringField(tab, "name").empty()) << d->id;
      ASSERT_TRUE(tab.HasMember("children") && tab["children"].IsArray()) << d->id;
      d->widget_types.insert(absl::StrCat("Tab:", StringField(tab, "name")));
      for (const auto& child : tab["children"].GetArray()) CheckWidget(child, d);
    }
  }
}

std::vector<Dashboard> Dashboards() {
  auto defaults = DefaultUiTemplates();
  EXPECT_TRUE(defaults.ok()) << defaults.status();
  std::vector<Dashboard> out;
  if (!defaults.ok()) return out;
  for (const storage::UiTemplate& t : *defaults) {
    rapidjson::Document doc;
    doc.Parse(t.configuration.c_str());
    EXPECT_FALSE(doc.HasParseError()) << t.id;
    if (doc.HasParseError()) continue;
    Dashboard d;
    d.id = StringField(doc, "id");
    d.name = StringField(doc, "name");
    d.layer = StringField(doc, "layer");
    d.entity = StringField(doc, "entity");
    EXPECT_EQ(d.id, t.id);
    EXPECT_TRUE(doc.HasMember("isRoot") && doc["isRoot"].IsBool()) << t.id;
    d.is_root = doc.HasMember("isRoot") && doc["isRoot"].IsTrue();
    EXPECT_TRUE(doc.HasMember("children") && doc["children"].IsArray()) << t.id;
    if (doc.HasMember("children") && doc["children"].IsArray()) {
      for (const auto& w : doc["children"].GetArray()) CheckWidget(w, &d);
    }
    out.push_back(std::move(d));
  }
  return out;
}

TEST(DefaultUiTemplatesTest, EveryDashboardHasWhatBoosterUiNeeds) {
  std::vector<Dashboard> dashboards = Dashboards();
  ASSERT_EQ(dashboards.size(), 22u);
  const std::set<std::string> kLayers = {"GENERAL", "K8S_SERVICE", "MESH", "MESH_DP", "OS_LINUX"};
  const std::set<std::string> kEntities = {"All", "Service", "ServiceInstance", "Process",
                                           "ProcessRelation"};
  std::set<std::tuple<std::string, std::string, std::string>> keys;
  std::map<std::string, int> roots;
  for (const Dashboard& d : dashboards) {
    EXPECT_TRUE(d.id.starts_with("stackhouse-")) << d.id;
    EXPECT_FALSE(d.name.empty()) << d.id;
    EXPECT_TRUE(kLayers.contains(d.layer)) << d.id;
    EXPECT_TRUE(kEntities.contains(d.entity)) << d.id;
    EXPECT_TRUE(keys.emplace(d.layer, d.entity, d.name).second) << "two dashboards are " << d.id;
    EXPECT_EQ(d.is_root, d.entity == "All") << d.id;
    if (d.is_root) ++roots[d.layer];
  }
  for (const std::string& layer : kLayers) EXPECT_EQ(roots[layer], 1) << layer;
}

TEST(DefaultUiTemplatesTest, EveryLinkNamesADashboardOfTheSameLayer) {
  std::vector<Dashboard> dashboards = Dashboards();
  const std::map<std::string, std::string> kEntityOfLink = {
      {"ServiceList.dashboardName", "Service"},
      {"InstanceList.dashboardName", "ServiceInstance"},
      {"linkDashboard", "ProcessRelation"},
      {"processDashboardName", "Process"},
      {"instanceDashboardName", "ServiceInstance"},
  };
  int links = 0;
  for (const Dashboard& d : dashboards) {
    for (const auto& [field, name] : d.links) {
      ++links;
      ASSERT_TRUE(kEntityOfLink.contains(field)) << field;
      bool found = false;
      for (const Dashboard& target : dashboards) {
        found = found || (target.layer == d.layer && target.name == name &&
                          target.entity == kEntityOfLink.at(field));
      }
      EXPECT_TRUE(found) << d.id << ": " << field << " '" << name << "' names no "
                         << kEntityOfLink.at(field) << " dashboard of " << d.layer;
    }
  }
  EXPECT_GE(links, 20);
}

TEST(DefaultUiTemplatesTest, EveryExpressionEvaluatesAndNamesAKnownMetric) {
  metrics::MqeEntity entity;  // complete for every scope: only the expression can be wrong
  entity.service_name = entity.dest_service_name = "svc";
  entity.normal = entity.dest_normal = true;
  entity.service_instance_name = entity.dest_service_instance_name = "inst";
  entity.process_name = entity.dest_process_name = "proc";
  const metrics::TimeBuckets buckets{metrics::Step::kMinute, {1700000000000, 1700000060000}};
  NoRows source;
  int expressions = 0;
  for (const Dashboard& d : Dashboards()) {
    for (const std::string& expression : d.expressions) {
      ++expressions;
      metrics::ExpressionResult result =
          metrics::EvaluateExpression(expression, entity, buckets, &source);
      EXPECT_EQ(result.error, std::nullopt) << d.id << ": " << expression;
      // Every name that is not a function or an order names a metric or a sampled record.
      std::string word;
      for (size_t i = 0; i <= expression.size(); ++i) {
        const char c = i < expression.size() ? expression[i] : ' ';
        if (absl::ascii_isalnum(c) || c == '_') {
          word.push_back(c);
          continue;
        }
        if (!word.empty() && !absl::ascii_isdigit(word[0]) && c != '(' && word != "DES" &&
            word != "ASC") {
          EXPECT_TRUE(metrics::FindMetric(word) != nullptr || metrics::IsSampledRecord(word))
              << d.id << ": " << word;
        }
        word.clear();
      }
    }
  }
  // 28 + 10 + 3 per ProcessRelation dashboard (4), 5 per Process dashboard (3).
  EXPECT_EQ(expressions, 4 * 41 + 3 * 5);
}

TEST(DefaultUiTemplatesTest, TheProfilingExpressionsAreTheAddendums) {
  // network-and-continuous-addendum.md §1.3 and §4.2.
  std::vector<std::string> relation = {
      "process_relation_client_connect_exe_time/1000000",
      "process_relation_server_connect_avg_exe_time/1000000",
      "process_relation_http1_request_cpm",
      "process_relation_http1_response_status_cpm",
      "process_relation_http1_request_package_size/1024",
      "process_relation_http1_response_package_size/1024",
      "process_relation_http1_request_package_size_percentile/1024",
      "process_relation_http1_response_package_size_percentile/1024",
      "process_relation_http1_client_duration",
      "process_relation_http1_client_duration_percentile",
      "process_relation_http1_server_duration",
      "process_relation_http1_server_duration_percentile",
      "top_n(sampled_slow_trace_record,50,DES)",
      "top_n(sampled_status_4xx_trace_record,50,DES)",
      "top_n(sampled_status_5xx_trace_record,50,DES)",
  };
  for (const char* side : {"client", "server"}) {
    for (const char* m :
         {"write_cpm", "read_cpm", "write_total_bytes/1024", "read_total_bytes/1024",
          "write_avg_exe_time/1000000", "read_avg_exe_time/1000000", "connect_cpm", "close_cpm",
          "close_avg_exe_time/1000000", "write_rtt_time_percentile",
          "write_exe_time_percentile/1000000", "read_exe_time_percentile/1000000",
          "write_avg_rtt_time"}) {
      relation.push_back(absl::StrCat("process_relation_", side, "_", m));
    }
  }
  const std::vector<std::string> process = {
      "continuous_profiling_process_cpu/10000", "continuous_profiling_process_thread_count",
      "continuous_profiling_system_load", "continuous_profiling_http_error_rate/100",
      "continuous_profiling_http_avg_response_time"};
  int checked = 0;
  for (const Dashboard& d : Dashboards()) {
    if (d.entity == "ProcessRelation") {
      EXPECT_THAT(d.expressions, UnorderedElementsAreArray(relation)) << d.id;
      ++checked;
    }
    if (d.entity == "Process") {
      EXPECT_THAT(d.expressions, UnorderedElementsAreArray(process)) << d.id;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 7);
}

TEST(DefaultUiTemplatesTest, EachLayerOffersItsProfiling) {
  std::map<std::pair<std::string, std::string>, std::set<std::string>> types;
  for (const Dashboard& d : Dashboards()) types[{d.layer, d.entity}] = d.widget_types;
  auto has = [&types](const std::string& layer, const std::string& entity,
                      const std::string& type) {
    return types[{layer, entity}].contains(type);
  };
  for (const char* layer : {"GENERAL", "K8S_SERVICE", "MESH", "MESH_DP", "OS_LINUX"}) {
    EXPECT_TRUE(has(layer, "All", "Widget/ServiceList")) << layer;
    EXPECT_TRUE(has(layer, "Service", "Widget/InstanceList")) << layer;
  }
  EXPECT_TRUE(has("GENERAL", "Service", "Profile"));
  for (const char* layer : {"K8S_SERVICE", "MESH", "MESH_DP", "OS_LINUX"}) {
    EXPECT_TRUE(has(layer, "Service", "Ebpf")) << layer;
    EXPECT_TRUE(has(layer, "ServiceInstance", "NetworkProfiling")) << layer;
    EXPECT_TRUE(has(layer, "ProcessRelation", "Tab:HTTP Requests")) << layer;
  }
  for (const char* layer : {"K8S_SERVICE", "MESH", "OS_LINUX"}) {
    EXPECT_TRUE(has(layer, "Service", "ContinuousProfiling")) << layer;
    EXPECT_TRUE(has(layer, "Process", "TaskTimeline")) << layer;
    EXPECT_TRUE(has(layer, "Process", "Tab:Metrics")) << layer;
  }
  EXPECT_FALSE(types.contains({"MESH_DP", "Process"}));
  std::vector<std::string> relation_tabs;
  for (const std::string& t : types[{"MESH", "ProcessRelation"}]) {
    if (t.starts_with("Tab:")) relation_tabs.push_back(t);
  }
  EXPECT_THAT(relation_tabs,
              UnorderedElementsAreArray({"Tab:TCP", "Tab:HTTP/1.x", "Tab:HTTP Requests"}));
}

}  // namespace
}  // namespace stackhouse::service
