#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "metrics/accumulator.h"
#include "metrics/metric_catalog.h"
#include "model/meter.h"

// Meter data sets → metric row updates, relation rows and virtual processes, as the OAP's meter
// analyzer computes them with the network- and continuous-profiling rules (addendum §2.1–2.3,
// §5.1). Pure: no I/O, no clock (the caller passes the server's time for the relation rows).
// Thread-safe (stateless).
namespace stackhouse::metrics {

// One addition to one metric row.
struct MetricUpdate {
  const MetricDefinition* metric = nullptr;
  std::string entity_id;    // process id, or "client process id-server process id"
  std::string label_value;  // value of metric->label ("" when the metric keeps none)
  int64_t minute_ms = 0;    // start of the minute of the data set's time
  Accumulator delta;
  // A hint for consumers that index by entity: updates of one AnalyzedDataSet with the same
  // non-zero ref have the same entity_id (equal ids may have different refs); 0: no hint.
  uint32_t entity_ref = 0;
};

// A process-relation row (addendum §5.1): one per distinct (side, client, server, component) of
// a data set, stamped with the minute of the server's clock.
struct RelationRow {
  std::string instance_id;  // of the reporting Rover process
  std::string client_process_id;
  std::string server_process_id;
  bool server_side = false;  // detect point SERVER (else CLIENT)
  int component_id = 0;      // 49 http, 110 tcp, 129 https, 130 tls
  int64_t minute_ms = 0;
};

// A VIRTUAL process a relation names (UNKNOWN_LOCAL or UNKNOWN_REMOTE of the reporting
// instance); the caller registers it so that listProcesses and the topology show it.
struct VirtualProcess {
  std::string id;  // model::ProcessId(name, instance_id)
  std::string service_name;
  std::string instance_name;
  std::string name;
};

struct AnalyzedDataSet {
  std::vector<MetricUpdate> updates;
  std::vector<RelationRow> relations;
  std::vector<VirtualProcess> virtual_processes;  // distinct
  int64_t ignored_samples = 0;                    // meters no metric uses, or unusable samples
};

inline constexpr const char* kUnknownLocal = "UNKNOWN_LOCAL";
inline constexpr const char* kUnknownRemote = "UNKNOWN_REMOTE";

// The component of a network meter (addendum §2.2): http + ssl → 129 (https), http → 49,
// ssl → 130 (tls), else 110 (tcp).
int NetworkComponent(absl::string_view protocol, absl::string_view is_ssl);

// Analyzes one data set. A data set without service, instance or a positive time yields nothing.
// Samples of meters in no rule are counted in `ignored_samples` and cost a hash lookup each.
// Non-finite values are ignored (counted too). `now_ms` stamps the relation rows.
AnalyzedDataSet AnalyzeDataSet(const model::MeterDataSet& data_set, int64_t now_ms);

}  // namespace stackhouse::metrics
