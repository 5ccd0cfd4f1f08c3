#include "simulator/rover_continuous.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "simulator/modes.h"

namespace stackhouse::sim {
namespace {

constexpr absl::string_view kPolicyCommand = "ContinuousProfilingPolicyQuery";

struct MonitorInfo {
  MonitorType type;
  absl::string_view name;
  bool integer_threshold;  // Rover parses PROCESS_CPU and PROCESS_THREAD_COUNT as integers
  bool uris;
  skywalking::v3::ContinuousProfilingTriggeredMonitorType proto;
};

constexpr MonitorInfo kMonitors[] = {
    {MonitorType::kProcessCpu, "PROCESS_CPU", true, false, skywalking::v3::ProcessCPU},
    {MonitorType::kThreadCount, "PROCESS_THREAD_COUNT", true, false,
     skywalking::v3::ProcessThreadCount},
    {MonitorType::kSystemLoad, "SYSTEM_LOAD", false, false, skywalking::v3::SystemLoad},
    {MonitorType::kHttpErrorRate, "HTTP_ERROR_RATE", false, true, skywalking::v3::HTTPErrorRate},
    {MonitorType::kHttpAvgResponseTime, "HTTP_AVG_RESPONSE_TIME", false, true,
     skywalking::v3::HTTPAvgResponseTime},
};

const MonitorInfo& InfoOf(MonitorType type) { return kMonitors[static_cast<int>(type)]; }

const MonitorInfo* InfoByName(absl::string_view name) {
  for (const MonitorInfo& info : kMonitors) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

// Go's strconv.ParseInt(s, 10, 64) / ParseFloat(s, 64), near enough for thresholds.
bool ParseThreshold(const std::string& text, bool integer, double* out) {
  if (integer) {
    int64_t v = 0;
    if (text.empty() || text.front() == ' ' || !absl::SimpleAtoi(text, &v)) return false;
    *out = static_cast<double>(v);
    return true;
  }
  double v = 0;
  if (text.empty() || text.front() == ' ' || !absl::SimpleAtod(text, &v) || !std::isfinite(v)) {
    return false;
  }
  *out = v;
  return true;
}

int64_t IntMember(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsInt64()) return 0;
  return it->value.GetInt64();
}

std::string StringMember(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

absl::StatusOr<ContinuousPolicy> ParsePolicyEntry(const rapidjson::Value& entry) {
  if (!entry.IsObject()) return absl::InvalidArgumentError("a policy entry is not an object");
  ContinuousPolicy policy;
  policy.service = StringMember(entry, "ServiceName");
  policy.uuid = StringMember(entry, "UUID");
  if (policy.service.empty())
    return absl::InvalidArgumentError("a policy entry has no ServiceName");
  auto profiling = entry.FindMember("Profiling");
  if (policy.uuid.empty() || profiling == entry.MemberEnd() || profiling->value.IsNull()) {
    policy.uuid.clear();
    return policy;
  }
  if (!profiling->value.IsObject()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the Profiling of ", policy.service, " is not an object"));
  }
  for (const auto& target : profiling->value.GetObject()) {
    std::string target_name(target.name.GetString(), target.name.GetStringLength());
    ContinuousTarget parsed;
    if (target_name == "ON_CPU") {
      parsed.target = EbpfTarget::kOnCpu;
    } else if (target_name == "OFF_CPU") {
      parsed.target = EbpfTarget::kOffCpu;
    } else if (target_name == "NETWORK") {
      parsed.target = EbpfTarget::kNetwork;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown target type '", target_name,
                                                     "' in the policy of ", policy.service));
    }
    if (!target.value.IsObject()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the ", target_name, " target of ", policy.service, " is not an object"));
    }
    for (const auto& item : target.value.GetObject()) {
      std::string monitor(item.name.GetString(), item.name.GetStringLength());
      const MonitorInfo* info = InfoByName(monitor);
      if (info == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown monitor type '", monitor, "' in the policy of ", policy.service));
      }
      if (!item.value.IsObject()) continue;
      ContinuousItem parsed_item;
      parsed_item.type = info->type;
      parsed_item.period_s = IntMember(item.value, "Period");
      parsed_item.count = IntMember(item.value, "Count");
      std::string threshold = StringMember(item.value, "Threshold");
      if (parsed_item.period_s <= 0 || parsed_item.count <= 0 ||
          parsed_item.count > parsed_item.period_s ||
          !ParseThreshold(threshold, info->integer_threshold, &parsed_item.threshold)) {
        continue;
      }
      if (info->uris) {
        if (auto list = item.value.FindMember("URIList");
            list != item.value.MemberEnd() && list->value.IsArray()) {
          for (const auto& uri : list->value.GetArray()) {
            if (uri.IsString()) parsed_item.uri_list.emplace_back(uri.GetString());
          }
        }
        parsed_item.uri_regex = StringMember(item.value, "URIRegex");
      }
      parsed.items.push_back(std::move(parsed_item));
    }
    policy.targets.push_back(std::move(parsed));
  }
  return policy;
}

// Uniform in [0, 1) from a 64-bit hash.
double Unit(uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }

uint64_t HashText(absl::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

double Round2(double v) { return std::round(v * 100) / 100; }

void AddLabel(skywalking::v3::MeterSingleValue* value, absl::string_view name,
              absl::string_view text) {
  auto* label = value->add_labels();
  label->set_name(std::string(name));
  label->set_value(std::string(text));
}

}  // namespace

absl::string_view MonitorTypeName(MonitorType type) { return InfoOf(type).name; }

std::string MonitorMeterName(MonitorType type) {
  return absl::StrCat("rover_con_p_", absl::AsciiStrToLower(InfoOf(type).name));
}

std::vector<std::string> ContinuousItem::Uris() const {
  if (!InfoOf(type).uris) return {};
  if (!uri_list.empty()) return uri_list;
  if (!uri_regex.empty()) return {uri_regex};
  return {"global"};
}

absl::StatusOr<std::vector<ContinuousPolicy>> ParsePolicyCommand(
    const skywalking::v3::Command& command) {
  if (command.command() != kPolicyCommand) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a ", kPolicyCommand, " command, got '", command.command(), "'"));
  }
  std::string json;
  for (const auto& arg : command.args()) {
    if (arg.key() == "ServiceWithPolicyJSON") json = arg.value();
  }
  if (json.empty()) {
    return absl::InvalidArgumentError("the policy command has no ServiceWithPolicyJSON");
  }
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsArray()) {
    return absl::InvalidArgumentError("ServiceWithPolicyJSON is not a JSON array");
  }
  std::vector<ContinuousPolicy> out;
  for (const auto& entry : doc.GetArray()) {
    absl::StatusOr<ContinuousPolicy> policy = ParsePolicyEntry(entry);
    if (!policy.ok()) return policy.status();
    out.push_back(*std::move(policy));
  }
  return out;
}

