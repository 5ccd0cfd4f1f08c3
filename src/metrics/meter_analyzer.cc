#include "metrics/meter_analyzer.h"

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "model/ids.h"

namespace stackhouse::metrics {
namespace {

int64_t MinuteFloor(int64_t ms) { return ms - ((ms % 60000) + 60000) % 60000; }

absl::string_view Label(const model::KeyValueList& labels, absl::string_view key) {
  for (const auto& [k, v] : labels) {
    if (k == key) return v;
  }
  return {};
}

// The bucket key of a histogram bucket: MAL's long(le × 1), -inf as Long.MIN_VALUE.
int64_t BucketKey(const model::MeterBucket& bucket) {
  if (bucket.negative_infinity) return std::numeric_limits<int64_t>::min();
  const double le = bucket.lower_bound;
  if (le >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (le <= -9223372036854775807.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(le);  // truncation toward zero, as Java's (long) cast
}

// One group of a rule within a data set: what MAL's sum(by)/avg(by) groups by.
struct GroupKey {
  const MetricDefinition* metric;
  std::string entity_id;
  std::string label_value;
  std::string side;  // the network rules group by side too (both sides may share a row)
  bool operator<(const GroupKey& o) const {
    return std::tie(metric, entity_id, label_value, side) <
           std::tie(o.metric, o.entity_id, o.label_value, o.side);
  }
};

struct Group {
  double sum = 0;
  int64_t values = 0;
  std::map<int64_t, double> buckets;
};

struct RelationKey {
  std::string client, server;
  bool server_side;
  int component;
  bool operator<(const RelationKey& o) const {
    return std::tie(client, server, server_side, component) <
           std::tie(o.client, o.server, o.server_side, o.component);
  }
};

}  // namespace

int NetworkComponent(absl::string_view protocol, absl::string_view is_ssl) {
  const bool http = protocol == "http";
  const bool ssl = is_ssl == "true";
  if (http && ssl) return 129;
  if (http) return 49;
  if (ssl) return 130;
  return 110;
}

AnalyzedDataSet AnalyzeDataSet(const model::MeterDataSet& data_set, int64_t now_ms) {
  AnalyzedDataSet out;
  if (data_set.service.empty() || data_set.instance.empty() || data_set.timestamp_ms <= 0) {
    out.ignored_samples = static_cast<int64_t>(data_set.samples.size());
    return out;
  }
  const std::string service_id = model::ServiceId(data_set.service);
  const std::string instance_id = model::InstanceId(service_id, data_set.instance);
  const int64_t minute = MinuteFloor(data_set.timestamp_ms);

  // The ids this data set derives (SHA-256 each) are computed once per data set: the two
  // virtual peers and the processes of the continuous meters.
  std::string virtual_ids[2];  // UNKNOWN_LOCAL, UNKNOWN_REMOTE
  absl::flat_hash_map<std::string, std::string> process_ids;
  // The process id of one end of a network meter (addendum §2.2, prefix step).
  struct RoleLabels {
    const char* process_id;
    const char* local;
  };
  static constexpr RoleLabels kClient = {"client_process_id", "client_local"};
  static constexpr RoleLabels kServer = {"server_process_id", "server_local"};
  auto end_process = [&](const model::KeyValueList& labels, const RoleLabels& role) {
    absl::string_view id = Label(labels, role.process_id);
    if (!id.empty()) return std::string(id);
    const bool local = Label(labels, role.local) == "true";
    std::string& virtual_id = virtual_ids[local ? 0 : 1];
    if (virtual_id.empty()) {
      const char* name = local ? kUnknownLocal : kUnknownRemote;
      virtual_id = model::ProcessId(name, instance_id);
      out.virtual_processes.push_back({virtual_id, data_set.service, data_set.instance, name});
    }
    return virtual_id;
  };
  auto process_id = [&](absl::string_view process_name) -> const std::string& {
    auto [it, inserted] = process_ids.try_emplace(process_name);
    if (inserted) it->second = model::ProcessId(process_name, instance_id);
    return it->second;
  };

  std::map<GroupKey, Group> groups;
  std::set<RelationKey> relations;
  for (const model::MeterSample& sample : data_set.samples) {
    const auto& metrics = MetricsOfMeter(sample.name);
    if (metrics.empty() || (!sample.histogram && !std::isfinite(sample.value))) {
      ++out.ignored_samples;
      continue;
    }
    for (const MetricDefinition* metric : metrics) {
      if (sample.histogram != (metric->function == MetricFunction::kHistogramPercentile)) {
        ++out.ignored_samples;
        continue;
      }
      GroupKey key{metric, {}, {}, {}};
      if (!metric->label.empty())
        key.label_value = std::string(Label(sample.labels, metric->label));
      if (metric->scope == MetricScope::kProcessRelation) {
        const std::string client = end_process(sample.labels, kClient);
        const std::string server = end_process(sample.labels, kServer);
        key.side = absl::AsciiStrToLower(Label(sample.labels, "side"));
        key.entity_id = model::ProcessRelationId(client, server);
        const int component =
            NetworkComponent(Label(sample.labels, "protocol"), Label(sample.labels, "is_ssl"));
        relations.insert({client, server, key.side == "server", component});
      } else {
        key.entity_id = process_id(Label(sample.labels, "process_name"));
      }
      Group& group = groups[key];
      if (sample.histogram) {
        for (const model::MeterBucket& bucket : sample.buckets) {
          group.buckets[BucketKey(bucket)] += static_cast<double>(bucket.count);
        }
      } else {
        group.sum += sample.value;
        ++group.values;
      }
    }
  }

  for (auto& [key, group] : groups) {
    MetricUpdate update;
    update.metric = key.metric;
    update.entity_id = key.entity_id;
    update.label_value = key.label_value;
    update.minute_ms = minute;
    if (key.metric->function == MetricFunction::kHistogramPercentile) {
      for (const auto& [bucket, count] : group.buckets) {
        update.delta.buckets[bucket] = RoundMeterValue(count * key.metric->scale);
      }
    } else {
      double v = group.sum;
      if (key.metric->average_in_data_set && group.values > 0) v /= group.values;
      update.delta.sum = RoundMeterValue(v * key.metric->scale);
      update.delta.count = key.metric->function == MetricFunction::kAvg ? 1 : 0;
    }
    out.updates.push_back(std::move(update));
  }
  const int64_t now_minute = MinuteFloor(now_ms);
  for (const RelationKey& key : relations) {
    out.relations.push_back(
        {instance_id, key.client, key.server, key.server_side, key.component, now_minute});
  }
  return out;
}

}  // namespace stackhouse::metrics
