#include "profile/ebpf_profile.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "analysis/ebpf_stack_merge.h"
#include "analysis/ebpf_time_ranges.h"
#include "common/status_macros.h"

namespace stackhouse::profile {
namespace {

// Maps dictionary stack ids to dense analysis ids: a direct-mapped cache in front of a hash
// map, since a schedule repeats a few distinct stacks millions of times.
class StackIdMap {
 public:
  static constexpr int64_t kUnknown = -2;

  int64_t Find(uint64_t id) const {
    const Slot& slot = cache_[id & kMask];
    if (slot.valid && slot.id == id) return slot.dense;
    auto it = map_.find(id);
    return it == map_.end() ? kUnknown : it->second;
  }
  void Insert(uint64_t id, int64_t dense) {
    map_[id] = dense;
    cache_[id & kMask] = Slot{true, id, dense};
  }
  void Touch(uint64_t id, int64_t dense) { cache_[id & kMask] = Slot{true, id, dense}; }

 private:
  static constexpr size_t kSize = 4096;
  static constexpr uint64_t kMask = kSize - 1;
  struct Slot {
    bool valid = false;
    uint64_t id = 0;
    int64_t dense = 0;
  };
  std::vector<Slot> cache_ = std::vector<Slot>(kSize);
  absl::flat_hash_map<uint64_t, int64_t> map_;
};

// Interns the symbols of the stacks read, each frame once (a symbol is hashed once per
// analysis, not once per stack that holds it), and adds the stacks to an EbpfStackTable.
class StackLoader final : public storage::StackVisitor {
 public:
  StackLoader(analysis::FrameTable* symbols, analysis::EbpfStackTable* stacks,
              absl::FunctionRef<void(size_t, uint32_t)> added)
      : symbols_(symbols), stacks_(stacks), added_(added) {}

  void Frame(absl::string_view frame) override {
    if (frame.empty()) {
      status_ = absl::DataLossError("cannot decode stored eBPF stack frame");
      frames_.emplace_back();
      return;
    }
    frames_.push_back({symbols_->Intern(frame.substr(1)), frame[0] == storage::kKernelFrameTag
                                                              ? analysis::StackType::kKernelSpace
                                                              : analysis::StackType::kUserSpace});
  }

  void Stack(size_t index, absl::Span<const uint32_t> numbers) override {
    path_.clear();
    for (uint32_t number : numbers) path_.push_back(frames_[number]);
    added_(index, stacks_->Add(path_));
  }

  // DataLoss if a frame could not be decoded.
  const absl::Status& status() const { return status_; }

 private:
  analysis::FrameTable* const symbols_;
  analysis::EbpfStackTable* const stacks_;
  const absl::FunctionRef<void(size_t, uint32_t)> added_;
  std::vector<analysis::EbpfFrame> frames_;  // by frame number
  std::vector<analysis::EbpfFrame> path_;
  absl::Status status_;
};

// Per distinct stack: where it first appears in read order, and its values summed.
struct StackAccumulator {
  int64_t first_time = 0;
  uint32_t first_schedule = 0;
  uint64_t first_position = 0;
  absl::int128 sum = 0;
  bool seen = false;

  bool Before(const StackAccumulator& other) const {
    return std::tie(first_time, first_schedule, first_position) <
           std::tie(other.first_time, other.first_schedule, other.first_position);
  }
};

// The start of the minute holding `t`, for t far from int64's lowest value.
int64_t FloorMinute(int64_t t) {
  int64_t r = t % storage::kEbpfRollupMinuteMs;
  if (r < 0) r += storage::kEbpfRollupMinuteMs;
  return t - r;
}

// Reads samples and roll-ups into per-stack accumulators, one chunk of time (all schedules) at
// a time: a chunk's sums join the totals only when the whole chunk was read (Commit), so that a
// chunk cut by the sample limit leaves no trace (Abort). Not thread-safe.
class Aggregator final : public storage::EbpfSampleVisitor {
 public:
  Aggregator(const storage::EbpfStore& store, bool by_duration)
      : store_(store), by_duration_(by_duration) {}

  // Reading schedule `index` (its place among the distinct schedules) from now on.
  void SetSchedule(uint32_t index) { schedule_ = index; }
  // Reads stop (visitor methods return false, over() is true) once more than `limit` samples
  // (a roll-up: one per stack) have been read by this aggregator in all.
  void SetLimit(int64_t limit) { limit_ = limit; }
  bool over() const { return over_; }
  int64_t read() const { return read_; }

