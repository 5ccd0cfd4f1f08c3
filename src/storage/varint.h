#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

// LEB128 varints for compact values (not keys: varints do not sort). Thread-safe functions.
namespace stackhouse::storage {

inline void PutVarint64(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// Reads a varint from the front of `*in`, advancing it; false on truncation or overflow.
inline bool GetVarint64(absl::string_view* in, uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    auto byte = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return false;
}

inline void PutFixed64(std::string* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

inline bool GetFixed64(absl::string_view* in, uint64_t* value) {
  if (in->size() < 8) return false;
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>((*in)[static_cast<size_t>(i)]);
  in->remove_prefix(8);
  *value = v;
  return true;
}

}  // namespace stackhouse::storage
