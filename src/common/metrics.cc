#include "common/metrics.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace stackhouse {
namespace {

void AppendEscapedLabelValue(std::string* out, const std::string& value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

void AppendHelp(std::string* out, const std::string& name, const std::string& help,
                const char* type) {
  absl::StrAppend(out, "# HELP ", name, " ");
  for (char c : help) {
    if (c == '\n') {
      out->append("\\n");
    } else if (c == '\\') {
      out->append("\\\\");
    } else {
      out->push_back(c);
    }
  }
  absl::StrAppend(out, "\n# TYPE ", name, " ", type, "\n");
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrCat(static_cast<int64_t>(v));
  return absl::StrCat(v);
}

}  // namespace

std::string RenderLabels(const MetricLabels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out.push_back(',');
    first = false;
    absl::StrAppend(&out, name, "=\"");
    AppendEscapedLabelValue(&out, value);
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

Counter* MetricsRegistry::GetCounter(const std::string& name, const std::string& help,
                                     const MetricLabels& labels) {
  std::string key = RenderLabels(labels);
  absl::MutexLock lock(&mu_);
  CounterFamily& family = counters_[name];
  if (family.help.empty()) family.help = help;
  auto& slot = family.series[key];
  if (!slot) slot = std::make_unique<Counter>();
  return slot.get();
}

void MetricsRegistry::AddGauge(const std::string& name, const std::string& help,
                               GaugeCallback callback) {
  absl::MutexLock lock(&mu_);
  gauges_[name] = GaugeFamily{help, std::move(callback)};
}

std::string MetricsRegistry::RenderPrometheus() const {
  // Copy the callbacks out so that they run without the registry lock.
  std::vector<std::pair<std::string, GaugeFamily>> gauges;
  std::string out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, family] : counters_) {
      AppendHelp(&out, name, family.help, "counter");
      for (const auto& [labels, counter] : family.series) {
        absl::StrAppend(&out, name, labels, " ", counter->Value(), "\n");
      }
    }
    gauges.assign(gauges_.begin(), gauges_.end());
  }
  for (const auto& [name, family] : gauges) {
    AppendHelp(&out, name, family.help, "gauge");
    for (const GaugeSample& sample : family.callback()) {
      absl::StrAppend(&out, name, RenderLabels(sample.labels), " ", FormatValue(sample.value),
                      "\n");
    }
  }
  return out;
}

}  // namespace stackhouse
