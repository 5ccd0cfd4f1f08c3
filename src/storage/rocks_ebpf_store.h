#pragma once

#include <functional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "storage/database.h"
#include "storage/ebpf_store.h"
#include "storage/stack_dictionary.h"

namespace stackhouse::storage {

// EbpfStore on RocksDB.
//
// Layout: metadata family `r`+process id → ProcessRecord (stamped with the last ping); task
// family `e`+logical id+create time → EbpfTaskRecord; ebpf_schedule family `S`+schedule id →
// record and `T`+task id+schedule id → index (stamped with the end time); ebpf_stack family:
// the stack dictionary, each frame encoded by EncodeEbpfFrame (a 'k'/'u' tag + symbol);
// ebpf_sample family `b`+schedule id+upload time+nonce → one block holding every sample of
// one upload: target type, count, then per sample the 8-byte stack id and varint values.
// A repeated sample thus costs its stack id and a few value bytes. Roll-ups, in the ebpf_sample
// family too (record retention, stamped with the minute's start): `m`+schedule id+minute start →
// the minute's stacks (EbpfStore::EncodeRollupStacks behind a version, flags and count), and
// `d`+minute start+schedule id → "" while the minute has samples not rolled up (pending); both
// change only together with a block (AddSampleBlock) or together with each other (RollUp), in
// one atomic write, so a restart finds them consistent. Thread-safe.
class RocksEbpfStore final : public EbpfStore {
 public:
  // `db` and `clock` must outlive the store.
  RocksEbpfStore(Database* db, const Clock* clock)
      : db_(db), clock_(clock), stacks_(db, Family::kEbpfStack, db->max_future_skew_ms()) {}

  absl::Status PutProcesses(const std::vector<model::Process>& processes) override;
  absl::StatusOr<std::vector<model::Process>> ListProcesses() const override;
  absl::Status PutTask(const model::EbpfTask& task) override;
  absl::StatusOr<std::vector<model::EbpfTask>> ListTasks() const override;
  absl::Status PutSchedule(const model::EbpfSchedule& schedule) override;
  absl::StatusOr<std::optional<model::EbpfSchedule>> GetSchedule(
      const std::string& schedule_id) const override;
  absl::StatusOr<std::vector<model::EbpfSchedule>> ListSchedules(
      const std::string& task_id) const override;
  absl::StatusOr<std::vector<uint64_t>> ResolveStacks(
      absl::Span<const PendingStack> stacks) override;
  absl::Status AddSampleBlock(const std::string& schedule_id, int64_t upload_time_ms,
                              absl::Span<const StoredEbpfSample> samples) override;
  absl::Status ScanSamples(
      const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
      const std::function<void(const StoredEbpfSample&)>& visit) const override;
  absl::Status ScanSampleBlocks(const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
                                const std::function<void(EbpfSampleBlock&)>& visit) const override;
  absl::StatusOr<std::vector<model::EbpfSymbol>> GetStack(uint64_t stack_id) const override;
  absl::Status ReadStacks(absl::Span<const uint64_t> stack_ids,
                          StackVisitor& visitor) const override;
  absl::Status ScanAggregated(const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
                              EbpfSampleVisitor& visitor) const override;
  absl::StatusOr<EbpfRollupStats> RollUp(int64_t max_minutes) override
      ABSL_LOCKS_EXCLUDED(rollup_mu_, pending_mu_);

  // Tests: called by RollUp after it has read its minutes and before it commits them.
  void SetRollupHookForTest(std::function<void()> hook) { rollup_hook_ = std::move(hook); }

 private:
  using MinuteKey = std::pair<int64_t, std::string>;  // (minute start, schedule id)

  // ScanSampleBlocks until `visit` returns false.
  absl::Status ScanBlocks(const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
                          const std::function<bool(EbpfSampleBlock&)>& visit) const;
  // Loads the pending minutes stored by an earlier process (once).
  absl::Status LoadPending() ABSL_LOCKS_EXCLUDED(rollup_mu_, pending_mu_);
  // The roll-up of one minute as stored (nullopt: leave it raw).
  absl::StatusOr<std::optional<std::string>> ComputeRollup(const MinuteKey& minute, int64_t now);

  // Constant after construction.
  Database* const db_;
  const Clock* const clock_;
  StackDictionary stacks_;
  std::function<void()> rollup_hook_;

  // Serialises PutSchedule's read of the stored end time and its write.
  absl::Mutex schedule_mu_;

  // Adds hold rollup_mu_ shared while they write a block and record its minute as pending; a
  // roll-up's commit holds it exclusively while it checks that its minutes did not change since
  // it read them and writes them. So no add can slip between that check and that write.
  absl::Mutex rollup_mu_;
  bool pending_loaded_ ABSL_GUARDED_BY(rollup_mu_) = false;
  absl::Mutex pending_mu_ ABSL_ACQUIRED_AFTER(rollup_mu_);
  // The pending minutes (what the `d` records say, once loaded) → a generation, new on every add.
  absl::btree_map<MinuteKey, uint64_t> pending_ ABSL_GUARDED_BY(pending_mu_);
  uint64_t next_generation_ ABSL_GUARDED_BY(pending_mu_) = 1;
};

}  // namespace stackhouse::storage
