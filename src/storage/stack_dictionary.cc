#include "storage/stack_dictionary.h"

#include <algorithm>
#include <cstring>

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
  const size_t batch_refs = std::max<size_t>(1, read_bounds_.batch_refs);
  const size_t keys_per_read = std::max<size_t>(1, read_bounds_.keys_per_read);
  // Frame id → its number, or kUnread + its index among the frames the batch reads.
  constexpr uint32_t kUnread = uint32_t{1} << 31;
  absl::flat_hash_map<uint64_t, uint32_t> numbers;
  absl::flat_hash_map<std::string, uint32_t> old_numbers;  // frames of StackRecord entries
  uint32_t next_number = 0;
  // One stack of the batch: where its frames are in `refs`, or that it was not found.
  struct BatchStack {
    enum Kind : uint8_t { kAbsent, kIds, kOld } kind = kAbsent;
    uint32_t old = 0;  // kOld: its index in old_values
    size_t begin = 0, end = 0;
  };
  std::vector<BatchStack> batch;         // by position in the batch
  std::vector<uint32_t> order;           // positions (of stacks, of unread frames) in key order
  std::vector<std::string> keys;         // the keys of one read, in key order
  std::vector<std::string> old_values;   // the batch's StackRecord entries
  size_t old_refs = 0;                   // their bytes / 8
  std::vector<uint64_t> unread;          // frame ids the batch reads
  std::vector<uint32_t> refs;            // the batch's frame ids as numbers or kUnread + i
  std::vector<uint32_t> unread_numbers;  // per unread frame: its number, once handed out
  std::string texts;                     // the texts of the unread frames read, concatenated
  constexpr uint32_t kNotRead = ~uint32_t{0};
  std::vector<std::pair<uint32_t, uint32_t>> text_of;  // per unread frame: offset, length
  std::vector<uint32_t> stack;
  std::string previous;  // the last entry of frame ids decoded, whose refs end `refs`
  // Records one stack entry read; `at` is its position in the batch. Neighbouring stacks mostly
  // share their outer frames (a thread's entry, a framework): the frames an entry shares with
  // the previous one take that one's refs, not a lookup each.
  const auto add_stack = [&](uint32_t at, absl::string_view value) -> absl::Status {
    BatchStack& entry = batch[at];
    if (!IsFrameIds(value)) {
      entry.kind = BatchStack::kOld;
      entry.old = static_cast<uint32_t>(old_values.size());
      old_values.emplace_back(value);
      old_refs += value.size() / 8;  // counted against the batch's bound as well
      return absl::OkStatus();
    }
    if ((value.size() - 1) % 8 != 0) return CorruptStack();
    size_t shared = 0;  // leading frame ids equal to the previous entry's
    const size_t limit = std::min(value.size(), previous.size());
    while (1 + 8 * (shared + 1) <= limit &&
           std::memcmp(value.data() + 1 + 8 * shared, previous.data() + 1 + 8 * shared, 8) == 0) {
      ++shared;
    }
    const size_t previous_begin = refs.size() - (previous.empty() ? 0 : (previous.size() - 1) / 8);
    entry.kind = BatchStack::kIds;
    entry.begin = refs.size();
    refs.resize(refs.size() + shared);
    std::copy_n(refs.data() + previous_begin, shared, refs.data() + entry.begin);
    absl::string_view rest = value.substr(1 + 8 * shared);
    uint64_t frame_id = 0;
    while (GetFixed64(&rest, &frame_id)) {
      auto [it, inserted] =
          numbers.try_emplace(frame_id, kUnread | static_cast<uint32_t>(unread.size()));
      if (inserted) unread.push_back(frame_id);
      refs.push_back(it->second);
    }
    entry.end = refs.size();
    previous.assign(value.data(), value.size());
    return absl::OkStatus();
  };
  size_t begin = 0;
  while (begin < ids.size()) {
    // The stacks of the batch, read keys_per_read at a time until their frames fill it. Reading
    // many stacks before their frames makes the frames read neighbours, stepped through rather
    // than sought.
    batch.clear();
    refs.clear();
    unread.clear();
    old_values.clear();
    old_refs = 0;
    previous.clear();
    size_t end = begin;
    while (end < ids.size() && refs.size() + old_refs < batch_refs) {
      const auto chunk = ids.subspan(end, std::min(keys_per_read, ids.size() - end));
      const auto base = static_cast<uint32_t>(batch.size());
      batch.resize(batch.size() + chunk.size());
      order.resize(chunk.size());
      for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
      if (!std::is_sorted(chunk.begin(), chunk.end())) {
        std::sort(order.begin(), order.end(),
                  [&](uint32_t a, uint32_t b) { return chunk[a] < chunk[b]; });
      }
      keys.clear();
      for (uint32_t i : order) keys.push_back(StackKey(chunk[i]));
      SH_RETURN_IF_ERROR(db_->VisitSorted(family_, keys, [&](size_t k, absl::string_view value) {
        return add_stack(base + order[k], value);
      }));
      end += chunk.size();
    }
    // The frames not read before, in key order, keys_per_read at a time.
    order.resize(unread.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return unread[a] < unread[b]; });
    texts.clear();
    text_of.assign(unread.size(), {kNotRead, 0});
    for (size_t first = 0; first < order.size(); first += keys_per_read) {
      const size_t last = std::min(order.size(), first + keys_per_read);
      keys.clear();
      for (size_t k = first; k < last; ++k) keys.push_back(FrameKey(unread[order[k]]));
      SH_RETURN_IF_ERROR(db_->VisitSorted(family_, keys, [&](size_t k, absl::string_view value) {
        text_of[order[first + k]] = {static_cast<uint32_t>(texts.size()),
                                     static_cast<uint32_t>(value.size())};
        texts.append(value.data(), value.size());
        return absl::OkStatus();
      }));
    }
    unread_numbers.assign(unread.size(), kUnread);
    for (size_t k = 0; k < batch.size(); ++k) {
      const BatchStack& entry = batch[k];
      if (entry.kind == BatchStack::kAbsent) continue;
      stack.clear();
      bool complete = true;
      if (entry.kind == BatchStack::kIds) {
        // A stack one of whose frames has expired (with it, see the class comment) is skipped
        // before any of its frames is handed out.
        for (size_t r = entry.begin; r < entry.end; ++r) {
          if ((refs[r] & kUnread) != 0 && text_of[refs[r] & ~kUnread].first == kNotRead) {
            complete = false;
          }
        }
        for (size_t r = entry.begin; r < entry.end && complete; ++r) {
          uint32_t number = refs[r];
          if ((number & kUnread) != 0) {
            const uint32_t i = number & ~kUnread;
            if (unread_numbers[i] == kUnread) {
              visitor.Frame(absl::string_view(texts).substr(text_of[i].first, text_of[i].second));
              unread_numbers[i] = next_number++;
            }
            number = unread_numbers[i];
          }
          stack.push_back(number);
        }
      } else {
        records::StackRecord pb;
        if (!pb.ParseFromString(old_values[entry.old])) return CorruptStack();
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
    begin = end;
  }
  return absl::OkStatus();
}

}  // namespace stackhouse::storage
