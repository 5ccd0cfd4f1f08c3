#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status_macros.h"
#include "fakes/fault_injector.h"
#include "storage/database.h"
#include "storage/ebpf_store.h"
#include "storage/metadata_store.h"
#include "storage/profile_store.h"
#include "storage/segment_store.h"
#include "storage/ui_template_store.h"

namespace stackhouse::fakes {

// Decorators that forward every call to another implementation of a store interface unless
// their FaultInjector fails it; a failed call does not reach the decorated store. Each call is
// checked under its method's name ("Write", "PutSchedule", ...). Thread-safe when the decorated
// object is. Both pointers must outlive the decorator.

class FailingRecordAccess final : public storage::RecordAccess {
 public:
  FailingRecordAccess(storage::RecordAccess* inner, FaultInjector* faults)
      : inner_(inner), faults_(faults) {}
  absl::Status Write(storage::WriteBatch batch) override {
    SH_RETURN_IF_ERROR(faults_->Check("Write"));
    return inner_->Write(std::move(batch));
  }
  absl::StatusOr<std::optional<storage::Record>> Get(storage::Family family,
                                                     absl::string_view key) const override {
    SH_RETURN_IF_ERROR(faults_->Check("Get"));
    return inner_->Get(family, key);
  }
  absl::StatusOr<std::vector<std::optional<storage::Record>>> MultiGet(
      storage::Family family, absl::Span<const std::string> keys) const override {
    SH_RETURN_IF_ERROR(faults_->Check("MultiGet"));
    return inner_->MultiGet(family, keys);
  }
  absl::Status VisitSorted(
      storage::Family family, absl::Span<const std::string> keys,
      absl::FunctionRef<absl::Status(size_t, absl::string_view)> visit) const override {
    SH_RETURN_IF_ERROR(faults_->Check("VisitSorted"));
    return inner_->VisitSorted(family, keys, visit);
  }

 private:
  storage::RecordAccess* const inner_;
  FaultInjector* const faults_;
};

class FailingMetadataStore final : public storage::MetadataStore {
 public:
  FailingMetadataStore(storage::MetadataStore* inner, FaultInjector* faults)
      : inner_(inner), faults_(faults) {}
  absl::Status UpsertInstance(const std::string& service_name,
                              const model::ServiceInstance& instance,
                              bool replace_properties) override {
    SH_RETURN_IF_ERROR(faults_->Check("UpsertInstance"));
    return inner_->UpsertInstance(service_name, instance, replace_properties);
  }
  absl::StatusOr<std::vector<model::Service>> ListServices() const override {
    SH_RETURN_IF_ERROR(faults_->Check("ListServices"));
    return inner_->ListServices();
  }
  absl::StatusOr<std::optional<model::Service>> GetService(
      const std::string& service_id) const override {
    SH_RETURN_IF_ERROR(faults_->Check("GetService"));
    return inner_->GetService(service_id);
  }
  absl::StatusOr<std::vector<model::ServiceInstance>> ListInstances(
      const std::string& service_id) const override {
    SH_RETURN_IF_ERROR(faults_->Check("ListInstances"));
    return inner_->ListInstances(service_id);
  }
  absl::StatusOr<std::optional<model::ServiceInstance>> GetInstance(
      const std::string& instance_id) const override {
    SH_RETURN_IF_ERROR(faults_->Check("GetInstance"));
    return inner_->GetInstance(instance_id);
  }
  absl::Status TouchEndpoints(const std::string& service_id,
                              const std::vector<std::string>& endpoint_names) override {
    SH_RETURN_IF_ERROR(faults_->Check("TouchEndpoints"));
    return inner_->TouchEndpoints(service_id, endpoint_names);
  }
  absl::StatusOr<std::vector<model::Endpoint>> FindEndpoints(const std::string& service_id,
                                                             const std::string& keyword,
                                                             int limit) const override {
    SH_RETURN_IF_ERROR(faults_->Check("FindEndpoints"));
    return inner_->FindEndpoints(service_id, keyword, limit);
  }
  absl::StatusOr<std::optional<model::Endpoint>> GetEndpoint(
      const std::string& endpoint_id) const override {
    SH_RETURN_IF_ERROR(faults_->Check("GetEndpoint"));
    return inner_->GetEndpoint(endpoint_id);
  }

