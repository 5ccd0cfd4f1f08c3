#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/clock.h"
#include "config/config.h"
#include "graphql/http_endpoint.h"
#include "service/continuous_service.h"
#include "service/ebpf_service.h"
#include "service/profile_task_service.h"
#include "service/ui_template_service.h"
#include "storage/database.h"
#include "storage/rocks_continuous_policy_store.h"
#include "storage/rocks_ebpf_store.h"
#include "storage/rocks_metadata_store.h"
#include "storage/rocks_metric_store.h"
#include "storage/rocks_profile_store.h"
#include "storage/rocks_segment_store.h"
#include "storage/rocks_span_event_store.h"
#include "storage/rocks_ui_template_store.h"

namespace stackhouse::testing {

// The simulated "now" of every golden case: 2023-11-14 22:13:20 UTC.
inline constexpr int64_t kFixtureNow = 1700000000000;

// The `/graphql` endpoint of query::BuildQueryEndpoint over real stores in a RocksDB under a
// given directory, seeded with the deterministic data that testdata/FIXTURE.md describes
// (services, instances, endpoints, trace-profiling tasks, logs, snapshots and segments, eBPF
// processes, tasks, schedules and samples; metric rows; continuous-profiling policy and triggered
// tasks), written through the task services and
// stores while a simulated clock moves forward, which is then left at kFixtureNow. Duration strings
// are parsed in the local zone: the caller sets TZ=UTC first. Not thread-safe (the cases post one
// request at a time).
class QueryFixture {
 public:
  // Opens the database in `dir` (which must exist and be empty) and seeds it.
  // Errors: any store or service failure while seeding.
  static absl::StatusOr<std::unique_ptr<QueryFixture>> Create(const std::string& dir);

  // POSTs `body` (a JSON GraphQL request) to the endpoint.
  graphql::HttpResponse Post(absl::string_view body) const;

 private:
  QueryFixture() : clock_(kFixtureNow) {}

  // Writes the data of testdata/FIXTURE.md through the services and stores.
  absl::Status Seed();
  // Writes the sampled trace trace-slow-1 of testdata/FIXTURE.md and its attached events.
  absl::Status SeedSampledTrace();
  // Writes the continuous-profiling policy and triggered tasks of testdata/FIXTURE.md.
  absl::Status SeedContinuous();

  // Sets the clock to kFixtureNow + `offset_ms` (negative: in the past).
  void At(int64_t offset_ms) { clock_.SetMillis(kFixtureNow + offset_ms); }

  // Members are destroyed bottom-up: the endpoint and services before the stores, the stores
  // before the database.
  SimulatedClock clock_;
  config::Config config_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::RocksMetadataStore> metadata_;
  std::unique_ptr<storage::RocksProfileStore> profiles_;
  std::unique_ptr<storage::RocksSegmentStore> segments_;
  std::unique_ptr<storage::RocksSpanEventStore> span_events_;
  std::unique_ptr<storage::RocksEbpfStore> ebpf_store_;
  std::unique_ptr<storage::RocksUiTemplateStore> ui_template_store_;
  std::unique_ptr<storage::RocksMetricStore> metric_store_;
  std::unique_ptr<storage::RocksContinuousPolicyStore> continuous_store_;
  std::unique_ptr<service::UiTemplateService> ui_templates_;
  std::unique_ptr<service::ProfileTaskService> profile_tasks_;
  std::unique_ptr<service::EbpfService> ebpf_;
  std::unique_ptr<service::ContinuousService> continuous_;
  std::unique_ptr<graphql::HttpEndpoint> endpoint_;
};

}  // namespace stackhouse::testing
