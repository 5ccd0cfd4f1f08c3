#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "model/ebpf.h"
#include "storage/stack_fingerprint.h"
#include "storage/stack_visitor.h"

namespace stackhouse::storage {

// eBPF stacks are stored in the stack dictionary with each frame encoded as a tag byte (the
// space the symbol runs in) followed by the symbol name.
inline constexpr char kKernelFrameTag = 'k';
inline constexpr char kUserFrameTag = 'u';

inline char EbpfFrameTag(model::StackType type) {
  return type == model::StackType::kKernel ? kKernelFrameTag : kUserFrameTag;
}

// `symbol` as a dictionary frame: its tag, then its name.
std::string EncodeEbpfFrame(const model::EbpfSymbol& symbol);

// One stored sample: its stack is a reference into the stack dictionary.
struct StoredEbpfSample {
  int64_t upload_time_ms = 0;
  uint64_t stack_id = 0;
  model::EbpfTargetType target_type = model::EbpfTargetType::kOnCpu;
  int64_t dump_count = 0;
  int64_t switch_count = 0;
  int64_t duration_ns = 0;
};

// The samples of one upload, decoded one at a time (no allocation per sample). Valid only
// during the ScanSampleBlocks callback that hands it out. Not thread-safe.
class EbpfSampleBlock {
 public:
  EbpfSampleBlock(int64_t upload_time_ms, model::EbpfTargetType target_type, uint64_t count,
                  absl::string_view encoded)
      : upload_time_ms_(upload_time_ms),
        target_type_(target_type),
        remaining_(count),
        encoded_(encoded) {}

  int64_t upload_time_ms() const { return upload_time_ms_; }
  model::EbpfTargetType target_type() const { return target_type_; }

  // Decodes the next sample into `*sample`; false at the end or on a corrupt block (then
  // `corrupt()` is true).
  bool Next(StoredEbpfSample* sample);
  bool corrupt() const { return corrupt_; }

 private:
  const int64_t upload_time_ms_;
  const model::EbpfTargetType target_type_;
  uint64_t remaining_;
  absl::string_view encoded_;
  bool corrupt_ = false;
};

// Roll-ups: the samples of one schedule and one minute of upload time, [m, m + 60 s) with m a
// multiple of kEbpfRollupMinuteMs since the epoch, summed per distinct stack.
inline constexpr int64_t kEbpfRollupMinuteMs = 60'000;
// The start of the roll-up minute holding `t` (floor); times in the first minute of int64 map to
// its lowest value, a minute no reader ever treats as whole.
int64_t EbpfRollupMinuteOf(int64_t t);

// One distinct stack of a roll-up.
struct EbpfRollupStack {
  uint64_t stack_id = 0;
  // The upload time of the first of its samples in the minute's read order.
  int64_t first_upload_time_ms = 0;
  // Sums over the minute's samples of this stack: dump counts of the On-CPU ones, switch counts
  // and durations of the Off-CPU ones (exact: each stored value is below 2^63).
  absl::int128 dump_count = 0;
  absl::int128 switch_count = 0;
  absl::int128 duration_ns = 0;
};

// One roll-up, decoded one stack at a time (no allocation per stack). It stands for reading
// every sample block of its minute in order (EbpfStore::ScanSampleBlocks): its stacks come in
// the order in which they first appear there (by upload time, then block, then position), each
// with its sums. Valid only during the callback that hands it out. Not thread-safe.
class EbpfRollup {
 public:
  EbpfRollup(int64_t minute_start_ms, bool has_on_cpu, bool has_off_cpu, uint64_t count,
             absl::string_view encoded)
      : minute_start_ms_(minute_start_ms),
        has_on_cpu_(has_on_cpu),
        has_off_cpu_(has_off_cpu),
        count_(count),
        remaining_(count),
        encoded_(encoded),
        previous_time_ms_(minute_start_ms) {}

  int64_t minute_start_ms() const { return minute_start_ms_; }
  // Whether the minute held a block of On-CPU / Off-CPU samples.
  bool has_on_cpu() const { return has_on_cpu_; }
  bool has_off_cpu() const { return has_off_cpu_; }
  // The number of distinct stacks.
  uint64_t size() const { return count_; }

  // Decodes the next stack into `*stack`; false at the end or on a corrupt roll-up (then
  // `corrupt()` is true).
  bool Next(EbpfRollupStack* stack);
  bool corrupt() const { return corrupt_; }

