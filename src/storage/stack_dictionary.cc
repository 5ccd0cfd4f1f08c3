#include "storage/stack_dictionary.h"

#include <algorithm>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "common/saturating.h"
#include "common/status_macros.h"
#include "stackhouse/records.pb.h"
#include "storage/key_codec.h"
#include "storage/varint.h"

namespace stackhouse::storage {
namespace {

constexpr char kStackPrefix = 'k';
constexpr char kFramePrefix = 'f';
constexpr size_t kMaxCached = 1 << 20;
constexpr int kMaxProbes = 64;
// Stacks read per MultiGet.
constexpr size_t kReadBatch = 1024;

std::string StackKey(uint64_t id) {
  std::string key(1, kStackPrefix);
  AppendUint64(&key, id);
  return key;
}

std::string FrameKey(uint64_t id) {
  std::string key(1, kFramePrefix);
  AppendUint64(&key, id);
  return key;
}

bool IsFrameIds(absl::string_view value) {
  return !value.empty() && value[0] == StackDictionary::kStackOfFrameIds;
}

// The frame ids of an entry of kStackOfFrameIds; false if it is corrupt.
bool DecodeFrameIds(absl::string_view value, std::vector<uint64_t>* ids) {
  value.remove_prefix(1);
  if (value.size() % 8 != 0) return false;
  ids->clear();
  ids->reserve(value.size() / 8);
  uint64_t id = 0;
  while (GetFixed64(&value, &id)) ids->push_back(id);
  return true;
}

absl::Status CorruptStack() { return absl::DataLossError("cannot decode a stored stack"); }

}  // namespace

// What one Resolve or Retain call has claimed and will write, and the cache entries that
// become true once the write succeeds (a failed write must leave the caches as they were).
class StackDictionary::Call {
 public:
  explicit Call(StackDictionary* dictionary) : dictionary_(dictionary) {}
  // Gives back the claims of a call that ended early (an error).
  ~Call() {
    if (claims.empty() && frame_claims.empty()) return;
    absl::MutexLock lock(&dictionary_->mu_);
    dictionary_->ReleaseLocked(this);
  }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  WriteBatch batch;
  // Stack ids put in this batch → their entries (two new stacks may probe the same free slot).
  absl::flat_hash_map<uint64_t, std::string> put;
  // Frame ids put in this batch → their texts (owned by the caller of Resolve; empty views in
  // Retain, which never compares them).
  absl::flat_hash_map<uint64_t, absl::string_view> frames_put;
  // Frames this call resolved (kept across commits: they stay true), by fingerprint.
  absl::flat_hash_map<StackFingerprint, std::pair<uint64_t, absl::string_view>> frames;
  absl::flat_hash_set<uint64_t> claims;
  absl::flat_hash_set<uint64_t> frame_claims;
  std::vector<std::pair<StackFingerprint, Known>> known;
  std::vector<std::pair<StackFingerprint, KnownFrame>> known_frames;
  std::vector<std::pair<uint64_t, int64_t>> written;

