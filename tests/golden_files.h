#pragma once

// What the golden-file test runners share: finding the cases of a testdata directory, reading
// and rewriting case files (UPDATE_GOLDEN=1), and printing an HTTP response as stable JSON.
// Header-only.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "rapidjson/document.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace stackhouse::golden {

// The names (without the extension) of the files in `dir` whose extension is `extension`
// (e.g. ".test"), sorted.
inline std::vector<std::string> CaseNames(const std::string& dir, const std::string& extension) {
  std::vector<std::string> cases;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == extension) cases.push_back(entry.path().stem().string());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

// The content of `path`; empty if it cannot be read.
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// True when UPDATE_GOLDEN=1: runners rewrite the expected outputs instead of comparing (then
// review every diff by hand).
inline bool UpdateRequested() {
  const char* update = std::getenv("UPDATE_GOLDEN");
  return update != nullptr && std::string(update) == "1";
}

// A case file holding its input, then a line `----`, then the expected output.
inline constexpr char kSeparator[] = "----\n";

struct SplitFile {
  bool ok = false;  // false if the file is missing or has no separator line
  std::string input;
  std::string expected;
};

inline SplitFile ReadSplitFile(const std::string& path) {
  SplitFile file;
  if (!std::filesystem::exists(path)) return file;
  const std::string text = ReadFile(path);
  const size_t separator = text.find(kSeparator);
  if (separator == std::string::npos) return file;
  file.ok = true;
  file.input = text.substr(0, separator);
  file.expected = text.substr(separator + sizeof(kSeparator) - 1);
  return file;
}

// Rewrites a case file with `actual` as its expected output.
inline void WriteSplitFile(const std::string& path, const std::string& input,
                           const std::string& actual) {
  std::ofstream(path, std::ios::binary) << input << kSeparator << actual;
}

// {"status": N, "body": <the JSON body, or the text of a body that is not JSON>}, two-space
// indented, with a final newline.
inline std::string NormalizeHttpResponse(int status, absl::string_view content_type,
                                         const std::string& body_text) {
  rapidjson::Document doc;
  doc.SetObject();
  auto& alloc = doc.GetAllocator();
  doc.AddMember("status", status, alloc);
  rapidjson::Value body;
  rapidjson::Document parsed(&alloc);
  if (absl::StartsWith(content_type, "application/json") &&
      !parsed.Parse(body_text.data(), body_text.size()).HasParseError()) {
    body.CopyFrom(parsed, alloc);
  } else {
    body.SetString(body_text.c_str(), static_cast<rapidjson::SizeType>(body_text.size()), alloc);
  }
  doc.AddMember("body", body, alloc);
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  writer.SetIndent(' ', 2);
  doc.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace stackhouse::golden
