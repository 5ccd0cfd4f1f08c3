#include "graphql/json_reader.h"

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/error/en.h"
#include "rapidjson/memorystream.h"
#include "rapidjson/reader.h"

namespace stackhouse::graphql {
namespace {

// Builds a Value with an explicit stack of open containers.
class ValueBuilder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ValueBuilder> {
 public:
  explicit ValueBuilder(size_t max_depth) : max_depth_(max_depth) {}

  bool Null() { return Add(Value::Null()); }
  bool Bool(bool b) { return Add(Value::Bool(b)); }
  bool Int(int i) { return Add(Value::Int(i)); }
  bool Uint(unsigned u) { return Add(Value::Int(u)); }
  bool Int64(int64_t i) { return Add(Value::Int(i)); }
  bool Uint64(uint64_t u) {
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Add(Value::Float(static_cast<double>(u)));
    }
    return Add(Value::Int(static_cast<int64_t>(u)));
  }
  bool Double(double d) { return Add(Value::Float(d)); }
  bool String(const char* s, rapidjson::SizeType length, bool) {
    return Add(Value::String(std::string(s, length)));
  }
  bool StartObject() { return Open(/*is_object=*/true); }
  bool Key(const char* s, rapidjson::SizeType length, bool) {
    frames_.back().key.assign(s, length);
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    Frame frame = std::move(frames_.back());
    frames_.pop_back();
    return Add(Value::Object(std::move(frame.members)));
  }
  bool StartArray() { return Open(/*is_object=*/false); }
  bool EndArray(rapidjson::SizeType) {
    Frame frame = std::move(frames_.back());
    frames_.pop_back();
    return Add(Value::List(std::move(frame.items)));
  }

  bool depth_exceeded() const { return depth_exceeded_; }
  Value TakeResult() { return std::move(result_); }

 private:
  struct Frame {
    bool is_object;
    std::string key;
    std::vector<Value> items;
    std::vector<Value::Member> members;
  };

  bool Open(bool is_object) {
    if (frames_.size() >= max_depth_) {
      depth_exceeded_ = true;
      return false;
    }
    frames_.push_back(Frame{is_object, {}, {}, {}});
    return true;
  }

  bool Add(Value v) {
    if (frames_.empty()) {
      result_ = std::move(v);
      return true;
    }
    Frame& top = frames_.back();
    if (!top.is_object) {
      top.items.push_back(std::move(v));
      return true;
    }
    for (auto& member : top.members) {
      if (member.first == top.key) {
        member.second = std::move(v);
        return true;
      }
    }
    top.members.emplace_back(std::move(top.key), std::move(v));
    return true;
  }

  const size_t max_depth_;
  std::vector<Frame> frames_;
  Value result_;
  bool depth_exceeded_ = false;
};

}  // namespace

absl::StatusOr<Value> ParseJson(absl::string_view text, size_t max_depth) {
  rapidjson::MemoryStream stream(text.data(), text.size());
  rapidjson::Reader reader;
  ValueBuilder builder(max_depth);
  rapidjson::ParseResult ok = reader.Parse<rapidjson::kParseIterativeFlag>(stream, builder);
  if (builder.depth_exceeded()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("JSON nesting exceeds the limit of ", max_depth, " (limit max_json_depth)"));
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(rapidjson::GetParseError_En(ok.Code()), " at offset ", ok.Offset()));
  }
  if (stream.Tell() < text.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Unexpected NUL character at offset ", stream.Tell()));
  }
  return builder.TakeResult();
}

}  // namespace stackhouse::graphql