skywalking::v3::ContinuousProfilingPolicyQuery ContinuousPolicyBook::Query(
    const std::vector<std::string>& services) const {
  skywalking::v3::ContinuousProfilingPolicyQuery query;
  std::set<std::string> seen;
  for (const std::string& service : services) {
    if (!seen.insert(service).second) continue;
    auto* entry = query.add_policies();
    entry->set_servicename(service);
    if (const ContinuousPolicy* policy = Find(service)) entry->set_uuid(policy->uuid);
  }
  return query;
}

absl::StatusOr<std::vector<std::string>> ContinuousPolicyBook::Apply(
    const skywalking::v3::Commands& reply) {
  if (reply.commands_size() == 0) return std::vector<std::string>{};
  if (reply.commands_size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("queryPolicies answered ", reply.commands_size(), " commands, not one"));
  }
  absl::StatusOr<std::vector<ContinuousPolicy>> policies = ParsePolicyCommand(reply.commands(0));
  if (!policies.ok()) return policies.status();
  std::vector<std::string> changed;
  for (ContinuousPolicy& policy : *policies) {
    changed.push_back(policy.service);
    if (policy.uuid.empty()) {
      policies_.erase(policy.service);
    } else {
      std::string service = policy.service;
      policies_[service] = std::move(policy);
    }
  }
  return changed;
}

