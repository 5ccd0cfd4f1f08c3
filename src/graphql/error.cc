#include "graphql/error.h"

#include "absl/strings/str_cat.h"
#include "common/json_writer.h"

namespace stackhouse::graphql {

std::string PathToString(const std::vector<PathSegment>& path) {
  std::string out;
  for (const PathSegment& segment : path) {
    out.push_back('/');
    if (const auto* key = std::get_if<std::string>(&segment)) {
      out.append(*key);
    } else {
      absl::StrAppend(&out, std::get<int64_t>(segment));
    }
  }
  return out;
}

void WriteErrors(const std::vector<Error>& errors, JsonWriter* writer) {
  writer->BeginArray();
  for (const Error& error : errors) {
    writer->BeginObject();
    writer->Key("message");
    writer->String(error.message);
    if (!error.locations.empty()) {
      writer->Key("locations");
      writer->BeginArray();
      for (const ast::Location& location : error.locations) {
        writer->BeginObject();
        writer->Key("line");
        writer->Int(location.line);
        writer->Key("column");
        writer->Int(location.column);
        writer->EndObject();
      }
      writer->EndArray();
    }
    if (!error.path.empty()) {
      writer->Key("path");
      writer->BeginArray();
      for (const PathSegment& segment : error.path) {
        if (const auto* key = std::get_if<std::string>(&segment)) {
          writer->String(*key);
        } else {
          writer->Int(std::get<int64_t>(segment));
        }
      }
      writer->EndArray();
    }
    writer->Key("extensions");
    writer->BeginObject();
    writer->Key("classification");
    writer->String(error.classification);
    writer->EndObject();
    writer->EndObject();
  }
  writer->EndArray();
}

}  // namespace stackhouse::graphql