 private:
  StackDictionary* const dictionary_;
};

absl::StatusOr<std::vector<uint64_t>> StackDictionary::Resolve(
    absl::Span<const PendingStack> stacks, int64_t now_ms) {
  // The fingerprint is public and stable, so a crafted stack could share it: a hit also needs
  // this process's seeded hash of the frames to match.
  std::vector<size_t> checks;
  checks.reserve(stacks.size());
  for (const PendingStack& stack : stacks) checks.push_back(absl::HashOf(*stack.frames));
  std::vector<uint64_t> ids(stacks.size());
  std::vector<size_t> misses;
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < stacks.size(); ++i) {
      auto known = known_.find(stacks[i].fingerprint);
      if (known != known_.end() && known->second.check == checks[i] &&
          FreshLocked(known->second.id, now_ms)) {
        ids[i] = known->second.id;
      } else {
        misses.push_back(i);
      }
    }
  }
  if (misses.empty()) return ids;
  // The frames of the misses, hashed outside the lock, then looked up in the cache at once.
  std::vector<PendingFrame> frames;
  std::vector<size_t> offsets = {0};
  for (size_t i : misses) {
    for (const std::string& frame : *stacks[i].frames) {
      StackHasher hasher;
      hasher.AddFrame(frame);
      frames.push_back({hasher.Finish(), absl::HashOf(frame)});
    }
    offsets.push_back(frames.size());
  }
  Call call(this);
  {
    // Claims the first slot of every miss at once where it is free (one lock, not one each).
    absl::MutexLock lock(&mu_);
    for (size_t i : misses) {
      const uint64_t id = stacks[i].fingerprint.slot;
      if (claimed_.insert(id).second) call.claims.insert(id);
    }
    for (PendingFrame& frame : frames) {
      auto known = known_frames_.find(frame.fingerprint);
      if (known != known_frames_.end() && known->second.check == frame.check &&
          FreshAt(known->second.stamp_ms, now_ms)) {
        frame.id = known->second.id;
        frame.known = true;
      }
    }
  }
  for (size_t m = 0; m < misses.size(); ++m) {
    const size_t i = misses[m];
    SH_ASSIGN_OR_RETURN(
        ids[i], ResolveMiss(stacks[i], checks[i],
                            absl::MakeSpan(frames).subspan(offsets[m], offsets[m + 1] - offsets[m]),
                            now_ms, &call));
  }
  // Entries are durable before any record that refers to them is written.
  SH_RETURN_IF_ERROR(Commit(&call));
  return ids;
}

absl::StatusOr<std::vector<uint64_t>> StackDictionary::Resolve(
    const std::vector<const std::vector<std::string>*>& stacks, int64_t now_ms) {
  std::vector<PendingStack> pending;
  pending.reserve(stacks.size());
  for (const std::vector<std::string>* frames : stacks) {
    pending.push_back({StackHasher::Of(*frames), frames});
  }
  return Resolve(pending, now_ms);
}

bool StackDictionary::FreshAt(int64_t stamp_ms, int64_t time) const {
  // An entry stamped further ahead than any accepted record (written before agents' times
  // were checked) is re-stamped too, so that it expires some day.
  return stamp_ms <= SaturatingAdd(time, max_future_skew_ms_) &&
         SaturatingSub(time, stamp_ms) < kDictionaryRefreshMs;
}

bool StackDictionary::FreshLocked(uint64_t id, int64_t time) const {
  auto written = written_.find(id);
  return written != written_.end() && FreshAt(written->second, time);
}

absl::StatusOr<uint64_t> StackDictionary::ResolveFrame(absl::string_view frame,
                                                       const PendingFrame& pending, int64_t now,
                                                       Call* call) {
  if (auto seen = call->frames.find(pending.fingerprint);
      seen != call->frames.end() && seen->second.second == frame) {
    return seen->second.first;
  }
  for (int probe = 0; probe < kMaxProbes; ++probe) {
    const uint64_t id = pending.fingerprint.slot + static_cast<uint64_t>(probe);
    if (auto put = call->frames_put.find(id); put != call->frames_put.end()) {
      if (put->second == frame) return id;
      continue;  // taken by another new frame of this call
    }
    SH_RETURN_IF_ERROR(ClaimFrame(id, call));
    SH_ASSIGN_OR_RETURN(auto stored, db_->Get(family_, FrameKey(id)));
    if (stored && stored->value != frame) continue;  // a collision: another frame holds it
    int64_t stamp = now;
    if (stored) {
      stamp = stored->timestamp_ms;
    } else {
      call->batch.Put(family_, FrameKey(id), now, frame);
      call->frames_put.emplace(id, frame);
    }
    call->frames[pending.fingerprint] = {id, frame};
    call->known_frames.push_back({pending.fingerprint, KnownFrame{id, pending.check, stamp}});
    return id;
  }
  return absl::ResourceExhaustedError("stack dictionary: too many hash collisions of frames");
}