const ContinuousPolicy* ContinuousPolicyBook::Find(absl::string_view service) const {
  auto it = policies_.find(service);
  return it == policies_.end() ? nullptr : &it->second;
}

ContinuousLoad::ContinuousLoad(uint64_t seed, int64_t every_ms, int64_t burst_ms)
    : seed_(seed),
      every_s_(std::max<int64_t>(1, every_ms / 1000)),
      burst_s_(std::clamp<int64_t>(burst_ms / 1000, 0, std::max<int64_t>(1, every_ms / 1000))) {}

bool ContinuousLoad::InBurst(uint64_t process_key, MonitorType type, int64_t second) const {
  if (burst_s_ <= 0) return false;
  // The node's load is shared; the other types burst together per process (a busy process is
  // slow and failing at once), at an offset of their own per period.
  uint64_t who = type == MonitorType::kSystemLoad ? ~0ull : process_key;
  int64_t period = second / every_s_;
  uint64_t h = DeriveSeed(DeriveSeed(seed_, who), static_cast<uint64_t>(period));
  int64_t offset = static_cast<int64_t>(h % static_cast<uint64_t>(every_s_ - burst_s_ + 1));
  int64_t at = second - period * every_s_;
  return at >= offset && at < offset + burst_s_;
}

double ContinuousLoad::Value(uint64_t process_key, MonitorType type, absl::string_view uri,
                             int64_t second) const {
  uint64_t who = type == MonitorType::kSystemLoad ? ~0ull : process_key;
  uint64_t h = DeriveSeed(
      DeriveSeed(DeriveSeed(seed_ ^ HashText(uri), who), static_cast<uint64_t>(type) + 11),
      static_cast<uint64_t>(second));
  double u = Unit(h);
  bool burst = InBurst(process_key, type, second);
  switch (type) {
    case MonitorType::kProcessCpu:
      return Round2(burst ? 82 + 15 * u : 10 + 30 * u);
    case MonitorType::kThreadCount:
      return std::floor(burst ? 160 + 60 * u : 40 + 40 * u);
    case MonitorType::kSystemLoad:
      return Round2(burst ? 6 + 3 * u : 0.5 + 1.5 * u);
    case MonitorType::kHttpErrorRate:
      return Round2(burst ? 15 + 25 * u : 3 * u);
    case MonitorType::kHttpAvgResponseTime:
      return Round2(burst ? 600 + 900 * u : 20 + 100 * u);
  }
  return 0;
}

ContinuousChecker::ContinuousChecker(Options options, ValueSource values)
    : options_(options), values_(std::move(values)) {}

