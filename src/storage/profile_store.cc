#include "storage/profile_store.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace stackhouse::storage {

absl::Status ProfileTaskStore::PutNewTask(const model::ProfileTask& task,
                                          const TaskConflict& conflicts) {
  SH_ASSIGN_OR_RETURN(std::vector<model::ProfileTask> tasks, ListTasks());
  std::erase_if(tasks,
                [&](const model::ProfileTask& t) { return t.service_id != task.service_id; });
  if (conflicts(tasks)) {
    return absl::FailedPreconditionError(
        absl::StrCat("trace-profiling task ", task.id, " conflicts with a stored task"));
  }
  return PutTask(task);
}

absl::Status SnapshotStore::AddSnapshots(const std::vector<model::ThreadSnapshot>& snapshots) {
  if (snapshots.empty()) return absl::OkStatus();
  std::vector<PendingStack> stacks;
  stacks.reserve(snapshots.size());
  for (const model::ThreadSnapshot& snapshot : snapshots) {
    stacks.push_back({StackHasher::Of(snapshot.frames), &snapshot.frames});
  }
  SH_ASSIGN_OR_RETURN(std::vector<uint64_t> ids, ResolveStacks(stacks));
  std::vector<ResolvedDump> dumps(snapshots.size());
  for (size_t i = 0; i < snapshots.size(); ++i) {
    const model::ThreadSnapshot& s = snapshots[i];
    dumps[i] = {s.task_id, s.segment_id, s.dump_time_ms, s.sequence, ids[i]};
  }
  return AddDumps(dumps);
}

absl::Status SnapshotStore::ReadStacks(absl::Span<const uint64_t> stack_ids,
                                       StackVisitor& visitor) const {
  return VisitStacksOneByOne(
      stack_ids, [this](uint64_t id) { return GetStack(id); }, visitor);
}

}  // namespace stackhouse::storage