absl::StatusOr<uint64_t> StackDictionary::ResolveMiss(const PendingStack& stack, size_t check,
                                                      absl::Span<PendingFrame> pending, int64_t now,
                                                      Call* call) {
  const std::vector<std::string>& frames = *stack.frames;
  std::string value(1, kStackOfFrameIds);
  value.reserve(1 + 8 * frames.size());
  for (size_t f = 0; f < frames.size(); ++f) {
    if (!pending[f].known) {
      SH_ASSIGN_OR_RETURN(pending[f].id, ResolveFrame(frames[f], pending[f], now, call));
      pending[f].known = true;
    }
    PutFixed64(&value, pending[f].id);
  }
  for (int probe = 0; probe < kMaxProbes; ++probe) {
    const uint64_t id = stack.fingerprint.slot + static_cast<uint64_t>(probe);
    if (auto put = call->put.find(id); put != call->put.end()) {
      if (put->second == value) return id;  // the same stack twice in one call
      continue;                             // taken by another new stack of this call
    }
    SH_RETURN_IF_ERROR(Claim(id, call));
    SH_ASSIGN_OR_RETURN(auto stored, db_->Get(family_, StackKey(id)));
    if (stored) {
      // Equal frame ids mean equal frames: a frame id stands for one text.
      bool same = stored->value == value;
      if (!IsFrameIds(stored->value)) {
        records::StackRecord pb;
        if (!pb.ParseFromString(stored->value)) return CorruptStack();
        same = static_cast<size_t>(pb.frames_size()) == frames.size() &&
               std::equal(frames.begin(), frames.end(), pb.frames().begin());
      }
      if (!same) continue;  // a collision: another stack holds this slot
    }
    const bool stale = !stored || !FreshAt(stored->timestamp_ms, now);
    if (stale) {
      // The frames live as long as the stack: each is (re)stamped with it, in the same write.
      for (size_t f = 0; f < frames.size(); ++f) {
        if (!call->frames_put.emplace(pending[f].id, frames[f]).second) continue;
        call->batch.Put(family_, FrameKey(pending[f].id), now, frames[f]);
        call->known_frames.push_back(
            {pending[f].fingerprint, KnownFrame{pending[f].id, pending[f].check, now}});
      }
      call->batch.Put(family_, StackKey(id), now, value);
      call->put.emplace(id, std::move(value));
    }
    call->known.push_back({stack.fingerprint, Known{id, check}});
    call->written.push_back({id, stale ? now : stored->timestamp_ms});
    return id;
  }
  return absl::ResourceExhaustedError("stack dictionary: too many hash collisions");
}

absl::Status StackDictionary::Claim(uint64_t id, Call* call) { return ClaimSlot(false, id, call); }

absl::Status StackDictionary::ClaimFrame(uint64_t id, Call* call) {
  return ClaimSlot(true, id, call);
}

absl::Status StackDictionary::ClaimSlot(bool frame, uint64_t id, Call* call) {
  absl::flat_hash_set<uint64_t>& mine = frame ? call->frame_claims : call->claims;
  if (mine.contains(id)) return absl::OkStatus();
  {
    absl::MutexLock lock(&mu_);
    if ((frame ? claimed_frames_ : claimed_).insert(id).second) {
      mine.insert(id);
      return absl::OkStatus();
    }
  }
  // Another call holds the slot. Waiting while holding claims could deadlock two calls that
  // wait for each other's slots, so this call first writes what it has.
  SH_RETURN_IF_ERROR(Commit(call));
  absl::MutexLock lock(&mu_);
  while ((frame ? claimed_frames_ : claimed_).contains(id)) released_.Wait(&mu_);
  (frame ? claimed_frames_ : claimed_).insert(id);
  mine.insert(id);
  return absl::OkStatus();
}