ContinuousChecker::Result ContinuousChecker::Check(const std::vector<ContinuousProcess>& processes,
                                                   const ContinuousPolicyBook& book,
                                                   int64_t now_ms) {
  Result result;
  const int64_t now_s = now_ms / 1000;
  const int64_t from_s = last_second_ < 0 ? now_s : last_second_ + 1;
  last_second_ = std::max(last_second_, now_s);
  // NETWORK triggers group the processes of one instance: the first matching one reports.
  std::set<std::string> network_instances_done;
  for (const ContinuousProcess& process : processes) {
    const ContinuousPolicy* policy = book.Find(process.service);
    if (policy == nullptr) continue;
    skywalking::v3::MeterDataCollection meters;
    bool first_meter = true;
    std::set<std::pair<MonitorType, std::string>> reported;
    for (size_t t = 0; t < policy->targets.size(); ++t) {
      const ContinuousTarget& target = policy->targets[t];
      std::vector<skywalking::v3::ContinuousProfilingCause> causes;
      std::vector<std::string> sampling_uris;
      for (size_t i = 0; i < target.items.size(); ++i) {
        const ContinuousItem& item = target.items[i];
        std::vector<std::string> uris = item.Uris();
        const bool with_uri = !uris.empty();
        if (!with_uri) uris.push_back("");
        for (const std::string& uri : uris) {
          Window& window = windows_[{process.id, static_cast<int>(target.target), i, uri}];
          if (window.uuid != policy->uuid) {
            window.uuid = policy->uuid;
            window.seconds.clear();
          }
          int64_t start = std::max(from_s, now_s - item.period_s + 1);
          if (!window.seconds.empty()) start = std::max(start, window.seconds.back().first + 1);
          for (int64_t s = start; s <= now_s; ++s) {
            window.seconds.emplace_back(s, values_(process, item.type, uri, s));
          }
          while (!window.seconds.empty() && window.seconds.front().first <= now_s - item.period_s) {
            window.seconds.pop_front();
          }
          if (window.seconds.empty()) continue;
          // The meter: the last second's value, once per (type, uri) however many items.
          if (reported.insert({item.type, uri}).second) {
            auto* data = meters.add_meterdata();
            if (first_meter) {
              data->set_service(process.service);
              data->set_serviceinstance(process.instance);
              data->set_timestamp(now_ms);
              first_meter = false;
            }
            auto* value = data->mutable_singlevalue();
            value->set_name(MonitorMeterName(item.type));
            value->set_value(window.seconds.back().second);
            if (with_uri) AddLabel(value, "uri", uri);
            AddLabel(value, "process_name", process.process_name);
            AddLabel(value, "layer", process.layer);
          }
          int64_t matched = 0;
          double current = 0;
          for (const auto& [second, v] : window.seconds) {
            if (v >= item.threshold) {
              ++matched;
              current = v;  // the latest value at or above the threshold
            }
          }
          if (matched < item.count) continue;
          skywalking::v3::ContinuousProfilingCause cause;
          cause.set_type(InfoOf(item.type).proto);
          if (with_uri) {
            auto* u = cause.mutable_uri();
            if (!item.uri_list.empty()) {
              u->set_path(uri);
            } else {
              u->set_regex(item.uri_regex.empty() ? "" : uri);
            }
            u->set_threshold(item.threshold);
            u->set_current(current);
            if (!item.uri_list.empty() || !item.uri_regex.empty()) sampling_uris.push_back(uri);
          } else {
            auto* single = cause.mutable_singlevalue();
            single->set_threshold(item.threshold);
            single->set_current(current);
          }
          causes.push_back(std::move(cause));
        }
      }
      if (causes.empty()) continue;
      const bool network = target.target == EbpfTarget::kNetwork;
      std::string who = network ? absl::StrCat("instance:", process.instance) : process.id;
      if (network && !network_instances_done.insert(process.instance).second) continue;
      auto key = std::make_pair(who, static_cast<int>(target.target));
      if (auto it = last_trigger_ms_.find(key);
          it != last_trigger_ms_.end() && now_ms - it->second < options_.silence_ms) {
        continue;
      }
      last_trigger_ms_[key] = now_ms;
      Trigger trigger;
      trigger.process_id = process.id;
      trigger.target = target.target;
      auto& report = trigger.report;
      report.set_layer(process.layer);
      report.set_servicename(process.service);
      report.set_instancename(process.instance);
      report.set_processname(process.process_name);
      for (auto& cause : causes) *report.add_causes() = std::move(cause);
      report.set_duration(static_cast<int32_t>(options_.task_duration_s));
      switch (target.target) {
        case EbpfTarget::kOnCpu:
          report.mutable_oncpu();
          break;
        case EbpfTarget::kOffCpu:
          report.mutable_offcpu();
          break;
        case EbpfTarget::kNetwork: {
          auto* sampling = report.mutable_network();  // set even without sampled URIs
          for (const std::string& uri : sampling_uris) sampling->add_samplinguriregexes(uri);
          break;
        }
      }
      result.triggers.push_back(std::move(trigger));
    }
    if (meters.meterdata_size() > 0) result.meters.push_back(std::move(meters));
  }
  return result;
}

}  // namespace stackhouse::sim
