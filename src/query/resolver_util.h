#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graphql/resolver.h"
#include "graphql/value.h"
#include "model/entities.h"
#include "model/ids.h"
#include "model/trace.h"

// Small helpers shared by the resolver files. Header-only, stateless.
namespace stackhouse::query {

using graphql::Result;
using Fields = std::vector<std::pair<std::string, Result>>;

// A string argument (ID arguments may arrive as integers); "" for null or absent.
inline std::string StringArg(const graphql::ResolverContext& context, absl::string_view name) {
  const graphql::Value& value = context.args().Get(name);
  if (value.kind() == graphql::Value::Kind::kInt) return absl::StrCat(value.int_value());
  return value.string_value();
}

// The strings of a list value (IDs given as integers in decimal); none if it is not a list.
inline std::vector<std::string> StringsFromValue(const graphql::Value& value) {
  std::vector<std::string> out;
  if (value.kind() != graphql::Value::Kind::kList) return out;
  for (const graphql::Value& item : value.list()) {
    out.push_back(item.kind() == graphql::Value::Kind::kInt ? absl::StrCat(item.int_value())
                                                            : item.string_value());
  }
  return out;
}

inline Result StringList(const std::vector<std::string>& values) {
  std::vector<Result> items;
  items.reserve(values.size());
  for (const std::string& v : values) items.push_back(Result::String(v));
  return Result::List(std::move(items));
}

inline Result KeyValues(const std::vector<std::pair<std::string, std::string>>& pairs,
                        const char* key_field = "key", const char* value_field = "value") {
  std::vector<Result> items;
  items.reserve(pairs.size());
  for (const auto& [key, value] : pairs) {
    items.push_back(
        Result::Map({{key_field, Result::String(key)}, {value_field, Result::String(value)}}));
  }
  return Result::List(std::move(items));
}

// A span's reference as GraphQL's `Ref` (trace and trace-profiling span queries).
inline Result RefResult(const model::SegmentRef& ref) {
  return Result::Map(
      {{"traceId", Result::String(ref.trace_id)},
       {"parentSegmentId", Result::String(ref.parent_segment_id)},
       {"parentSpanId", Result::Int(ref.parent_span_id)},
       {"type", Result::String(ref.type == model::RefType::kCrossThread ? "CROSS_THREAD"
                                                                        : "CROSS_PROCESS")}});
}

// A span's log as GraphQL's `LogEntity`.
inline Result SpanLogResult(const model::SpanLog& log) {
  return Result::Map({{"time", Result::Int(log.time_ms)}, {"data", KeyValues(log.data)}});
}

// The name inside an instance or endpoint id, "" when the id is malformed.
inline std::string NameOfChildId(const std::string& id) {
  auto parts = model::DecodeChildId(id);
  return parts.ok() ? parts->name : "";
}

// The name inside a service id, "" when the id is malformed.
inline std::string NameOfServiceId(const std::string& id) {
  auto parts = model::DecodeServiceId(id);
  return parts.ok() ? parts->name : "";
}

// Instance attributes as OAP shows them: every property, later duplicates winning, except
// that all `ipv4` values are joined into one `ipv4s`.
inline std::vector<std::pair<std::string, std::string>> Attributes(
    const model::KeyValueList& props) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string ipv4s;
  for (const auto& [key, value] : props) {
    if (key == "ipv4") {
      absl::StrAppend(&ipv4s, ipv4s.empty() ? "" : ",", value);
      continue;
    }
    auto existing =
        std::find_if(out.begin(), out.end(), [&](const auto& kv) { return kv.first == key; });
    if (existing != out.end()) {
      existing->second = value;
    } else {
      out.emplace_back(key, value);
    }
  }
  if (!ipv4s.empty()) out.emplace_back("ipv4s", ipv4s);
  return out;
}

}  // namespace stackhouse::query
