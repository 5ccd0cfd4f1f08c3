#include "model/continuous.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "model/ids.h"

namespace stackhouse::model {
namespace {

constexpr ContinuousMonitorType kMonitorTypes[] = {
    ContinuousMonitorType::kProcessCpu, ContinuousMonitorType::kProcessThreadCount,
    ContinuousMonitorType::kSystemLoad, ContinuousMonitorType::kHttpErrorRate,
    ContinuousMonitorType::kHttpAvgResponseTime};
constexpr EbpfTargetType kTargetTypes[] = {EbpfTargetType::kOnCpu, EbpfTargetType::kOffCpu,
                                           EbpfTargetType::kNetwork};

// Java's Integer.parseInt over ASCII digits: an optional sign, at least one digit, int32 range.
std::optional<int32_t> ParseJavaInt(absl::string_view text) {
  size_t i = 0;
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    i = 1;
  }
  if (i == text.size()) return std::nullopt;
  int64_t value = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
    if (value > int64_t{std::numeric_limits<int32_t>::max()} + 1) return std::nullopt;
  }
  if (negative) value = -value;
  if (value > std::numeric_limits<int32_t>::max()) return std::nullopt;
  return static_cast<int32_t>(value);
}

// The detail of an item's first validation failure (§6.1 table), or nullopt.
std::optional<std::string> ValidateItem(const ContinuousCheckItem& item) {
  if (item.period <= 0) return "period must be bigger than zero";
  if (item.count <= 0) return "count must be bigger than zero";
  if (item.count > item.period) return "count must be equal to or smaller than period";
  std::optional<int32_t> value = ParseJavaInt(item.threshold);
  if (!value) return "parsing threshold error";
  switch (item.type) {
    case ContinuousMonitorType::kProcessCpu:
      if (*value <= 0 || *value > 100) return "the process CPU percent should be in (0-100]";
      break;
    case ContinuousMonitorType::kProcessThreadCount:
      if (*value <= 0) return "the process thread count must be bigger than zero";
      break;
    case ContinuousMonitorType::kSystemLoad:
      if (*value <= 0) return "the system load must be bigger than zero";
      break;
    case ContinuousMonitorType::kHttpErrorRate:
      if (*value <= 0 || *value > 100) return "the HTTP error rate should be in (0-100]";
      break;
    case ContinuousMonitorType::kHttpAvgResponseTime:
      if (*value <= 0) return "the HTTP average response time must be bigger than zero";
      break;
  }
  return std::nullopt;
}

// Appends `"key":` to `out`.
void AppendKey(std::string* out, absl::string_view key) {
  AppendGsonString(out, key);
  out->push_back(':');
}

// The nested target → monitor → item object with the given member names (stored: camelCase,
// command: Rover's PascalCase), null members omitted.
struct ItemKeys {
  const char* threshold;
  const char* period;
  const char* count;
  const char* uri_list;
  const char* uri_regex;
};

void AppendTargets(std::string* out, const std::vector<ContinuousTarget>& targets,
                   const ItemKeys& keys) {
  out->push_back('{');
  for (size_t t = 0; t < targets.size(); ++t) {
    if (t > 0) out->push_back(',');
    AppendKey(out, EbpfTargetTypeName(targets[t].type));
    out->push_back('{');
    const std::vector<ContinuousCheckItem>& items = targets[t].items;
    for (size_t i = 0; i < items.size(); ++i) {
      const ContinuousCheckItem& item = items[i];
      if (i > 0) out->push_back(',');
      AppendKey(out, ContinuousMonitorTypeName(item.type));
      out->push_back('{');
      AppendKey(out, keys.threshold);
      AppendGsonString(out, item.threshold);
      absl::StrAppend(out, ",");
      AppendKey(out, keys.period);
      absl::StrAppend(out, item.period, ",");
      AppendKey(out, keys.count);
      absl::StrAppend(out, item.count);
      if (item.uri_list) {
        out->push_back(',');
        AppendKey(out, keys.uri_list);
        out->append(GsonStringArray(*item.uri_list));
      }
      if (item.uri_regex) {
        out->push_back(',');
        AppendKey(out, keys.uri_regex);
        AppendGsonString(out, *item.uri_regex);
      }
      out->push_back('}');
    }
    out->push_back('}');
  }
  out->push_back('}');
}

// Inserts `,` between groups of three digits of the integer part of `number` (e.g. "-1234.50").
std::string Group(std::string number) {
  size_t begin = number[0] == '-' ? 1 : 0;
  size_t end = number.find('.');
  if (end == std::string::npos) end = number.size();
  for (size_t i = end; i > begin + 3; i -= 3) number.insert(i - 3, 1, ',');
  return number;
}

// Java's percent NumberFormat with two decimals (en-US): `fraction × 100`, rounded half-even on
// its binary value, grouped, with a `%`.
std::string JavaPercent(double fraction) {
  if (std::isnan(fraction)) return "NaN";
  const double percent = fraction * 100.0;
  if (std::isinf(percent)) return percent < 0 ? "-\u221e%" : "\u221e%";
  char buf[400];
  // glibc rounds the exact binary value, ties to even, like DecimalFormat's HALF_EVEN.
  std::snprintf(buf, sizeof(buf), "%.2f", percent);
  return Group(buf) + "%";
}

