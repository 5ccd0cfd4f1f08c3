#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "analysis/ebpf_stack_merge.h"
#include "analysis/ebpf_time_ranges.h"
#include "analysis/thread_dump.h"
#include "storage/ebpf_store.h"

// eBPF profiles loaded from the store and merged (no GraphQL): analysisEBPFProfilingResult,
// the exports and the diff share it.
namespace stackhouse::profile {

// The merged trees of some schedules' samples, as plain structs.
struct EbpfProfile {
  analysis::EbpfAnalysis analysis;
  // The symbol names the trees' symbol ids refer to; shared so that results built from the
  // profile can keep it alive.
  std::shared_ptr<const analysis::FrameTable> symbols;
  // What the values are: On-CPU samples count dumps (whatever the aggregate type); Off-CPU
  // samples count nanoseconds off CPU when `by_duration`, else context switches.
  bool by_duration = false;
  bool has_on_cpu_samples = false;   // some samples read were On-CPU ones
  bool has_off_cpu_samples = false;  // some samples read were Off-CPU ones
  // Set when the sample limit cut the analysis: what it left out.
  std::optional<std::string> tip;
};

// query.ebpfAnalysisMaxSamples' default: about a third of a second of reading raw samples.
inline constexpr int64_t kDefaultEbpfAnalysisMaxSamples = 10'000'000;

// The eBPF analysis (graphql-protocol.md §5.7): reads the samples of `schedule_ids` in the
// union of `ranges` (each sample once; whole minutes from their roll-ups where the store has
// them, EbpfStore::ScanAggregated, which gives the same answer), aggregating them per stack
// while reading, resolves the distinct stacks and merges them into trees. Values: dumpCount for
// On-CPU; for Off-CPU the duration when `by_duration`, else the switch count. Shared by
// analysisEBPFProfilingResult, the exports and the diff.
//
// Bounded by `max_samples` (query.ebpfAnalysisMaxSamples): samples read, where a minute's
// roll-up counts one per stack. Time is read in chunks over all schedules at once; when the
// next chunk would go over the limit, the analysis ends before it (a smaller chunk is tried
// first, down to a minute), covers the samples uploaded before that time and says so in `tip`.
// Reads, cut chunks included, stay below twice the limit.
// Errors: storage failures; samples whose stack has expired are skipped.
absl::StatusOr<EbpfProfile> LoadEbpfProfile(const storage::EbpfStore& store,
                                            const std::vector<std::string>& schedule_ids,
                                            const std::vector<analysis::EbpfTimeRange>& ranges,
                                            bool by_duration,
                                            int64_t max_samples = kDefaultEbpfAnalysisMaxSamples);

// Runs eBPF analyses (LoadEbpfProfile) with one sample limit, and computes concurrent identical
// requests once: a request equal to one in progress (the same distinct schedules in the same
// order, the same union of time ranges, the same aggregate type: what decides the answer) waits
// for it and shares its result, or its error. Thread-safe.
class EbpfAnalyzer {
 public:
  // `store` must outlive the analyzer.
  EbpfAnalyzer(const storage::EbpfStore* store, int64_t max_samples)
      : store_(store), max_samples_(max_samples) {}

  absl::StatusOr<std::shared_ptr<const EbpfProfile>> Load(
      const std::vector<std::string>& schedule_ids,
      const std::vector<analysis::EbpfTimeRange>& ranges, bool by_duration) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Tests: called (outside the lock) when a request joins one in progress, before it waits.
  void SetJoinHookForTest(std::function<void()> hook) { join_hook_ = std::move(hook); }

 private:
  struct Flight {
    absl::Notification done;
    absl::StatusOr<std::shared_ptr<const EbpfProfile>> result;  // set before `done`
  };

  // Constant after construction.
  const storage::EbpfStore* const store_;
  const int64_t max_samples_;
  std::function<void()> join_hook_;

  mutable absl::Mutex mu_;
  // Requests in progress by key (see Load).
  mutable absl::flat_hash_map<std::string, std::shared_ptr<Flight>> flights_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stackhouse::profile
