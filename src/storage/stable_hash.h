#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace stackhouse::storage {

// 64-bit FNV-1a, stable across processes and builds (unlike absl::Hash): used for ids that are
// stored. Feed pieces with Add; AddLengthPrefixed keeps ("ab","c") apart from ("a","bc").
class StableHash {
 public:
  void Add(absl::string_view bytes) {
    for (unsigned char c : bytes) {
      state_ ^= c;
      state_ *= kPrime;
    }
  }
  void AddLengthPrefixed(absl::string_view bytes) {
    uint64_t n = bytes.size();
    for (int i = 0; i < 8; ++i) {
      state_ ^= (n >> (8 * i)) & 0xff;
      state_ *= kPrime;
    }
    Add(bytes);
  }
  uint64_t value() const { return state_; }

 private:
  static constexpr uint64_t kOffset = 14695981039346656037ull;
  static constexpr uint64_t kPrime = 1099511628211ull;
  uint64_t state_ = kOffset;
};

}  // namespace stackhouse::storage
