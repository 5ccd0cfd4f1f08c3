#include "common/json_writer.h"

#include <charconv>
#include <cmath>

namespace stackhouse {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr absl::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Bytes that need attention: controls, '"', '\\' and everything non-ASCII.
bool IsSpecial(unsigned char c) { return c < 0x20 || c == '"' || c == '\\' || c >= 0x80; }

// Length of the valid UTF-8 sequence starting at s[i] (lead byte >= 0x80), or 0 if invalid.
// On invalid input `*invalid_len` receives the length of the maximal invalid subpart (>= 1).
size_t ValidUtf8Length(absl::string_view s, size_t i, size_t* invalid_len) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t need;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    *invalid_len = 1;
    return 0;
  }
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= s.size()) {
      *invalid_len = k;
      return 0;
    }
    unsigned char b = byte(i + k);
    unsigned char min = k == 1 ? lo : 0x80;
    unsigned char max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) {
      *invalid_len = k;
      return 0;
    }
  }
  return need + 1;
}

}  // namespace

void JsonWriter::AppendQuoted(absl::string_view s, std::string* out) {
  out->push_back('"');
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    size_t run = i;
    while (run < n && !IsSpecial(static_cast<unsigned char>(s[run]))) ++run;
    out->append(s.data() + i, run - i);
    i = run;
    if (i >= n) break;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t invalid = 0;
      size_t len = ValidUtf8Length(s, i, &invalid);
      if (len > 0) {
        out->append(s.data() + i, len);
        i += len;
      } else {
        out->append(kReplacement.data(), kReplacement.size());
        i += invalid;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default: {
        char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(esc, sizeof(esc));
      }
    }
    ++i;
  }
  out->push_back('"');
}

void JsonWriter::BeginObject() {
  BeforeValue();
  out_->push_back('{');
  ++depth_;
  need_comma_ = false;
}

void JsonWriter::EndObject() {
  out_->push_back('}');
  --depth_;
  need_comma_ = true;
}

void JsonWriter::BeginArray() {
  BeforeValue();
  out_->push_back('[');
  ++depth_;
  need_comma_ = false;
}

void JsonWriter::EndArray() {
  out_->push_back(']');
  --depth_;
  need_comma_ = true;
}

void JsonWriter::Key(absl::string_view key) {
  BeforeValue();
  AppendQuoted(key, out_);
  out_->push_back(':');
  need_comma_ = false;
}

void JsonWriter::RawKey(absl::string_view quoted_key_and_colon) {
  BeforeValue();
  out_->append(quoted_key_and_colon.data(), quoted_key_and_colon.size());
  need_comma_ = false;
}

void JsonWriter::String(absl::string_view s) {
  BeforeValue();
  AppendQuoted(s, out_);
}

void JsonWriter::Int(int64_t i) {
  BeforeValue();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), i);
  out_->append(buf, end);
}

void JsonWriter::Double(double d) {
  BeforeValue();
  if (!std::isfinite(d)) {
    out_->append("null");
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  out_->append(buf, end);
}

void JsonWriter::Bool(bool b) {
  BeforeValue();
  out_->append(b ? "true" : "false");
}

void JsonWriter::Null() {
  BeforeValue();
  out_->append("null");
}

void JsonWriter::RawValue(absl::string_view json) {
  BeforeValue();
  out_->append(json.data(), json.size());
}

void JsonWriter::Rewind(const Mark& mark) {
  if (mark.size < released_) {
    rewind_lost_ = true;
    out_->clear();
  } else {
    out_->resize(static_cast<size_t>(mark.size - released_));
  }
  depth_ = mark.depth;
  need_comma_ = mark.need_comma;
}

}  // namespace stackhouse
