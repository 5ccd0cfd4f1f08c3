#include "metrics/meter_analyzer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/container/node_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
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

// The entity end of a group: what a row's entity id is made of, and the side the network rules
// also group by (both sides may share a row). Views into the data set's samples and the
// analysis' own id strings, which outlive the analysis.
struct EntityKey {
  absl::string_view client;  // kProcessRelation: the client end; kProcess: the process id
  absl::string_view server;  // kProcessRelation: the server end; kProcess: empty
  absl::string_view side;
  bool operator==(const EntityKey& o) const {
    return client == o.client && server == o.server && side == o.side;
  }
  template <typename H>
  friend H AbslHashValue(H h, const EntityKey& k) {
    return H::combine(std::move(h), k.client, k.server, k.side);
  }
};

// One group of a rule within a data set: what MAL's sum(by)/avg(by) groups by. The entity is
// the index of its EntityKey, so that a group hashes a word instead of two 64-byte ids.
struct GroupKey {
  const MetricDefinition* metric;
  uint32_t entity;
  absl::string_view label_value;
  bool operator==(const GroupKey& o) const {
    return metric == o.metric && entity == o.entity && label_value == o.label_value;
  }
  template <typename H>
  friend H AbslHashValue(H h, const GroupKey& k) {
    return H::combine(std::move(h), k.metric, k.entity, k.label_value);
  }
};

struct Group {
  GroupKey key;
  double sum = 0;
  int64_t values = 0;
  // buckets[0, sorted) ascending with distinct keys; buckets[sorted, end) appended since (a key
  // that was not there yet, out of order), sorted in by Normalize. Appending rather than inserting
  // in the middle keeps a hostile group (thousands of samples, each with other bounds) from
  // costing a move of the tail per bucket.
  std::vector<std::pair<int64_t, double>> buckets;
  size_t sorted = 0;

  void AddBucket(int64_t bucket, double count) {
    if (sorted == buckets.size() && (buckets.empty() || buckets.back().first < bucket)) {
      buckets.emplace_back(bucket, count);
      ++sorted;
      return;
    }
    const auto end = buckets.begin() + static_cast<std::ptrdiff_t>(sorted);
    auto it = std::lower_bound(buckets.begin(), end, bucket,
                               [](const auto& b, int64_t k) { return b.first < k; });
    if (it != end && it->first == bucket) {
      it->second += count;
    } else {
      buckets.emplace_back(bucket, count);
    }
  }