absl::Status StackDictionary::Commit(Call* call) {
  absl::Status status;
  if (call->batch.Count() > 0) {
    status = db_->Write(std::move(call->batch));
    call->batch = WriteBatch();
  }
  {
    absl::MutexLock lock(&mu_);
    if (status.ok()) {
      if (known_.size() + call->known.size() > kMaxCached ||
          written_.size() + call->written.size() > kMaxCached) {
        known_.clear();
        written_.clear();
      }
      if (known_frames_.size() + call->known_frames.size() > kMaxCached) known_frames_.clear();
      for (const auto& [fingerprint, known] : call->known) known_[fingerprint] = known;
      for (const auto& [id, time] : call->written) written_[id] = time;
      for (const auto& [fingerprint, known] : call->known_frames) {
        known_frames_[fingerprint] = known;
      }
    }
    ReleaseLocked(call);
  }
  call->put.clear();
  call->frames_put.clear();
  call->known.clear();
  call->known_frames.clear();
  call->written.clear();
  if (!status.ok()) call->frames.clear();  // frames staged in the failed write are not stored
  return status;
}

void StackDictionary::ReleaseLocked(Call* call) {
  if (call->claims.empty() && call->frame_claims.empty()) return;
  for (uint64_t id : call->claims) claimed_.erase(id);
  for (uint64_t id : call->frame_claims) claimed_frames_.erase(id);
  call->claims.clear();
  call->frame_claims.clear();
  released_.SignalAll();
}

absl::Status StackDictionary::Retain(absl::Span<const uint64_t> ids, int64_t now_ms,
                                     int64_t records_time_ms) {
  // Records are never stamped further ahead than the skew the receivers accept; a shared entry
  // is never stamped further ahead either, whatever a caller says.
  const int64_t time =
      std::clamp(records_time_ms, now_ms, SaturatingAdd(now_ms, max_future_skew_ms_));
  std::vector<uint64_t> unsure;
  {
    absl::MutexLock lock(&mu_);
    for (uint64_t id : ids) {
      if (!FreshLocked(id, time)) unsure.push_back(id);
    }
  }
  if (unsure.empty()) return absl::OkStatus();
  Call call(this);
  std::vector<uint64_t> frame_ids;
  std::vector<std::string> frame_keys;
  for (uint64_t id : unsure) {
    if (call.claims.contains(id)) continue;  // listed twice
    SH_RETURN_IF_ERROR(Claim(id, &call));
    SH_ASSIGN_OR_RETURN(auto stored, db_->Get(family_, StackKey(id)));
    if (!stored) {
      return absl::NotFoundError(absl::StrCat("stack ", id, " is not in the dictionary"));
    }
    const bool stale = !FreshAt(stored->timestamp_ms, time);
    if (stale && IsFrameIds(stored->value)) {
      // Its frames are re-stamped with it. They are stored (they live at least as long as the
      // stack), so no other call writes their slots: no claim is needed to put them again.
      if (!DecodeFrameIds(stored->value, &frame_ids)) return CorruptStack();
      frame_keys.clear();
      for (uint64_t frame_id : frame_ids) {
        if (call.frames_put.emplace(frame_id, absl::string_view()).second) {
          frame_keys.push_back(FrameKey(frame_id));
        }
      }
      SH_ASSIGN_OR_RETURN(std::vector<std::optional<Record>> frames,
                          db_->MultiGet(family_, frame_keys));
      for (size_t f = 0; f < frames.size(); ++f) {
        if (!frames[f]) {
          return absl::NotFoundError(
              absl::StrCat("stack ", id, " is not in the dictionary (a frame has expired)"));
        }
        call.batch.Put(family_, frame_keys[f], time, frames[f]->value);
      }
    }
    if (stale) call.batch.Put(family_, StackKey(id), time, stored->value);
    call.written.push_back({id, stale ? time : stored->timestamp_ms});
  }
  return Commit(&call);
}

absl::StatusOr<std::vector<std::string>> StackDictionary::Get(uint64_t id) const {
  CollectingStackVisitor visitor;
  SH_RETURN_IF_ERROR(Read({id}, visitor));
  if (visitor.stacks().empty()) {
    return absl::NotFoundError(absl::StrCat("stack ", id, " is not stored (expired?)"));
  }
  return visitor.stacks()[0];
}

