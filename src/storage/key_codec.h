#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

// Order-preserving key encoding: a key built from several components compares (as bytes,
// which is RocksDB's default order) exactly as the tuple of components compares. Thread-safe
// (stateless functions; KeyReader is a value type used by one thread).
namespace stackhouse::storage {

// Appends `value` as 8 big-endian bytes.
void AppendUint64(std::string* key, uint64_t value);

// Appends `value` so that negative numbers sort before positive ones (sign bit flipped).
void AppendInt64(std::string* key, int64_t value);

// Appends `value` escaped (0x00 → 0x00 0xFF) and terminated by 0x00 0x01, so that strings of
// any content compare lexicographically and a shorter string sorts before its extensions.
void AppendString(std::string* key, absl::string_view value);

// The smallest key greater than every key that starts with `prefix`; "" when none exists
// (prefix is all 0xFF), meaning "until the end".
std::string PrefixSuccessor(absl::string_view prefix);

// Reads components back in the order they were appended. Each Read returns false (and
// leaves the reader unusable) when the remaining bytes do not hold such a component.
class KeyReader {
 public:
  explicit KeyReader(absl::string_view key) : rest_(key) {}

  bool ReadUint64(uint64_t* value);
  bool ReadInt64(int64_t* value);
  bool ReadString(std::string* value);
  bool Skip(size_t bytes);
  bool Done() const { return rest_.empty(); }

 private:
  absl::string_view rest_;
};

}  // namespace stackhouse::storage
