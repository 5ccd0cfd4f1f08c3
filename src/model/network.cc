#include "model/network.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "model/ids.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace stackhouse::model {
namespace {

// Rover's name for a key OAP stores in camelCase; other keys are kept.
absl::string_view RoverKey(absl::string_view key) {
  static constexpr std::pair<absl::string_view, absl::string_view> kKeys[] = {
      {"networkSamplings", "NetworkSamplings"},
      {"uriRegex", "URIRegex"},
      {"minDuration", "MinDuration"},
      {"when4xx", "When4xx"},
      {"when5xx", "When5xx"},
      {"settings", "Settings"},
      {"requireCompleteRequest", "RequireCompleteRequest"},
      {"maxRequestSize", "MaxRequestSize"},
      {"requireCompleteResponse", "RequireCompleteResponse"},
      {"maxResponseSize", "MaxResponseSize"},
  };
  for (const auto& [stored, rover] : kKeys) {
    if (key == stored) return rover;
  }
  return key;
}

void WriteRenamed(const rapidjson::Value& value, rapidjson::Writer<rapidjson::StringBuffer>* w) {
  if (value.IsObject()) {
    w->StartObject();
    for (const auto& member : value.GetObject()) {
      absl::string_view key =
          RoverKey(absl::string_view(member.name.GetString(), member.name.GetStringLength()));
      w->Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
      WriteRenamed(member.value, w);
    }
    w->EndObject();
  } else if (value.IsArray()) {
    w->StartArray();
    for (const auto& item : value.GetArray()) WriteRenamed(item, w);
    w->EndArray();
  } else {
    value.Accept(*w);
  }
}

}  // namespace

std::string NetworkExtensionJson(const std::vector<NetworkSamplingRule>& rules) {
  if (rules.empty()) return "";
  auto boolean = [](bool b) { return b ? "true" : "false"; };
  std::string out = "{\"networkSamplings\":[";
  for (size_t i = 0; i < rules.size(); ++i) {
    const NetworkSamplingRule& rule = rules[i];
    if (i > 0) out.push_back(',');
    out.push_back('{');
    if (rule.uri_regex) {
      out.append("\"uriRegex\":");
      AppendGsonString(&out, *rule.uri_regex);
      out.push_back(',');
    }
    if (rule.min_duration_ms) absl::StrAppend(&out, "\"minDuration\":", *rule.min_duration_ms, ",");
    absl::StrAppend(&out, "\"when4xx\":", boolean(rule.when_4xx),
                    ",\"when5xx\":", boolean(rule.when_5xx));
    if (rule.settings) {
      const NetworkCollectSettings& s = *rule.settings;
      absl::StrAppend(
          &out, ",\"settings\":{\"requireCompleteRequest\":", boolean(s.require_complete_request));
      if (s.max_request_size) absl::StrAppend(&out, ",\"maxRequestSize\":", *s.max_request_size);
      absl::StrAppend(&out, ",\"requireCompleteResponse\":", boolean(s.require_complete_response));
      if (s.max_response_size) {
        absl::StrAppend(&out, ",\"maxResponseSize\":", *s.max_response_size);
      }
      out.push_back('}');
    }
    out.push_back('}');
  }
  out.append("]}");
  return out;
}

std::string RoverExtensionConfigJson(absl::string_view stored) {
  rapidjson::Document doc;
  doc.Parse(stored.data(), stored.size());
  if (doc.HasParseError() || !doc.IsObject()) return "null";
  auto samplings = doc.FindMember("networkSamplings");
  if (samplings == doc.MemberEnd() || !samplings->value.IsArray() || samplings->value.Empty()) {
    return "null";
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  WriteRenamed(doc, &writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace stackhouse::model