absl::Status StackDictionary::Read(absl::Span<const uint64_t> ids, StackVisitor& visitor) const {
  // Frame id → its number, or kUnread + its index among the frames the batch reads.
  constexpr uint32_t kUnread = uint32_t{1} << 31;
  absl::flat_hash_map<uint64_t, uint32_t> numbers;
  absl::flat_hash_map<std::string, uint32_t> old_numbers;  // frames of StackRecord entries
  uint32_t next_number = 0;
  std::vector<std::string> keys;
  std::vector<uint64_t> unread;          // frame ids the batch reads
  std::vector<uint32_t> refs;            // the batch's frame ids as numbers or kUnread + i
  std::vector<size_t> ref_offsets;       // per stack of the batch: its range in refs
  std::vector<uint32_t> unread_numbers;  // per unread frame: its number, once handed out
  std::vector<uint32_t> stack;
  std::vector<uint64_t> frame_ids;
  for (size_t begin = 0; begin < ids.size(); begin += kReadBatch) {
    const size_t end = std::min(ids.size(), begin + kReadBatch);
    keys.clear();
    for (size_t i = begin; i < end; ++i) keys.push_back(StackKey(ids[i]));
    SH_ASSIGN_OR_RETURN(std::vector<std::optional<Record>> records, db_->MultiGet(family_, keys));
    unread.clear();
    refs.clear();
    ref_offsets.assign(1, 0);
    for (const std::optional<Record>& record : records) {
      if (record && IsFrameIds(record->value)) {
        if (!DecodeFrameIds(record->value, &frame_ids)) return CorruptStack();
        for (uint64_t frame_id : frame_ids) {
          auto [it, inserted] =
              numbers.try_emplace(frame_id, kUnread | static_cast<uint32_t>(unread.size()));
          if (inserted) unread.push_back(frame_id);
          refs.push_back(it->second);
        }
      }
      ref_offsets.push_back(refs.size());
    }
    // The frames not read before, at once, in key order.
    std::vector<uint32_t> order(unread.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return unread[a] < unread[b]; });
    keys.clear();
    for (uint32_t i : order) keys.push_back(FrameKey(unread[i]));
    SH_ASSIGN_OR_RETURN(std::vector<std::optional<Record>> sorted_frames,
                        db_->MultiGet(family_, keys));
    std::vector<std::optional<Record>> frames(unread.size());
    for (size_t k = 0; k < order.size(); ++k) frames[order[k]] = std::move(sorted_frames[k]);
    unread_numbers.assign(unread.size(), kUnread);
    for (size_t k = 0; k < records.size(); ++k) {
      const std::optional<Record>& record = records[k];
      if (!record) continue;
      stack.clear();
      bool complete = true;
      if (IsFrameIds(record->value)) {
        // A stack one of whose frames has expired (with it, see the class comment) is skipped
        // before any of its frames is handed out.
        for (size_t r = ref_offsets[k]; r < ref_offsets[k + 1]; ++r) {
          if ((refs[r] & kUnread) != 0 && !frames[refs[r] & ~kUnread]) complete = false;
        }
        for (size_t r = ref_offsets[k]; r < ref_offsets[k + 1] && complete; ++r) {
          uint32_t number = refs[r];
          if ((number & kUnread) != 0) {
            const uint32_t i = number & ~kUnread;
            if (unread_numbers[i] == kUnread) {
              visitor.Frame(frames[i]->value);
              unread_numbers[i] = next_number++;
            }
            number = unread_numbers[i];
          }
          stack.push_back(number);
        }
      } else {
        records::StackRecord pb;
        if (!pb.ParseFromString(record->value)) return CorruptStack();
        for (const std::string& frame : pb.frames()) {
          auto [it, inserted] = old_numbers.try_emplace(frame, next_number);
          if (inserted) {
            visitor.Frame(frame);
            ++next_number;
          }
          stack.push_back(it->second);
        }
      }
      if (complete) visitor.Stack(begin + k, stack);
    }
    // The frames handed out are known by number from now on; the others (absent, or only in
    // skipped stacks) are read again if a later batch names them.
    for (size_t i = 0; i < unread.size(); ++i) {
      if (unread_numbers[i] != kUnread) {
        numbers[unread[i]] = unread_numbers[i];
      } else {
        numbers.erase(unread[i]);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace stackhouse::storage
