#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace stackhouse {

// Label set of one series, as ordered (name, value) pairs.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing counter. Thread-safe, lock-free.
class Counter {
 public:
  void Increment(uint64_t delta = 1) { value_.fetch_add(delta, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Process-wide metric registry rendered in the Prometheus text exposition format (0.0.4).
// Counters are created on first use and live as long as the registry; gauges are computed by
// callbacks at render time. Thread-safe.
class MetricsRegistry {
 public:
  // One sample of a gauge callback.
  struct GaugeSample {
    MetricLabels labels;
    double value = 0;
  };
  using GaugeCallback = std::function<std::vector<GaugeSample>()>;

  // Returns the counter of family `name` with `labels`, creating family and series on first
  // use. The pointer stays valid for the registry's lifetime. `help` of the first call wins.
  Counter* GetCounter(const std::string& name, const std::string& help,
                      const MetricLabels& labels = {});

  // Registers a gauge family whose samples `callback` computes at each render. The callback
  // must be thread-safe and must not call back into the registry.
  void AddGauge(const std::string& name, const std::string& help, GaugeCallback callback);

  // The whole registry in Prometheus text format, families sorted by name.
  std::string RenderPrometheus() const;

 private:
  struct CounterFamily {
    std::string help;
    std::map<std::string, std::unique_ptr<Counter>> series;  // key: rendered label set
  };
  struct GaugeFamily {
    std::string help;
    GaugeCallback callback;
  };

  mutable absl::Mutex mu_;
  std::map<std::string, CounterFamily> counters_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, GaugeFamily> gauges_ ABSL_GUARDED_BY(mu_);
};

// Renders `labels` as `{a="x",b="y"}` (empty string for no labels), escaping values.
std::string RenderLabels(const MetricLabels& labels);

}  // namespace stackhouse
