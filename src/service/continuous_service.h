#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "model/continuous.h"
#include "model/trace.h"
#include "service/ebpf_service.h"
#include "storage/continuous_policy_store.h"
#include "storage/metadata_store.h"

namespace stackhouse::service {

// One service in Rover's queryPolicies: its name and the uuid of the policy Rover holds.
struct PolicyQuery {
  std::string service_name;
  std::string uuid;  // empty: Rover holds none
};

// A cause as Rover reports it (grpc-protocol.md §2.8), raw values.
struct ReportedCause {
  model::ContinuousMonitorType type = model::ContinuousMonitorType::kProcessCpu;
  bool uri = false;        // a URI cause, else a single-value cause
  bool uri_regex = false;  // with `uri`: `uri_text` is the regex, else the path
  std::string uri_text;
  double threshold = 0;
  double current = 0;
};

// A task Rover started itself (ContinuousProfilingReport), names not yet normalised.
struct ContinuousReport {
  std::string layer;
  std::string service_name;
  std::string instance_name;
  std::string process_name;
  std::vector<ReportedCause> causes;
  int64_t duration_s = 0;
  std::optional<model::EbpfTargetType> target;    // unset: the report names none
  std::vector<std::string> sampling_uri_regexes;  // NETWORK only
};

// A policy target with how often it triggered in the last 48 hours (§6.2).
struct ContinuousTargetSummary {
  model::ContinuousTarget target;
  int64_t triggered_count = 0;
  std::optional<int64_t> last_trigger_ms;
};

// A watched process and instance with their triggers in the last 48 hours (§6.3).
struct MonitoredProcess {
  model::Process process;
  int64_t triggered_count = 0;
  std::optional<int64_t> last_trigger_ms;
};
struct MonitoredInstance {
  model::ServiceInstance instance;
  int64_t triggered_count = 0;
  std::optional<int64_t> last_trigger_ms;
  std::vector<MonitoredProcess> processes;
};

// Continuous profiling (grpc-protocol.md §5.9, graphql-protocol.md §6): per-service policies,
// kept in memory and written through, handed to Rover by uuid with no cache delay; the tasks
// Rover triggers, stored as eBPF tasks. With several nodes over one store, Reload brings in
// the policies other nodes set (see CacheRefresher). Thread-safe; storage is never read or
// written while holding the mutex Rover's polls take.
class ContinuousService {
 public:
  // How far back triggers are counted.
  static constexpr int64_t kTriggerWindowMs = 48LL * 3600 * 1000;
  // Largest configuration JSON a policy may have.
  static constexpr size_t kMaxConfigurationJson = 64 * 1024;

  // Loads the stored policies. Dependencies must outlive the service; `feed` (null: one node)
  // is told of every policy set.
  static absl::StatusOr<std::unique_ptr<ContinuousService>> Create(
      storage::ContinuousPolicyStore* store, EbpfService* ebpf,
      const storage::MetadataStore* metadata, const Clock* clock, model::NameLimits limits,
      storage::ChangeFeed* feed = nullptr);

  // Re-reads the policies from the store. On an error they are as they were. Waits for a
  // SetPolicy in progress; Rover's polls are held up only while the map is swapped.
  absl::Status Reload() ABSL_LOCKS_EXCLUDED(write_mu_, mu_);

  // setContinuousProfilingPolicy (§6.1): the reason for refusing `targets` (OAP's messages and
  // order), or nullopt once the policy replaced the service's one durably.
  absl::StatusOr<std::optional<std::string>> SetPolicy(
      const std::string& service_id, std::vector<model::ContinuousTarget> targets);

  // The policy of `service_id`, or nullopt.
  std::optional<model::ContinuousPolicy> GetPolicy(const std::string& service_id) const;

  // queryPolicies (§5.9.1): the ServiceWithPolicyJSON entries for the services whose policy
  // differs from what Rover holds (a removed one as an empty entry); the first query of a
  // service wins. Empty: nothing changed.
  std::vector<std::string> QueryPolicies(const std::vector<PolicyQuery>& queries) const;

  // reportProfilingTask (§5.9.2): stores the CONTINUOUS_PROFILING task and returns its id.
  // InvalidArgument when the report names no service, process or target, has a negative
  // duration or a cause with neither a value nor a URI.
  absl::StatusOr<std::string> ReportTask(const ContinuousReport& report);

  // queryContinuousProfilingServiceTargets (§6.2).
  std::vector<ContinuousTargetSummary> ServiceTargets(const std::string& service_id) const;

  // queryContinuousProfilingMonitoringInstances (§6.3), instances by name.
  absl::StatusOr<std::vector<MonitoredInstance>> MonitoringInstances(
      const std::string& service_id, model::EbpfTargetType target) const;

 private:
  ContinuousService(storage::ContinuousPolicyStore* store, EbpfService* ebpf,
                    const storage::MetadataStore* metadata, const Clock* clock,
                    model::NameLimits limits, storage::ChangeFeed* feed)
      : store_(store),
        ebpf_(ebpf),
        metadata_(metadata),
        clock_(clock),
        limits_(limits),
        feed_(feed) {}

  // The CONTINUOUS_PROFILING task records of `service_id` of `targets` started in the window.
  std::vector<model::EbpfTask> RecentTriggers(
      const std::string& service_id, const std::vector<model::EbpfTargetType>& targets) const;

  // Constant after construction.
  storage::ContinuousPolicyStore* const store_;
  EbpfService* const ebpf_;
  const storage::MetadataStore* const metadata_;
  const Clock* const clock_;
  const model::NameLimits limits_;
  storage::ChangeFeed* const feed_;  // null: one node

  // Serialises SetPolicy and Reload, so that the store and the map below change in the same
  // order.
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // Guards the policies, which Rover's polls read.
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const model::ContinuousPolicy>> policies_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace stackhouse::service
