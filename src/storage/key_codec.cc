#include "storage/key_codec.h"

namespace stackhouse::storage {

void AppendUint64(std::string* key, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    key->push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

void AppendInt64(std::string* key, int64_t value) {
  AppendUint64(key, static_cast<uint64_t>(value) ^ (uint64_t{1} << 63));
}

void AppendString(std::string* key, absl::string_view value) {
  for (char c : value) {
    key->push_back(c);
    if (c == '\0') key->push_back('\xff');
  }
  key->push_back('\0');
  key->push_back('\x01');
}

std::string PrefixSuccessor(absl::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto last = static_cast<unsigned char>(out.back());
    if (last != 0xff) {
      out.back() = static_cast<char>(last + 1);
      return out;
    }
    out.pop_back();
  }
  return out;
}

bool KeyReader::ReadUint64(uint64_t* value) {
  if (rest_.size() < 8) return false;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(rest_[i]);
  rest_.remove_prefix(8);
  *value = v;
  return true;
}

bool KeyReader::ReadInt64(int64_t* value) {
  uint64_t raw;
  if (!ReadUint64(&raw)) return false;
  *value = static_cast<int64_t>(raw ^ (uint64_t{1} << 63));
  return true;
}

bool KeyReader::ReadString(std::string* value) {
  value->clear();
  for (size_t i = 0; i + 1 < rest_.size(); ++i) {
    if (rest_[i] != '\0') {
      value->push_back(rest_[i]);
      continue;
    }
    char next = rest_[i + 1];
    if (next == '\x01') {
      rest_.remove_prefix(i + 2);
      return true;
    }
    if (next != '\xff') break;
    value->push_back('\0');
    ++i;
  }
  rest_ = {};
  return false;
}

bool KeyReader::Skip(size_t bytes) {
  if (rest_.size() < bytes) return false;
  rest_.remove_prefix(bytes);
  return true;
}

}  // namespace stackhouse::storage