  bool Block(storage::EbpfSampleBlock& block) override {
    (block.target_type() == model::EbpfTargetType::kOnCpu ? chunk_on_cpu_ : chunk_off_cpu_) = true;
    // The hot loop (one pass per sample): counters in locals.
    storage::StoredEbpfSample stored;
    const bool on_cpu = block.target_type() == model::EbpfTargetType::kOnCpu;
    int64_t read = read_;
    bool go = true;
    while (block.Next(&stored)) {
      if (++read > limit_) {
        over_ = true;
        go = false;
        break;
      }
      ++position_;
      Add(Dense(stored.stack_id), stored.upload_time_ms,
          on_cpu ? stored.dump_count : (by_duration_ ? stored.duration_ns : stored.switch_count));
    }
    read_ = read;
    return go;
  }

  bool Rollup(storage::EbpfRollup& rollup) override {
    if (read_ + static_cast<int64_t>(rollup.size()) > limit_) {
      read_ = limit_ + 1;
      over_ = true;
      return false;
    }
    read_ += static_cast<int64_t>(rollup.size());
    if (rollup.has_on_cpu()) chunk_on_cpu_ = true;
    if (rollup.has_off_cpu()) chunk_off_cpu_ = true;
    storage::EbpfRollupStack stack;
    while (rollup.Next(&stack)) {
      ++position_;
      Add(Dense(stack.stack_id), stack.first_upload_time_ms,
          stack.dump_count + (by_duration_ ? stack.duration_ns : stack.switch_count));
    }
    return true;
  }

  // The chunk read since the last Commit or Abort joins the totals.
  void Commit() {
    for (uint32_t dense : touched_) {
      StackAccumulator& chunk = chunk_[dense];
      StackAccumulator& total = totals_[dense];
      if (!total.seen || chunk.Before(total)) {
        total.first_time = chunk.first_time;
        total.first_schedule = chunk.first_schedule;
        total.first_position = chunk.first_position;
      }
      total.seen = true;
      total.sum += chunk.sum;
      chunk.seen = false;
    }
    touched_.clear();
    has_on_cpu_ = has_on_cpu_ || chunk_on_cpu_;
    has_off_cpu_ = has_off_cpu_ || chunk_off_cpu_;
    chunk_on_cpu_ = chunk_off_cpu_ = false;
  }

  // The chunk read since the last Commit or Abort is forgotten (its reads stay counted).
  void Abort() {
    for (uint32_t dense : touched_) chunk_[dense].seen = false;
    touched_.clear();
    chunk_on_cpu_ = chunk_off_cpu_ = false;
    over_ = false;
  }

  // The committed totals in order of first appearance, and the trees. Errors: reading the
  // stacks.
  absl::StatusOr<EbpfProfile> Finish() && {
    std::vector<uint32_t> order;
    for (uint32_t i = 0; i < totals_.size(); ++i) {
      if (totals_[i].seen) order.push_back(i);
    }
    SH_ASSIGN_OR_RETURN(std::vector<int64_t> table_ids, ResolveStacks(order));
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return totals_[a].Before(totals_[b]); });
    std::vector<analysis::StackTotal> ordered;
    ordered.reserve(order.size());
    for (uint32_t id : order) {
      // An expired stack's samples are skipped.
      if (table_ids[id] >= 0) {
        ordered.push_back({static_cast<uint32_t>(table_ids[id]), totals_[id].sum});
      }
    }
    EbpfProfile profile;
    profile.by_duration = by_duration_;
    profile.has_on_cpu_samples = has_on_cpu_;
    profile.has_off_cpu_samples = has_off_cpu_;
    SH_ASSIGN_OR_RETURN(profile.analysis, analysis::BuildEbpfTrees(ordered, stacks_, *symbols_));
    profile.symbols = std::move(symbols_);
    return profile;
  }

 private:
  // The dense id of a dictionary stack id, a new one on first sight (its frames are read by
  // Finish).
  ABSL_ATTRIBUTE_ALWAYS_INLINE size_t Dense(uint64_t stack_id) {
    const int64_t dense = ids_.Find(stack_id);
    return static_cast<size_t>(dense != StackIdMap::kUnknown ? dense : NewDense(stack_id));
  }

