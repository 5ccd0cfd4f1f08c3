#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "model/ebpf.h"
#include "model/network.h"
#include "model/trace.h"
#include "service/registry.h"
#include "service/reload_journal.h"
#include "storage/change_feed.h"
#include "storage/ebpf_store.h"

namespace stackhouse::service {

class EbpfSampleStream;

// A process as Rover reports it (grpc-protocol.md §2.6), names not yet normalised.
struct ReportedProcess {
  model::DetectType detect_type = model::DetectType::kUndefined;  // kUndefined: keep stored
  std::string layer;
  std::string service_name;
  std::string instance_name;
  std::string process_name;
  std::vector<std::string> labels;
  model::KeyValueList properties;
};

// An eBPF task as handed to Rover (§3.3): ON_CPU/OFF_CPU for one process, NETWORK for the
// processes of its instance.
struct EbpfTaskCommand {
  model::EbpfTask task;  // merged over its records
  std::vector<std::string> process_ids;
};

// What an operator asks for (graphql EBPFProfilingTaskFixedTimeCreationRequest).
struct EbpfFixedTimeRequest {
  std::string service_id;
  std::vector<std::string> process_labels;
  int64_t start_time_ms = 0;  // <= 0: now
  int64_t duration_s = 0;
  std::optional<model::EbpfTargetType> target_type;
};

// What an operator asks for (graphql EBPFProfilingNetworkTaskRequest).
struct EbpfNetworkRequest {
  std::string instance_id;
  std::vector<model::NetworkSamplingRule> samplings;
};

// Either the new task's logical id or the reason for refusing it.
struct EbpfTaskCreation {
  std::optional<std::string> id;
  std::optional<std::string> error_reason;
};

// eBPF profiling's state: the processes Rover registers (in memory, written through), tasks
// and their delivery, schedules and samples. With several nodes over one store, the task
// records and processes other nodes wrote come in by ReloadTasks and ReloadProcesses (see
// CacheRefresher). Thread-safe.
class EbpfService {
 public:
  // Processes count as alive for task delivery while pinged within this window.
  static constexpr int64_t kAliveWindowMs = 5 * 60 * 1000;
  // ... and for task preparation / scale estimates within this one.
  static constexpr int64_t kRecentWindowMs = 10 * 60 * 1000;
  // Most task records considered per Rover query (OAP's profileTaskQueryMaxSize).
  static constexpr size_t kMaxTaskRecords = 200;

  // Loads stored processes and tasks. Dependencies must outlive the service; `feed` (null:
  // one node) is told of every task record stored and of every process new to this node.
  static absl::StatusOr<std::unique_ptr<EbpfService>> Create(storage::EbpfStore* store,
                                                             storage::MetadataStore* metadata,
                                                             const Clock* clock,
                                                             model::NameLimits limits,
                                                             storage::ChangeFeed* feed = nullptr);

  // Re-reads the task records from the store, keeping those this node stored meanwhile. On an
  // error the records are as they were. Polls are held up only while the list is swapped.
  absl::Status ReloadTasks() ABSL_LOCKS_EXCLUDED(reload_mu_, mu_);

  // Merges the stored processes into the registry: unknown ones are added, and a stored copy
  // pinged later than the one in memory (its Rover reports to another node) replaces it.
  // Processes are never dropped (as on one node). On an error nothing changes.
  absl::Status ReloadProcesses() ABSL_LOCKS_EXCLUDED(mu_);

  // reportProcesses: registers `processes` for Rover `agent_id` (and their services and
  // instances, first); returns their ids in order. On an error the registry is as it was
  // (services and instances may have been registered).
  absl::StatusOr<std::vector<std::string>> ReportProcesses(
      const std::string& agent_id, const std::vector<ReportedProcess>& processes);

  // keepAlive: refreshes the processes and their services and instances.
  absl::Status KeepAlive(const std::string& agent_id,
                         const std::vector<ReportedProcess>& processes);

  // queryTasks: the commands for Rover `agent_id` of the tasks updated after
  // `latest_update_time` (all when <= 0; with a feed, only records updated kSharedTaskDelayMs
  // ago or earlier count), newest task first: ON_CPU/OFF_CPU one per (task,
  // process), NETWORK one per task with every live process of the task's instance. A task is
  // merged over all its records, so a keep-alive's re-delivery keeps its sampling rules.
  std::vector<EbpfTaskCommand> QueryTasks(const std::string& agent_id,
                                          int64_t latest_update_time) const;

  // A collectProfilingData stream's sample writer, over this service's store.
  std::unique_ptr<EbpfSampleStream> OpenSampleStream();

  // collectProfilingData: creates or extends the schedule of (task, process, start) to
  // `current_time_ms`; returns its id once that is stored (a later call retries a failed
  // write). Does not hold up polls while it reads or writes.
  absl::StatusOr<std::string> RecordSchedule(const std::string& task_id,
                                             const std::string& process_id,
                                             int64_t profiling_start_ms, int64_t current_time_ms);

  // createEBPFProfilingFixedTimeTask with OAP's validation (§5.2).
  absl::StatusOr<EbpfTaskCreation> CreateFixedTimeTask(const EbpfFixedTimeRequest& request);

  // Why createEBPFProfilingFixedTimeTask refuses NETWORK (Stackhouse: OAP stores a task no
  // Rover ever receives, since a NETWORK task needs an instance).
  static constexpr char kNetworkFixedTimeRefusal[] =
      "a NETWORK task profiles one instance: create it with createEBPFNetworkProfiling";

