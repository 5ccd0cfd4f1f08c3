#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "storage/ebpf_store.h"
#include "storage/metadata_store.h"
#include "storage/profile_store.h"
#include "storage/segment_store.h"
#include "storage/ui_template_store.h"

namespace stackhouse::fakes {

// In-memory implementations of the store interfaces, for tests of the code above storage
// (services, receivers). They follow the interfaces' contracts except that nothing expires and
// nothing survives the object; metadata writes are never coalesced. Thread-safe. A `clock`
// passed in must outlive the store.

class FakeMetadataStore final : public storage::MetadataStore {
 public:
  explicit FakeMetadataStore(const Clock* clock) : clock_(clock) {}

  absl::Status UpsertInstance(const std::string& service_name,
                              const model::ServiceInstance& instance,
                              bool replace_properties) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<model::Service>> ListServices() const override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::optional<model::Service>> GetService(
      const std::string& service_id) const override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<model::ServiceInstance>> ListInstances(
      const std::string& service_id) const override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::optional<model::ServiceInstance>> GetInstance(
      const std::string& instance_id) const override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status TouchEndpoints(const std::string& service_id,
                              const std::vector<std::string>& endpoint_names) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<model::Endpoint>> FindEndpoints(const std::string& service_id,
                                                             const std::string& keyword,
                                                             int limit) const override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::optional<model::Endpoint>> GetEndpoint(
      const std::string& endpoint_id) const override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const Clock* const clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, model::Service> services_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, model::ServiceInstance> instances_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, model::Endpoint> endpoints_ ABSL_GUARDED_BY(mu_);
};

class FakeProfileTaskStore final : public storage::ProfileTaskStore {
 public:
  absl::Status PutTask(const model::ProfileTask& task) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<model::ProfileTask>> ListTasks() const override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status AddLog(const model::ProfileTaskLog& log, int64_t task_end_ms) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<model::ProfileTaskLog>> ListLogs(
      const std::string& task_id) const override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, model::ProfileTask> tasks_ ABSL_GUARDED_BY(mu_);
  std::vector<model::ProfileTaskLog> logs_ ABSL_GUARDED_BY(mu_);
};

// Stacks are numbered in order of first appearance (from 1).
class FakeSnapshotStore final : public storage::SnapshotStore {
 public:
  absl::StatusOr<std::vector<uint64_t>> ResolveStacks(
      absl::Span<const storage::PendingStack> stacks) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status AddDumps(absl::Span<const storage::ResolvedDump> dumps) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<std::string>> ListProfiledSegments(
      const std::string& task_id) const override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status ScanDumps(const std::string& segment_id,
                         const std::function<void(const storage::StoredDump&)>& visit)
      const override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status AddGoProfile(const model::GoProfile& profile) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<model::GoSegmentProfile>> ListGoProfiles(
      const std::string& segment_id) const override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::optional<std::string>> GetGoProfile(
      const std::string& profile_key) const override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<std::string>> GetStack(uint64_t stack_id) const override
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Profiled {
    int64_t dump_time_ms;
    std::string segment_id;
  };
  mutable absl::Mutex mu_;
  std::map<std::vector<std::string>, uint64_t> stack_ids_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<std::string>> stacks_ ABSL_GUARDED_BY(mu_);  // id - 1 → frames
  // Segment → sequence → dump.
  std::map<std::string, std::map<int32_t, storage::StoredDump>> dumps_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<Profiled>> profiled_ ABSL_GUARDED_BY(mu_);  // by task
  std::map<std::string, std::string> go_profiles_ ABSL_GUARDED_BY(mu_);         // key → pprof
  std::map<std::string, std::vector<model::GoSegmentProfile>> go_segments_ ABSL_GUARDED_BY(mu_);
};

class FakeSegmentStore final : public storage::SegmentStore {
 public:
  absl::Status AddSegments(const std::vector<model::Segment>& segments,
                           const std::vector<model::SegmentSummary>& summaries) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::optional<storage::StoredSegment>> GetSegment(
      const std::string& segment_id) const override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<storage::StoredSegment>> ListByTraceAndInstance(
      const std::string& trace_id, const std::string& instance_id) const override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<storage::StoredSegment>> ListByTrace(const std::string& trace_id,
                                                                  size_t limit) const override
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, storage::StoredSegment> segments_ ABSL_GUARDED_BY(mu_);
};

// Stacks are numbered in order of first appearance (from 1); sample blocks use the RocksDB
// store's block encoding.
class FakeEbpfStore final : public storage::EbpfStore {
 public:
  absl::Status PutProcesses(const std::vector<model::Process>& processes) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<model::Process>> ListProcesses() const override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status PutTask(const model::EbpfTask& task) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<model::EbpfTask>> ListTasks() const override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status PutSchedule(const model::EbpfSchedule& schedule) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::optional<model::EbpfSchedule>> GetSchedule(
      const std::string& schedule_id) const override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<model::EbpfSchedule>> ListSchedules(
      const std::string& task_id) const override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<uint64_t>> ResolveStacks(
      absl::Span<const storage::PendingStack> stacks) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status AddSampleBlock(const std::string& schedule_id, int64_t upload_time_ms,
                              absl::Span<const storage::StoredEbpfSample> samples) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status ScanSamples(const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
                           const std::function<void(const storage::StoredEbpfSample&)>& visit)
      const override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status ScanSampleBlocks(const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
                                const std::function<void(storage::EbpfSampleBlock&)>& visit)
      const override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<model::EbpfSymbol>> GetStack(uint64_t stack_id) const override
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Block {
    int64_t upload_time_ms;
    model::EbpfTargetType target_type;
    uint64_t count;
    std::string encoded;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, model::Process> processes_ ABSL_GUARDED_BY(mu_);
  std::vector<model::EbpfTask> tasks_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, model::EbpfSchedule> schedules_ ABSL_GUARDED_BY(mu_);
  std::map<std::vector<std::string>, uint64_t> stack_ids_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<std::string>> stacks_ ABSL_GUARDED_BY(mu_);  // id - 1 → frames
  // Schedule → blocks in the order written (scans sort them by upload time).
  std::map<std::string, std::vector<Block>> blocks_ ABSL_GUARDED_BY(mu_);
};

class FakeUiTemplateStore final : public storage::UiTemplateStore {
 public:
  absl::Status PutTemplate(const storage::UiTemplate& t) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::optional<storage::UiTemplate>> GetTemplate(
      const std::string& id) const override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<storage::UiTemplate>> ListTemplates() const override
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, storage::UiTemplate> templates_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stackhouse::fakes