 private:
  storage::MetadataStore* const inner_;
  FaultInjector* const faults_;
};

class FailingProfileTaskStore final : public storage::ProfileTaskStore {
 public:
  FailingProfileTaskStore(storage::ProfileTaskStore* inner, FaultInjector* faults)
      : inner_(inner), faults_(faults) {}
  absl::Status PutTask(const model::ProfileTask& task) override {
    SH_RETURN_IF_ERROR(faults_->Check("PutTask"));
    return inner_->PutTask(task);
  }
  absl::StatusOr<std::vector<model::ProfileTask>> ListTasks() const override {
    SH_RETURN_IF_ERROR(faults_->Check("ListTasks"));
    return inner_->ListTasks();
  }
  absl::Status AddLog(const model::ProfileTaskLog& log, int64_t task_end_ms) override {
    SH_RETURN_IF_ERROR(faults_->Check("AddLog"));
    return inner_->AddLog(log, task_end_ms);
  }
  absl::StatusOr<std::vector<model::ProfileTaskLog>> ListLogs(
      const std::string& task_id) const override {
    SH_RETURN_IF_ERROR(faults_->Check("ListLogs"));
    return inner_->ListLogs(task_id);
  }

 private:
  storage::ProfileTaskStore* const inner_;
  FaultInjector* const faults_;
};

class FailingSnapshotStore final : public storage::SnapshotStore {
 public:
  FailingSnapshotStore(storage::SnapshotStore* inner, FaultInjector* faults)
      : inner_(inner), faults_(faults) {}
  absl::StatusOr<std::vector<uint64_t>> ResolveStacks(
      absl::Span<const storage::PendingStack> stacks) override {
    SH_RETURN_IF_ERROR(faults_->Check("ResolveStacks"));
    return inner_->ResolveStacks(stacks);
  }
  absl::Status AddDumps(absl::Span<const storage::ResolvedDump> dumps) override {
    SH_RETURN_IF_ERROR(faults_->Check("AddDumps"));
    return inner_->AddDumps(dumps);
  }
  absl::StatusOr<std::vector<std::string>> ListProfiledSegments(
      const std::string& task_id) const override {
    SH_RETURN_IF_ERROR(faults_->Check("ListProfiledSegments"));
    return inner_->ListProfiledSegments(task_id);
  }
  absl::Status ScanDumps(
      const std::string& segment_id,
      const std::function<void(const storage::StoredDump&)>& visit) const override {
    SH_RETURN_IF_ERROR(faults_->Check("ScanDumps"));
    return inner_->ScanDumps(segment_id, visit);
  }
  absl::Status AddGoProfile(const model::GoProfile& profile) override {
    SH_RETURN_IF_ERROR(faults_->Check("AddGoProfile"));
    return inner_->AddGoProfile(profile);
  }
  absl::StatusOr<std::vector<model::GoSegmentProfile>> ListGoProfiles(
      const std::string& segment_id) const override {
    SH_RETURN_IF_ERROR(faults_->Check("ListGoProfiles"));
    return inner_->ListGoProfiles(segment_id);
  }
  absl::StatusOr<std::optional<std::string>> GetGoProfile(
      const std::string& profile_key) const override {
    SH_RETURN_IF_ERROR(faults_->Check("GetGoProfile"));
    return inner_->GetGoProfile(profile_key);
  }
  absl::StatusOr<std::vector<std::string>> GetStack(uint64_t stack_id) const override {
    SH_RETURN_IF_ERROR(faults_->Check("GetStack"));
    return inner_->GetStack(stack_id);
  }

 private:
  storage::SnapshotStore* const inner_;
  FaultInjector* const faults_;
};

class FailingSegmentStore final : public storage::SegmentStore {
 public:
  FailingSegmentStore(storage::SegmentStore* inner, FaultInjector* faults)
      : inner_(inner), faults_(faults) {}
  absl::Status AddSegments(const std::vector<model::Segment>& segments,
                           const std::vector<model::SegmentSummary>& summaries) override {
    SH_RETURN_IF_ERROR(faults_->Check("AddSegments"));
    return inner_->AddSegments(segments, summaries);
  }
  absl::StatusOr<std::optional<storage::StoredSegment>> GetSegment(
      const std::string& segment_id) const override {
    SH_RETURN_IF_ERROR(faults_->Check("GetSegment"));
    return inner_->GetSegment(segment_id);
  }
  absl::StatusOr<std::vector<storage::StoredSegment>> ListByTraceAndInstance(
      const std::string& trace_id, const std::string& instance_id) const override {
    SH_RETURN_IF_ERROR(faults_->Check("ListByTraceAndInstance"));
    return inner_->ListByTraceAndInstance(trace_id, instance_id);
  }
  absl::StatusOr<std::vector<storage::StoredSegment>> ListByTrace(const std::string& trace_id,
                                                                  size_t limit) const override {
    SH_RETURN_IF_ERROR(faults_->Check("ListByTrace"));
    return inner_->ListByTrace(trace_id, limit);
  }

