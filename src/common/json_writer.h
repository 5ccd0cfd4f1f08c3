// A streaming JSON writer that appends compact JSON to a string.
//
// Commas are inserted automatically. Strings are escaped per RFC 8259: quotes, backslashes and
// control characters are escaped, and invalid UTF-8 (as found in raw symbol names) is replaced by
// U+FFFD, one replacement per maximal invalid subsequence, so the output is always valid UTF-8.
// Non-finite doubles are written as null.
//
// `Mark`/`Rewind` let the executor drop a partly written value (GraphQL null propagation) without
// building the response as a tree first: take a mark before a value, rewind to it to discard
// everything written since, then write the replacement.
//
// Streaming: a caller may take the text written so far out of the string (send it) and then
// call `Release`, which empties the string and keeps counting; marks count every byte written.
// A rewind to a mark before released text cannot be done: it sets `rewind_lost()` (what was
// released is then not the start of a valid output) and the string restarts empty.
//
// Thread-safety: not thread-safe; one writer per output string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace stackhouse {

class JsonWriter {
 public:
  // Appends to `*out`, which must outlive the writer.
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // An object key; the next call writes its value.
  void Key(absl::string_view key);
  // An object key given as pre-escaped JSON text including quotes and colon, e.g. `"id":`.
  void RawKey(absl::string_view quoted_key_and_colon);
  void String(absl::string_view s);
  void Int(int64_t i);
  void Double(double d);
  void Bool(bool b);
  void Null();
  // A complete, valid JSON value given as text.
  void RawValue(absl::string_view json);

  struct Mark {
    uint64_t size;  // bytes written before the mark, released ones included
    size_t depth;
    bool need_comma;
  };
  Mark GetMark() const { return Mark{released_ + out_->size(), depth_, need_comma_}; }
  // Discards everything written after `mark` (which must come from this writer, at the start
  // of a value). A mark before released text sets rewind_lost() instead.
  void Rewind(const Mark& mark);

  // The caller has taken `*out` away (e.g. sent it): empties it. Marks stay valid.
  void Release() {
    released_ += out_->size();
    out_->clear();
  }
  // Bytes released so far.
  uint64_t released() const { return released_; }
  // True once a Rewind needed released text back.
  bool rewind_lost() const { return rewind_lost_; }

  // Appends `s` to `out` as a quoted, escaped JSON string.
  static void AppendQuoted(absl::string_view s, std::string* out);

 private:
  void BeforeValue() {
    if (need_comma_) out_->push_back(',');
    need_comma_ = true;
  }

  std::string* const out_;
  uint64_t released_ = 0;  // bytes taken out of *out_ by Release
  size_t depth_ = 0;       // open containers
  bool need_comma_ = false;
  bool rewind_lost_ = false;
};

}  // namespace stackhouse