 private:
  const int64_t minute_start_ms_;
  const bool has_on_cpu_;
  const bool has_off_cpu_;
  const uint64_t count_;
  uint64_t remaining_;
  absl::string_view encoded_;
  int64_t previous_time_ms_;
  bool corrupt_ = false;
};

// What EbpfStore::ScanAggregated hands out, in upload-time order. Each method returns false to
// stop the scan.
class EbpfSampleVisitor {
 public:
  virtual ~EbpfSampleVisitor() = default;
  // One raw block of samples (one upload, one target type).
  virtual bool Block(EbpfSampleBlock& block) = 0;
  // Every sample of one whole minute, summed per stack.
  virtual bool Rollup(EbpfRollup& rollup) = 0;
};

// What one EbpfStore::RollUp call did.
struct EbpfRollupStats {
  int64_t rolled_up = 0;  // minutes whose roll-up was written
  int64_t left_raw = 0;   // minutes read raw from now on (too few samples per stack, or expired)
  int64_t retried = 0;    // minutes that changed while being rolled up: still pending
  int64_t pending = 0;    // minutes still pending after the call (new samples, not rolled up)
};

// One minute of one schedule's samples summed per stack, in order of first appearance (what a
// roll-up holds; EbpfStore::SumMinute).
struct EbpfMinuteSums {
  std::vector<EbpfRollupStack> stacks;
  int64_t samples = 0;
  bool has_on_cpu = false;
  bool has_off_cpu = false;
  // At least kMinSamplesPerRollupStack samples per distinct stack (else reading the minute raw
  // costs as little as its roll-up would).
  bool WorthARollup() const;
};

// eBPF profiling records: processes, tasks, schedules, a dictionary of distinct stacks and
// sample blocks (one record per schedule and upload). Implementations are thread-safe.
class EbpfStore {
 public:
  virtual ~EbpfStore() = default;

  // Stores (replaces) the processes atomically; they expire metricsDataTTL after last_ping.
  virtual absl::Status PutProcesses(const std::vector<model::Process>& processes) = 0;
  // Every live process, ordered by id.
  virtual absl::StatusOr<std::vector<model::Process>> ListProcesses() const = 0;

  // Appends one task record (records sharing a logical id are merged by readers).
  virtual absl::Status PutTask(const model::EbpfTask& task) = 0;
  virtual absl::StatusOr<std::vector<model::EbpfTask>> ListTasks() const = 0;
  // Stores `task`, the first record of a new logical id, unless a record of that id is stored
  // already: then false, and nothing is written. The check and the write are one step against
  // every other PutNewTask of that id through any store over the same data (the PostgreSQL store
  // locks the id in the database, so that two nodes never give two tasks one id). This default
  // lists the tasks and calls PutTask: one step only while the caller lets no other creation
  // run meanwhile (EbpfService, one node).
  virtual absl::StatusOr<bool> PutNewTask(const model::EbpfTask& task);

  // Stores a schedule; it expires metricsDataTTL after its end time. One of the same id stored
  // already is replaced but keeps the later of the two end times, so that nodes extending one
  // schedule never shorten it, in whatever order their writes arrive.
  virtual absl::Status PutSchedule(const model::EbpfSchedule& schedule) = 0;
  virtual absl::StatusOr<std::optional<model::EbpfSchedule>> GetSchedule(
      const std::string& schedule_id) const = 0;
  // The live schedules of `task_id`, in no particular order.
  virtual absl::StatusOr<std::vector<model::EbpfSchedule>> ListSchedules(
      const std::string& task_id) const = 0;

  // Resolves stacks (frames encoded by EncodeEbpfFrame, root first) to their dictionary ids,
  // same order, storing new ones durably. Callers may keep the ids for later blocks.
  virtual absl::StatusOr<std::vector<uint64_t>> ResolveStacks(
      absl::Span<const PendingStack> stacks) = 0;

  // Stores samples of one upload of one schedule, whose stack ids come from ResolveStacks (at
  // any time before), as one block per target type (durable when OK); the stacks are kept at
  // least as long as the samples (NotFound if one is no longer stored). Each sample's target type
  // and the values of that type are used; its upload time is `upload_time_ms`. Samples expire
  // recordDataTTL after `upload_time_ms`. In the same atomic write, the roll-up of the minute
  // of `upload_time_ms` (if any) is removed and the minute is marked pending for RollUp.
  virtual absl::Status AddSampleBlock(const std::string& schedule_id, int64_t upload_time_ms,
                                      absl::Span<const StoredEbpfSample> samples) = 0;