 private:
  storage::SegmentStore* const inner_;
  FaultInjector* const faults_;
};

class FailingEbpfStore final : public storage::EbpfStore {
 public:
  FailingEbpfStore(storage::EbpfStore* inner, FaultInjector* faults)
      : inner_(inner), faults_(faults) {}
  absl::Status PutProcesses(const std::vector<model::Process>& processes) override {
    SH_RETURN_IF_ERROR(faults_->Check("PutProcesses"));
    return inner_->PutProcesses(processes);
  }
  absl::StatusOr<std::vector<model::Process>> ListProcesses() const override {
    SH_RETURN_IF_ERROR(faults_->Check("ListProcesses"));
    return inner_->ListProcesses();
  }
  absl::Status PutTask(const model::EbpfTask& task) override {
    SH_RETURN_IF_ERROR(faults_->Check("PutTask"));
    return inner_->PutTask(task);
  }
  absl::StatusOr<std::vector<model::EbpfTask>> ListTasks() const override {
    SH_RETURN_IF_ERROR(faults_->Check("ListTasks"));
    auto tasks = inner_->ListTasks();
    if (auto hook = std::exchange(after_list_tasks, nullptr)) hook();
    return tasks;
  }
  absl::Status PutSchedule(const model::EbpfSchedule& schedule) override {
    SH_RETURN_IF_ERROR(faults_->Check("PutSchedule"));
    return inner_->PutSchedule(schedule);
  }
  absl::StatusOr<std::optional<model::EbpfSchedule>> GetSchedule(
      const std::string& schedule_id) const override {
    SH_RETURN_IF_ERROR(faults_->Check("GetSchedule"));
    return inner_->GetSchedule(schedule_id);
  }
  absl::StatusOr<std::vector<model::EbpfSchedule>> ListSchedules(
      const std::string& task_id) const override {
    SH_RETURN_IF_ERROR(faults_->Check("ListSchedules"));
    return inner_->ListSchedules(task_id);
  }
  absl::StatusOr<std::vector<uint64_t>> ResolveStacks(
      absl::Span<const storage::PendingStack> stacks) override {
    SH_RETURN_IF_ERROR(faults_->Check("ResolveStacks"));
    return inner_->ResolveStacks(stacks);
  }
  absl::Status AddSampleBlock(const std::string& schedule_id, int64_t upload_time_ms,
                              absl::Span<const storage::StoredEbpfSample> samples) override {
    SH_RETURN_IF_ERROR(faults_->Check("AddSampleBlock"));
    return inner_->AddSampleBlock(schedule_id, upload_time_ms, samples);
  }
  absl::Status ScanSamples(
      const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
      const std::function<void(const storage::StoredEbpfSample&)>& visit) const override {
    SH_RETURN_IF_ERROR(faults_->Check("ScanSamples"));
    return inner_->ScanSamples(schedule_id, from_ms, to_ms, visit);
  }
  absl::Status ScanSampleBlocks(
      const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
      const std::function<void(storage::EbpfSampleBlock&)>& visit) const override {
    SH_RETURN_IF_ERROR(faults_->Check("ScanSampleBlocks"));
    return inner_->ScanSampleBlocks(schedule_id, from_ms, to_ms, visit);
  }
  absl::StatusOr<std::vector<model::EbpfSymbol>> GetStack(uint64_t stack_id) const override {
    SH_RETURN_IF_ERROR(faults_->Check("GetStack"));
    return inner_->GetStack(stack_id);
  }

  // Runs once, right after the next ListTasks has read (before it returns): a test acts
  // between a reload's read and its use of what it read.
  mutable std::function<void()> after_list_tasks;

 private:
  storage::EbpfStore* const inner_;
  FaultInjector* const faults_;
};

class FailingUiTemplateStore final : public storage::UiTemplateStore {
 public:
  FailingUiTemplateStore(storage::UiTemplateStore* inner, FaultInjector* faults)
      : inner_(inner), faults_(faults) {}
  absl::Status PutTemplate(const storage::UiTemplate& t) override {
    SH_RETURN_IF_ERROR(faults_->Check("PutTemplate"));
    return inner_->PutTemplate(t);
  }
  absl::StatusOr<std::optional<storage::UiTemplate>> GetTemplate(
      const std::string& id) const override {
    SH_RETURN_IF_ERROR(faults_->Check("GetTemplate"));
    return inner_->GetTemplate(id);
  }
  absl::StatusOr<std::vector<storage::UiTemplate>> ListTemplates() const override {
    SH_RETURN_IF_ERROR(faults_->Check("ListTemplates"));
    return inner_->ListTemplates();
  }

 private:
  storage::UiTemplateStore* const inner_;
  FaultInjector* const faults_;
};

}  // namespace stackhouse::fakes