// Java's String.format("%.2f", value): the shortest decimal that round-trips, rounded half-up.
std::string JavaFixed2(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value < 0 ? "-Infinity" : "Infinity";
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed);
  if (ec != std::errc()) return "NaN";
  std::string digits(buf, end);
  bool negative = !digits.empty() && digits[0] == '-';
  if (negative) digits.erase(0, 1);
  size_t dot = digits.find('.');
  if (dot == std::string::npos) {
    dot = digits.size();
    digits.push_back('.');
  }
  digits.append(3, '0');
  const bool round_up = digits[dot + 3] >= '5';
  digits.resize(dot + 3);
  if (round_up) {
    int i = static_cast<int>(digits.size()) - 1;
    for (; i >= 0; --i) {
      if (digits[i] == '.') continue;
      if (digits[i] == '9') {
        digits[i] = '0';
        continue;
      }
      ++digits[i];
      break;
    }
    if (i < 0) digits.insert(0, 1, '1');
  }
  if (negative) digits.insert(0, 1, '-');
  return digits;
}

// Java's `(int) value`.
int32_t JavaInt(double value) {
  if (std::isnan(value)) return 0;
  if (value >= 2147483647.0) return std::numeric_limits<int32_t>::max();
  if (value <= -2147483648.0) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(value);
}

}  // namespace

std::optional<ContinuousMonitorType> ParseContinuousMonitorType(absl::string_view name) {
  for (ContinuousMonitorType type : kMonitorTypes) {
    if (name == ContinuousMonitorTypeName(type)) return type;
  }
  return std::nullopt;
}

std::optional<EbpfTargetType> ParseEbpfTargetType(absl::string_view name) {
  for (EbpfTargetType type : kTargetTypes) {
    if (name == EbpfTargetTypeName(type)) return type;
  }
  return std::nullopt;
}

std::optional<std::string> ValidateContinuousTargets(const std::vector<ContinuousTarget>& targets) {
  bool seen_targets[4] = {};
  for (const ContinuousTarget& target : targets) {
    const char* target_name = EbpfTargetTypeName(target.type);
    if (std::exchange(seen_targets[static_cast<int>(target.type)], true)) {
      return absl::StrCat("contains multiple same target type: ", target_name);
    }
    bool seen_monitors[6] = {};
    for (const ContinuousCheckItem& item : target.items) {
      const char* monitor_name = ContinuousMonitorTypeName(item.type);
      if (std::exchange(seen_monitors[static_cast<int>(item.type)], true)) {
        return absl::StrCat("contains multiple same monitor type ", monitor_name, " in ",
                            target_name);
      }
      if (std::optional<std::string> detail = ValidateItem(item)) {
        return absl::StrCat("check ", monitor_name, " in ", target_name, " error: ", *detail);
      }
    }
  }
  return std::nullopt;
}

std::vector<ContinuousTarget> NormalizeContinuousTargets(std::vector<ContinuousTarget> targets) {
  std::stable_sort(
      targets.begin(), targets.end(),
      [](const ContinuousTarget& a, const ContinuousTarget& b) { return a.type < b.type; });
  for (ContinuousTarget& target : targets) {
    std::stable_sort(
        target.items.begin(), target.items.end(),
        [](const ContinuousCheckItem& a, const ContinuousCheckItem& b) { return a.type < b.type; });
  }
  return targets;
}

std::string ContinuousConfigurationJson(const std::vector<ContinuousTarget>& targets) {
  std::string out = "{\"targetCheckers\":";
  AppendTargets(&out, targets, {"threshold", "period", "count", "uriList", "uriRegex"});
  out.push_back('}');
  return out;
}

std::string ContinuousPolicyCommandEntry(absl::string_view service_name,
                                         const ContinuousPolicy* policy) {
  std::string out = "{";
  AppendKey(&out, "ServiceName");
  AppendGsonString(&out, service_name);
  out.push_back(',');
  AppendKey(&out, "UUID");
  AppendGsonString(&out, policy == nullptr ? "" : policy->uuid);
  if (policy != nullptr) {
    out.push_back(',');
    AppendKey(&out, "Profiling");
    AppendTargets(&out, policy->targets, {"Threshold", "Period", "Count", "URIList", "URIRegex"});
  }
  out.push_back('}');
  return out;
}

int64_t ContinuousCauseValue(double value) {
  const double scaled = value * 100;
  if (std::isnan(scaled)) return 0;
  if (scaled >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (scaled <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(scaled);
}

std::string ContinuousCauseMessage(ContinuousMonitorType type, double threshold, double current,
                                   absl::string_view uri) {
  std::string text;
  switch (type) {
    case ContinuousMonitorType::kProcessCpu:
    case ContinuousMonitorType::kHttpErrorRate:
      text = absl::StrCat("current ", JavaPercent(current / 100), " >= threshold ",
                          JavaPercent(threshold / 100));
      break;
    case ContinuousMonitorType::kProcessThreadCount:
    case ContinuousMonitorType::kSystemLoad:
      text = absl::StrCat("current ", JavaInt(current), " >= threshold ", JavaInt(threshold));
      break;
    case ContinuousMonitorType::kHttpAvgResponseTime:
      text = absl::StrCat("current ", JavaFixed2(current), "ms >= threshold ",
                          JavaFixed2(threshold), "ms");
      break;
  }
  std::string message = absl::StrCat(ContinuousMonitorTypeName(type), ": ", text);
  if (!uri.empty()) absl::StrAppend(&message, " on ", uri);
  return message;
}

}  // namespace stackhouse::model
