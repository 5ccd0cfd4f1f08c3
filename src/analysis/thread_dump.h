#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

// The input of the trace-profiling merge (graphql-protocol.md §4.5): thread dumps whose stacks
// are dictionary-encoded, as the snapshot store keeps them.
namespace stackhouse::analysis {

// One Java thread dump of a profiled segment, as fetched for analysis (spec §4.5 step 3).
struct ThreadDump {
  // Which segment the dump belongs to; any caller-chosen number, equal for dumps of the same
  // segment id (e.g. the index of the segment id among the analysed ones).
  uint32_t segment_index = 0;
  // The agent's dump counter within the segment (0, 1, 2, ...).
  int32_t sequence = 0;
  int64_t dump_time_ms = 0;
  // Index into the StackTable the dumps are analysed with.
  uint32_t stack_id = 0;
};

// The code signatures of stack frames, interned: equal signatures get equal ids, ids are dense
// from 0 in order of first interning. The merge relies on "equal id ⇔ equal signature".
// Thread-compatible: const methods may be called concurrently.
class FrameTable {
 public:
  FrameTable() = default;
  // Movable (the texts stay where they are), not copyable (the index points into them).
  FrameTable(FrameTable&&) = default;
  FrameTable& operator=(FrameTable&&) = default;
  FrameTable(const FrameTable&) = delete;
  FrameTable& operator=(const FrameTable&) = delete;

  // Returns the id of `signature`, adding it if it is new.
  uint32_t Intern(absl::string_view signature);

  // The signature of `frame_id`. Requires frame_id < size(). The reference stays valid for the
  // table's lifetime.
  const std::string& Signature(uint32_t frame_id) const { return signatures_[frame_id]; }

  size_t size() const { return signatures_.size(); }

 private:
  // A signature as the index keys it: its text (in signatures_) and its hash, kept so that
  // growing the index does not read every text again.
  struct Key {
    absl::string_view text;
    size_t hash;
  };
  struct KeyHash {
    size_t operator()(const Key& key) const { return key.hash; }
  };
  struct KeyEq {
    bool operator()(const Key& a, const Key& b) const {
      return a.hash == b.hash && a.text == b.text;
    }
  };

  std::deque<std::string> signatures_;  // a deque: the texts never move
  absl::flat_hash_map<Key, uint32_t, KeyHash, KeyEq> ids_;
};

// Stacks as sequences of frame ids, root (outermost frame, the thread entry) first; ids are dense
// from 0 in order of addition. Stacks are not de-duplicated here: the caller (the snapshot
// store's stack dictionary) is expected to add each distinct stack once, because the merge does
// the tree walk once per stack id and O(1) work per dump after that.
// Thread-compatible: const methods may be called concurrently.
class StackTable {
 public:
  // Appends a stack (possibly empty) and returns its id.
  uint32_t Add(absl::Span<const uint32_t> frame_ids);

  // The frame ids of `stack_id`, root first. Requires stack_id < size(). The span is valid until
  // the next Add.
  absl::Span<const uint32_t> Frames(uint32_t stack_id) const {
    return absl::MakeConstSpan(frame_ids_.data() + offsets_[stack_id],
                               offsets_[stack_id + 1] - offsets_[stack_id]);
  }

  size_t size() const { return offsets_.size() - 1; }

 private:
  std::vector<uint32_t> frame_ids_;    // all stacks, concatenated
  std::vector<size_t> offsets_ = {0};  // stack i is frame_ids_[offsets_[i], offsets_[i + 1])
};

}  // namespace stackhouse::analysis