  // NETWORK tasks run this long from their start, and keep-alive extends them by as much.
  static constexpr int64_t kNetworkTaskDurationS = 600;
  // keepEBPFNetworkProfiling extends a task only once it has at most this long left.
  static constexpr int64_t kNetworkKeepWindowS = 60;

  // createEBPFNetworkProfiling with OAP's validation and messages (§5.3), plus a check that
  // every URI regex compiles (RE2, the syntax of Rover's Go regexp). The task starts now,
  // runs kNetworkTaskDurationS and gets a logical id unique among the tasks.
  // Errors: storage failures, an instance id that names no service (InvalidArgument).
  absl::StatusOr<EbpfTaskCreation> CreateNetworkTask(const EbpfNetworkRequest& request);

  // keepEBPFNetworkProfiling (§5.4): nullopt when the task runs on (extended by
  // kNetworkTaskDurationS when it had kNetworkKeepWindowS or less left), else OAP's reason
  // (unknown task, not NETWORK, finished). Errors: storage failures.
  absl::StatusOr<std::optional<std::string>> KeepNetworkTask(const std::string& task_id);

  // reportProfilingTask: stores `task` (a CONTINUOUS_PROFILING task, logical id left empty)
  // under a logical id computed from its service and start time, made unique by moving the
  // time it is computed from forward a millisecond at a time; returns that id. Such tasks are
  // never handed out by QueryTasks.
  absl::StatusOr<std::string> AddContinuousTask(model::EbpfTask task);

  // queryEBPFProfilingTasks: merged tasks filtered by service, instance, targets (empty =
  // all) and trigger type, newest first.
  std::vector<model::EbpfTask> ListTasks(const std::string& service_id,
                                         const std::string& instance_id,
                                         const std::vector<model::EbpfTargetType>& targets,
                                         model::EbpfTriggerType trigger) const;

  // The live processes, optionally of one service or instance (empty = any).
  std::vector<model::Process> ListProcesses(const std::string& service_id,
                                            const std::string& instance_id) const;
  std::optional<model::Process> GetProcess(const std::string& process_id) const;
  // True if `process_id` is a live registered process (no copy).
  bool HasProcess(absl::string_view process_id) const;

  // Distinct labels of the service's processes, in first-seen order.
  std::vector<std::string> ServiceLabels(const std::string& service_id) const;

  // Non-virtual, eBPF-capable processes of the service pinged in the last 10 minutes whose
  // labels contain all of `labels`.
  int64_t EstimateScale(const std::string& service_id,
                        const std::vector<std::string>& labels) const;

 private:
  EbpfService(storage::EbpfStore* store, storage::MetadataStore* metadata, const Clock* clock,
              model::NameLimits limits, storage::ChangeFeed* feed)
      : store_(store), registry_(metadata, limits), clock_(clock), limits_(limits), feed_(feed) {}

  // A schedule as stored, and whether a call is writing it. Guarded by mu_.
  struct CachedSchedule {
    model::EbpfSchedule schedule;
    bool writing = false;
  };
  // The processes a report changes (to be written), merged.
  struct Merged {
    absl::flat_hash_set<std::string> changed_ids;
    std::vector<model::Process> changed;
    bool added = false;  // with `commit`: a process was new to the registry
  };

  // Adds a stored task record to the cache unless a reload brought it in already.
  void AddStored(const model::EbpfTask& task) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tells the other nodes that a task record was stored.
  void PublishTask(const model::EbpfTask& task) const;

  // Gives `task` a logical id no stored task has, computed from its service and a time
  // starting at `id_time_ms` moved forward a millisecond at a time, and stores it.
  absl::StatusOr<std::string> AddWithUniqueId(model::EbpfTask task, int64_t id_time_ms);

  // Creates or refreshes the services and instances the processes belong to.
  absl::Status RegisterOwners(const std::vector<ReportedProcess>& processes);

  // Merges `reported` (seen at `now`) into copies of the registry's processes and returns
  // those to write; with `commit` (once they are written), merges it into the registry itself
  // and marks them written (then `changed` stays empty).
  Merged Upsert(const std::string& agent_id, const std::vector<ReportedProcess>& reported,
                bool force, int64_t now, std::vector<std::string>* ids, bool commit)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  storage::EbpfStore* const store_;
  Registry registry_;  // the services and instances of the processes
  const Clock* const clock_;
  const model::NameLimits limits_;
  storage::ChangeFeed* const feed_;  // null: one node

  // Guards the registry and caches below, which agents' polls read; storage is read and
  // written outside it.
  // Serialises AddWithUniqueId (its id check and write) and KeepNetworkTask, never held by
  // polls.
  absl::Mutex create_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // Serialises ReloadTasks (its read of the store and its swap).
  absl::Mutex reload_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  absl::CondVar schedule_written_;  // signalled when a schedule write ends
  absl::flat_hash_map<std::string, model::Process> processes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int64_t> process_written_ ABSL_GUARDED_BY(mu_);
  std::vector<model::EbpfTask> tasks_ ABSL_GUARDED_BY(mu_);  // every record
  // The records this node stored while ReloadTasks read the store.
  ReloadJournal<model::EbpfTask> reload_journal_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<CachedSchedule>> schedules_ ABSL_GUARDED_BY(mu_);
};

// Merges task records sharing a logical id (§5.0): duration and update time are the maxima,
// everything else comes from the earliest-created record. Order: newest create time first.
std::vector<model::EbpfTask> MergeTaskRecords(std::vector<model::EbpfTask> records);

}  // namespace stackhouse::service
