#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "config/config.h"
#include "graphql/http_endpoint.h"
#include "graphql/schema.h"
#include "metrics/mqe.h"
#include "profile/ebpf_profile.h"
#include "service/continuous_service.h"
#include "service/ebpf_service.h"
#include "service/profile_task_service.h"
#include "service/ui_template_service.h"
#include "storage/ebpf_store.h"
#include "storage/metadata_store.h"
#include "storage/metric_store.h"
#include "storage/profile_store.h"
#include "storage/segment_store.h"
#include "storage/span_event_store.h"

namespace stackhouse::query {

// What the resolvers read and write. Everything must outlive the endpoint built from it.
struct QueryDeps {
  const storage::MetadataStore* metadata = nullptr;
  service::ProfileTaskService* profile_tasks = nullptr;
  const storage::SnapshotStore* snapshots = nullptr;
  const storage::SegmentStore* segments = nullptr;
  // The events attached to spans (queryTrace); null: traces show none.
  const storage::SpanEventStore* span_events = nullptr;
  service::EbpfService* ebpf = nullptr;
  const storage::EbpfStore* ebpf_store = nullptr;
  // The eBPF analyses (analysisEBPFProfilingResult, stackhouseDiff), shared with the exports so
  // that identical requests are computed once; null: BuildSchema makes one over ebpf_store with
  // config's query.ebpfAnalysisMaxSamples.
  std::shared_ptr<const profile::EbpfAnalyzer> ebpf_analyzer;
  service::ContinuousService* continuous = nullptr;
  service::UiTemplateService* ui_templates = nullptr;
  // What execExpression and readRecords read; null: they answer with an error saying so.
  metrics::MetricSource* metric_source = nullptr;
  // The relation rows the process topology is built from (getProcessTopology).
  const storage::MetricStore* metric_store = nullptr;
  const Clock* clock = nullptr;
  const config::Config* config = nullptr;
  // Reported by `version`; swctl parses a leading "major.minor".
  std::string version = "10.3.0-stackhouse";
};

// Binds the resolvers of one part of SkyWalking's schema (one .cc file each).
void BindMetadataResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder);
void BindProfileResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder);
void BindEbpfResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder);
// The process topology of network profiling (schema/topology.graphqls).
void BindTopologyResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder);
// The trace view (schema/trace.graphqls): queryBasicTraces by trace id, queryTrace.
void BindTraceResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder);
// Continuous profiling (schema/continuous_profiling.graphqls): policies and what they watched.
void BindContinuousResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder);
// SkyWalking UI bootstrap (schema/ui_configuration.graphqls): menu and dashboard templates.
void BindUiResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder);
// Metrics query expressions (schema/metrics.graphqls): execExpression and readRecords.
void BindMetricsResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder);
// Stackhouse's own fields (schema/stackhouse.graphqls): stackhouseDiff.
void BindDiffResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder);

// SkyWalking's profiling query schema (the embedded *.graphqls) with every resolver bound.
absl::StatusOr<std::shared_ptr<const graphql::Schema>> BuildSchema(const QueryDeps& deps);

// The `/graphql` endpoint over BuildSchema with the configured limits.
absl::StatusOr<std::unique_ptr<graphql::HttpEndpoint>> BuildQueryEndpoint(const QueryDeps& deps);

}  // namespace stackhouse::query