  int64_t NewDense(uint64_t stack_id) {
    const auto dense = static_cast<int64_t>(stack_ids_.size());
    stack_ids_.push_back(stack_id);
    totals_.emplace_back();
    chunk_.emplace_back();
    ids_.Insert(stack_id, dense);
    return dense;
  }

  // Reads the frames of the dense ids in `dense_ids` into stacks_, in the order of their
  // dictionary ids (the order of their keys, so that neighbours share the blocks read), and
  // returns the stack table id of every dense id: -1 for a stack no longer stored, or one not
  // in `dense_ids`.
  absl::StatusOr<std::vector<int64_t>> ResolveStacks(std::vector<uint32_t> dense_ids) {
    std::sort(dense_ids.begin(), dense_ids.end(),
              [&](uint32_t a, uint32_t b) { return stack_ids_[a] < stack_ids_[b]; });
    std::vector<uint64_t> sorted_ids(dense_ids.size());
    for (size_t i = 0; i < dense_ids.size(); ++i) sorted_ids[i] = stack_ids_[dense_ids[i]];
    std::vector<int64_t> table_ids(stack_ids_.size(), -1);
    const auto added = [&](size_t i, uint32_t table_id) { table_ids[dense_ids[i]] = table_id; };
    StackLoader loader(symbols_.get(), &stacks_, added);
    SH_RETURN_IF_ERROR(store_.ReadStacks(sorted_ids, loader));
    SH_RETURN_IF_ERROR(loader.status());
    return table_ids;
  }

  ABSL_ATTRIBUTE_ALWAYS_INLINE void Add(size_t dense, int64_t time, absl::int128 value) {
    StackAccumulator& chunk = chunk_[dense];
    if (!chunk.seen) {
      chunk.seen = true;
      chunk.sum = 0;
      touched_.push_back(static_cast<uint32_t>(dense));
    } else if (std::tie(time, schedule_, position_) >=
               std::tie(chunk.first_time, chunk.first_schedule, chunk.first_position)) {
      chunk.sum += value;
      return;
    }
    chunk.first_time = time;
    chunk.first_schedule = schedule_;
    chunk.first_position = position_;
    chunk.sum += value;
  }

  const storage::EbpfStore& store_;
  const bool by_duration_;
  std::shared_ptr<analysis::FrameTable> symbols_ = std::make_shared<analysis::FrameTable>();
  analysis::EbpfStackTable stacks_;
  StackIdMap ids_;
  std::vector<uint64_t> stack_ids_;       // by dense stack id: the dictionary id
  std::vector<StackAccumulator> totals_;  // by dense stack id: committed chunks
  std::vector<StackAccumulator> chunk_;   // by dense stack id: the chunk being read
  std::vector<uint32_t> touched_;         // dense ids with chunk_[id].seen
  uint32_t schedule_ = 0;
  uint64_t position_ = 0;  // read order: grows with every sample and roll-up stack read
  int64_t read_ = 0;
  int64_t limit_ = std::numeric_limits<int64_t>::max();
  bool over_ = false;
  bool has_on_cpu_ = false, has_off_cpu_ = false;
  bool chunk_on_cpu_ = false, chunk_off_cpu_ = false;
};

// Chunks of time read at once over all schedules (minute-aligned inside a window), between
// these lengths; the next one is sized from the rate read so far to use half the budget left.
constexpr int64_t kMinChunkMs = storage::kEbpfRollupMinuteMs;
constexpr int64_t kMaxChunkMs = 24LL * 3600 * 1000;

}  // namespace

