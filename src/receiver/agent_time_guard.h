#pragma once

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/metrics.h"

namespace stackhouse::receiver {

// The times agents stamp their records with (thread dumps, eBPF uploads and schedules,
// segments, Go profiles), checked against the server's clock before anything is stored, so that
// no agent's clock can expire, hide or immortalise data (storage.maxFutureSkew /
// storage.maxPastSkew). A refused time is counted in /metrics
// (`stackhouse_agent_time_refused_total{kind, direction}`) and logged at most once per agent and
// minute. Thread-safe.
class AgentTimeGuard {
 public:
  // Times from now - max_past_ms to now + max_future_ms (both included) are accepted.
  struct Window {
    int64_t max_future_ms = 10LL * 60 * 1000;
    int64_t max_past_ms = 3LL * 24 * 3600 * 1000;
  };

  // How many agents' last log minutes are remembered before the memory starts over.
  static constexpr size_t kMaxRememberedAgents = 4096;

  // `clock` and `metrics` must outlive the guard.
  AgentTimeGuard(const Clock* clock, Window window, MetricsRegistry* metrics)
      : clock_(clock), window_(window), metrics_(metrics) {}

  // OK if `time_ms`, the time of a `kind` record (a metric label, e.g. "snapshot") from
  // `agent` (its gRPC peer), lies within the window around the server's clock. Otherwise
  // InvalidArgument `has time <t> ms, <d> ms ahead of / behind the server's clock (accepted:
  // <past> ms behind to <future> ms ahead)`, to be completed with the message's place.
  absl::Status Check(absl::string_view kind, int64_t time_ms, absl::string_view agent)
      ABSL_LOCKS_EXCLUDED(mu_);

  const Window& window() const { return window_; }

 private:
  // True if `agent` was not logged about in the current minute (and records that it now is).
  bool ShouldLog(absl::string_view agent, int64_t now_ms) ABSL_LOCKS_EXCLUDED(mu_);

  const Clock* const clock_;
  const Window window_;
  MetricsRegistry* const metrics_;

  absl::Mutex mu_;
  // Agent (peer host) → the minute it was last logged about.
  absl::flat_hash_map<std::string, int64_t> logged_minute_ ABSL_GUARDED_BY(mu_);
};

// The host part of a gRPC peer ("ipv4:10.0.0.1:5000" → "ipv4:10.0.0.1"), which names an agent
// across its connections.
std::string PeerHost(absl::string_view peer);

}  // namespace stackhouse::receiver