  // Sorts the appended buckets in and adds up equal keys, in the order they came.
  void Normalize() {
    if (sorted == buckets.size()) return;
    std::stable_sort(buckets.begin(), buckets.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    size_t out = 0;
    for (size_t i = 0; i < buckets.size(); ++i) {
      if (out > 0 && buckets[out - 1].first == buckets[i].first) {
        buckets[out - 1].second += buckets[i].second;
      } else {
        buckets[out++] = buckets[i];
      }
    }
    buckets.resize(out);
    sorted = out;
  }
};

struct RelationKey {
  absl::string_view client, server;
  bool server_side;
  int component;
  bool operator==(const RelationKey& o) const {
    return client == o.client && server == o.server && server_side == o.server_side &&
           component == o.component;
  }
  template <typename H>
  friend H AbslHashValue(H h, const RelationKey& k) {
    return H::combine(std::move(h), k.client, k.server, k.server_side, k.component);
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
  // virtual peers and the processes of the continuous meters. Node containers: the groups
  // hold views of these strings.
  std::string virtual_ids[2];  // UNKNOWN_LOCAL, UNKNOWN_REMOTE
  absl::node_hash_map<std::string, std::string> process_ids;
  absl::node_hash_set<std::string> odd_sides;  // lowercased side labels but client / server
  // The process id of one end of a network meter (addendum §2.2, prefix step).
  struct RoleLabels {
    const char* process_id;
    const char* local;
  };
  static constexpr RoleLabels kClient = {"client_process_id", "client_local"};
  static constexpr RoleLabels kServer = {"server_process_id", "server_local"};
  auto end_process = [&](const model::KeyValueList& labels,
                         const RoleLabels& role) -> absl::string_view {
    absl::string_view id = Label(labels, role.process_id);
    if (!id.empty()) return id;
    const bool local = Label(labels, role.local) == "true";
    std::string& virtual_id = virtual_ids[local ? 0 : 1];
    if (virtual_id.empty()) {
      const char* name = local ? kUnknownLocal : kUnknownRemote;
      virtual_id = model::ProcessId(name, instance_id);
      out.virtual_processes.push_back({virtual_id, data_set.service, data_set.instance, name});
    }
    return virtual_id;
  };
  auto process_id = [&](absl::string_view process_name) -> absl::string_view {
    auto [it, inserted] = process_ids.try_emplace(process_name);
    if (inserted) it->second = model::ProcessId(process_name, instance_id);
    return it->second;
  };
  // The side label, lowercased (as the rules compare it).
  auto side_of = [&](absl::string_view side) -> absl::string_view {
    if (absl::EqualsIgnoreCase(side, "client")) return "client";
    if (absl::EqualsIgnoreCase(side, "server")) return "server";
    return *odd_sides.insert(absl::AsciiStrToLower(side)).first;
  };

  // Entities in the order first seen. Consecutive samples mostly share theirs (a connection's
  // meters come together), so the previous sample's is compared before any hashing.
  std::vector<EntityKey> entities;
  absl::flat_hash_map<EntityKey, uint32_t> entity_of;
  auto entity_index = [&](const EntityKey& key) -> uint32_t {
    if (!entities.empty() && entities.back() == key) return entities.size() - 1;
    auto [it, inserted] = entity_of.try_emplace(key, static_cast<uint32_t>(entities.size()));
    if (inserted) entities.push_back(key);
    return it->second;
  };
  // Groups in the order first seen (the output's order), indexed by their key.
  std::vector<Group> groups;
  absl::flat_hash_map<GroupKey, size_t> group_of;
  std::vector<RelationKey> relations;
  absl::flat_hash_set<RelationKey> relation_seen;
  for (const model::MeterSample& sample : data_set.samples) {
    const auto& metrics = MetricsOfMeter(sample.name);
    if (metrics.empty() || (!sample.histogram && !std::isfinite(sample.value))) {
      ++out.ignored_samples;
      continue;
    }
    // The sample's entity of each scope, found on first use.
    std::optional<uint32_t> relation_entity, process_entity;
    for (const MetricDefinition* metric : metrics) {
      if (sample.histogram != (metric->function == MetricFunction::kHistogramPercentile)) {
        ++out.ignored_samples;
        continue;
      }
      GroupKey key{metric, 0, {}};
      if (!metric->label.empty()) key.label_value = Label(sample.labels, metric->label);
      if (metric->scope == MetricScope::kProcessRelation) {
        if (!relation_entity) {
          EntityKey entity{end_process(sample.labels, kClient), end_process(sample.labels, kServer),
                           side_of(Label(sample.labels, "side"))};
          const int component =
              NetworkComponent(Label(sample.labels, "protocol"), Label(sample.labels, "is_ssl"));
          RelationKey relation{entity.client, entity.server, entity.side == "server", component};
          if (relation_seen.insert(relation).second) relations.push_back(relation);
          relation_entity = entity_index(entity);
        }
        key.entity = *relation_entity;
      } else {
        if (!process_entity) {
          process_entity = entity_index({process_id(Label(sample.labels, "process_name")), {}, {}});
        }
        key.entity = *process_entity;
      }
      auto [it, inserted] = group_of.try_emplace(key, groups.size());
      if (inserted) groups.emplace_back().key = key;
      Group& group = groups[it->second];
      if (sample.histogram) {
        for (const model::MeterBucket& bucket : sample.buckets) {
          group.AddBucket(BucketKey(bucket), static_cast<double>(bucket.count));
        }
      } else {
        group.sum += sample.value;
        ++group.values;
      }
    }
  }

  // Each entity's id is built once; its updates share its entity_ref (index + 1).
  std::vector<std::string> entity_ids(entities.size());
  out.updates.reserve(groups.size());
  for (Group& group : groups) {
    group.Normalize();
    const GroupKey& key = group.key;
    MetricUpdate& update = out.updates.emplace_back();
    update.metric = key.metric;
    std::string& entity_id = entity_ids[key.entity];
    if (entity_id.empty()) {
      const EntityKey& entity = entities[key.entity];
      entity_id = key.metric->scope == MetricScope::kProcessRelation
                      ? model::ProcessRelationId(entity.client, entity.server)
                      : std::string(entity.client);
    }
    update.entity_id = entity_id;
    update.entity_ref = key.entity + 1;
    update.label_value = std::string(key.label_value);
    update.minute_ms = minute;
    if (key.metric->function == MetricFunction::kHistogramPercentile) {
      update.delta.buckets.reserve(group.buckets.size());
      for (const auto& [bucket, count] : group.buckets) {
        update.delta.buckets.Add(bucket, RoundMeterValue(count * key.metric->scale));
      }
    } else {
      double v = group.sum;
      if (key.metric->average_in_data_set && group.values > 0) v /= group.values;
      update.delta.sum = RoundMeterValue(v * key.metric->scale);
      update.delta.count = key.metric->function == MetricFunction::kAvg ? 1 : 0;
    }
  }
  const int64_t now_minute = MinuteFloor(now_ms);
  out.relations.reserve(relations.size());
  for (const RelationKey& key : relations) {
    out.relations.push_back({instance_id, std::string(key.client), std::string(key.server),
                             key.server_side, key.component, now_minute});
  }
  return out;
}

}  // namespace stackhouse::metrics