  // Encodes the stacks of a roll-up for EbpfRollup (the format another backend may store as
  // is): `stacks` in order of first appearance, non-decreasing first upload times.
  static std::string EncodeRollupStacks(absl::Span<const EbpfRollupStack> stacks,
                                        int64_t minute_start_ms, bool has_on_cpu, bool has_off_cpu);

  // Appends the samples of `type` among `samples` to `*encoded` in EbpfSampleBlock's format (the
  // format another backend may store as is: per sample its 8-byte stack id, then its varint
  // values, negative ones as 0) and returns how many there were.
  static uint64_t EncodeSampleBlock(absl::Span<const StoredEbpfSample> samples,
                                    model::EbpfTargetType type, std::string* encoded);

  // ResolveStacks + AddSampleBlock for samples that carry their symbols.
  absl::Status AddSamples(const std::string& schedule_id, int64_t upload_time_ms,
                          const std::vector<model::EbpfSample>& samples);

  // Calls `visit` for each live sample of `schedule_id` with from <= upload time < to, in
  // upload-time order.
  virtual absl::Status ScanSamples(
      const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
      const std::function<void(const StoredEbpfSample&)>& visit) const = 0;

  // Calls `visit` for each live upload (block of samples) of `schedule_id` with from <= upload
  // time < to, in upload-time order. The fast path for analysis.
  virtual absl::Status ScanSampleBlocks(
      const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
      const std::function<void(EbpfSampleBlock&)>& visit) const = 0;

  // Visits each live sample of `schedule_id` with from <= upload time < to exactly once, in
  // upload-time order: a whole minute inside [from, to) either as its roll-up (when one is
  // stored and the minute has not changed since) or as its raw blocks, the ragged edges and every
  // other minute as raw blocks (ScanSampleBlocks). Reading the roll-up of a minute gives the
  // same per-stack sums and the same order of first appearance as reading its blocks. Stops when
  // the visitor returns false. The default reads raw blocks only (a backend without roll-ups).
  // Errors: storage failures, DataLoss for a corrupt block or roll-up.
  virtual absl::Status ScanAggregated(const std::string& schedule_id, int64_t from_ms,
                                      int64_t to_ms, EbpfSampleVisitor& visitor) const;

  // Writes the roll-ups of minutes that took samples (AddSampleBlock) and have been closed for a
  // while (ended at least kRollupDelayMs before the store's clock), oldest first, at most
  // `max_minutes` of them. A roll-up is stamped with its minute's start, so it expires with the
  // first of the minute's samples (the minute is then read raw, as the raw path would); it
  // retains its stacks in the dictionary. Contract with AddSampleBlock: an add into a minute
  // removes that minute's roll-up atomically with the block (and marks the minute pending, also
  // across restarts); a roll-up computed while an add into its minute ran is not written (the
  // minute stays pending and is rolled up by a later call). A minute with fewer than
  // kMinSamplesPerRollupStack samples per distinct stack gets no roll-up (reading it raw costs
  // as little). Calls must not overlap (one background job); adds and scans may run meanwhile.
  // The default does nothing. Errors: storage failures (what was committed before stays).
  virtual absl::StatusOr<EbpfRollupStats> RollUp(int64_t max_minutes);

  // The samples of `schedule_id` in [minute_ms, minute_ms + kEbpfRollupMinuteMs), summed per
  // stack as a roll-up of the minute sums them (read through ScanSampleBlocks).
  absl::StatusOr<EbpfMinuteSums> SumMinute(const std::string& schedule_id, int64_t minute_ms) const;

  // How long after its end a minute is rolled up (late uploads into it are still correct,
  // only costlier: the minute is rolled up again).
  static constexpr int64_t kRollupDelayMs = 30'000;
  // A minute gets a roll-up only if it holds at least this many samples per distinct stack.
  static constexpr int64_t kMinSamplesPerRollupStack = 8;

  // The symbols (root first) of a stack referenced by a sample; NotFound when expired.
  virtual absl::StatusOr<std::vector<model::EbpfSymbol>> GetStack(uint64_t stack_id) const = 0;

  // Reads the stacks `stack_ids` (fastest in ascending order) and hands them to `visitor`, each
  // distinct frame once (see StackVisitor), a frame as EncodeEbpfFrame encodes its symbol; a
  // stack that has expired is not visited. The analyses' way to read many stacks. The default
  // reads them one by one (GetStack). Errors: storage failures.
  virtual absl::Status ReadStacks(absl::Span<const uint64_t> stack_ids,
                                  StackVisitor& visitor) const;
};

}  // namespace stackhouse::storage