absl::StatusOr<EbpfProfile> LoadEbpfProfile(const storage::EbpfStore& store,
                                            const std::vector<std::string>& schedule_ids,
                                            const std::vector<analysis::EbpfTimeRange>& ranges,
                                            bool by_duration, int64_t max_samples) {
  // Stackhouse: the union of the ranges, so that every stored sample counts once.
  const std::vector<analysis::ReadWindow> windows = analysis::MergeTimeRanges(ranges);
  std::vector<std::string> distinct_schedules;
  for (const std::string& id : schedule_ids) {
    if (std::find(distinct_schedules.begin(), distinct_schedules.end(), id) ==
        distinct_schedules.end()) {
      distinct_schedules.push_back(id);
    }
  }
  max_samples = std::clamp<int64_t>(max_samples, 0, int64_t{1} << 61);
  // Aggregates while reading: the merge only needs each stack's total and its first appearance
  // in read order (by upload time, then schedule, then position within the schedule), so no
  // list of millions of samples is built. Time is read in chunks, each over every schedule, so
  // that the sample limit cuts all of them at the same upload time; positions still grow with
  // upload time within each schedule, which is all the order needs.
  Aggregator aggregator(store, by_duration);
  int64_t kept = 0;                            // samples read in committed chunks
  const int64_t work_limit = 2 * max_samples;  // reads, cut chunks included
  int64_t length = kMinChunkMs;
  int64_t read_ms = 0;  // committed time
  std::optional<int64_t> cut_at;
  for (const analysis::ReadWindow& window : windows) {
    for (int64_t t = window.start_ms; t < window.end_ms && !cut_at;) {
      int64_t end = window.end_ms;
      const uint64_t left = static_cast<uint64_t>(window.end_ms) - static_cast<uint64_t>(t);
      if (left > static_cast<uint64_t>(length) && t < window.end_ms - length) {
        const int64_t aligned = FloorMinute(t + length);
        if (aligned > t) end = aligned;
      }
      const int64_t before = aggregator.read();
      aggregator.SetLimit(std::min(before + (max_samples - kept), work_limit));
      for (uint32_t s = 0; s < distinct_schedules.size() && !aggregator.over(); ++s) {
        aggregator.SetSchedule(s);
        SH_RETURN_IF_ERROR(store.ScanAggregated(distinct_schedules[s], t, end, aggregator));
      }
      if (aggregator.over()) {
        aggregator.Abort();
        // The smallest chunk is over the limit, or the reads are: stop here. Else try a
        // quarter of the chunk.
        if (end - t <= kMinChunkMs || aggregator.read() >= work_limit) {
          cut_at = t;
        } else {
          length = std::max(kMinChunkMs, (end - t) / 4);
        }
        continue;
      }
      aggregator.Commit();
      kept += aggregator.read() - before;
      read_ms += end - t;
      t = end;
      // Half of what is left, at the rate read so far.
      const double next = kept == 0 ? 4.0 * static_cast<double>(length)
                                    : static_cast<double>(max_samples - kept) / 2.0 *
                                          static_cast<double>(read_ms) / static_cast<double>(kept);
      length = static_cast<int64_t>(
          std::clamp(next, static_cast<double>(kMinChunkMs), static_cast<double>(kMaxChunkMs)));
    }
    if (cut_at) break;
  }
  SH_ASSIGN_OR_RETURN(EbpfProfile profile, std::move(aggregator).Finish());
  profile.by_duration = by_duration;
  if (cut_at) {
    profile.tip =
        absl::StrCat("Out of eBPF analyze limit, analysis of the samples uploaded before ", *cut_at,
                     " only (at most ", max_samples, " samples per analysis).");
  }
  return profile;
}

absl::StatusOr<std::shared_ptr<const EbpfProfile>> EbpfAnalyzer::Load(
    const std::vector<std::string>& schedule_ids,
    const std::vector<analysis::EbpfTimeRange>& ranges, bool by_duration) const {
  // The key: what LoadEbpfProfile's answer depends on, each part length-prefixed.
  std::string key = by_duration ? "D" : "C";
  std::vector<std::string> distinct;
  for (const std::string& id : schedule_ids) {
    if (std::find(distinct.begin(), distinct.end(), id) != distinct.end()) continue;
    absl::StrAppend(&key, id.size(), ":", id, ";");
    distinct.push_back(id);
  }
  for (const analysis::ReadWindow& w : analysis::MergeTimeRanges(ranges)) {
    absl::StrAppend(&key, "[", w.start_ms, ",", w.end_ms, ")");
  }
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = flights_.try_emplace(key, nullptr);
    if (inserted) it->second = std::make_shared<Flight>();
    flight = it->second;
    leader = inserted;
  }
  if (!leader) {
    if (join_hook_) join_hook_();
    flight->done.WaitForNotification();
    return flight->result;
  }
  absl::StatusOr<EbpfProfile> profile =
      LoadEbpfProfile(*store_, schedule_ids, ranges, by_duration, max_samples_);
  if (profile.ok()) {
    flight->result = std::make_shared<const EbpfProfile>(*std::move(profile));
  } else {
    flight->result = profile.status();
  }
  {
    absl::MutexLock lock(&mu_);
    flights_.erase(key);
  }
  flight->done.Notify();
  return flight->result;
}

}  // namespace stackhouse::profile
