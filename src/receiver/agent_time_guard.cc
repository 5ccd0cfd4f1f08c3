#include "receiver/agent_time_guard.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/saturating.h"

namespace stackhouse::receiver {

absl::Status AgentTimeGuard::Check(absl::string_view kind, int64_t time_ms,
                                   absl::string_view agent) {
  const int64_t now = clock_->NowMillis();
  const int64_t latest = SaturatingAdd(now, window_.max_future_ms);
  const int64_t earliest = SaturatingSub(now, window_.max_past_ms);
  if (time_ms >= earliest && time_ms <= latest) return absl::OkStatus();
  const bool future = time_ms > latest;
  metrics_
      ->GetCounter("stackhouse_agent_time_refused_total",
                   "Agent records refused for a time outside storage.maxFutureSkew / maxPastSkew",
                   {{"kind", std::string(kind)}, {"direction", future ? "future" : "past"}})
      ->Increment();
  const std::string offset = future ? absl::StrCat(SaturatingSub(time_ms, now), " ms ahead of")
                                    : absl::StrCat(SaturatingSub(now, time_ms), " ms behind");
  std::string problem = absl::StrCat("has time ", time_ms, " ms, ", offset,
                                     " the server's clock (accepted: ", window_.max_past_ms,
                                     " ms behind to ", window_.max_future_ms, " ms ahead)");
  if (ShouldLog(agent, now)) {
    GetLogger("receiver")
        ->warn(
            "agent {}: a {} record {}; refused (storage.maxFutureSkew, storage.maxPastSkew; "
            "not logged again for this agent within the minute)",
            agent, kind, problem);
  }
  return absl::InvalidArgumentError(problem);
}

bool AgentTimeGuard::ShouldLog(absl::string_view agent, int64_t now_ms) {
  const int64_t minute = now_ms / 60000;
  absl::MutexLock lock(&mu_);
  auto found = logged_minute_.find(agent);
  if (found != logged_minute_.end()) {
    if (found->second == minute) return false;
    found->second = minute;
    return true;
  }
  if (logged_minute_.size() >= kMaxRememberedAgents) logged_minute_.clear();
  logged_minute_.emplace(std::string(agent), minute);
  return true;
}

std::string PeerHost(absl::string_view peer) {
  const size_t colon = peer.rfind(':');
  if (colon == absl::string_view::npos || colon + 1 == peer.size()) return std::string(peer);
  for (char c : peer.substr(colon + 1)) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::string(peer);
  }
  return std::string(peer.substr(0, colon));
}

}  // namespace stackhouse::receiver
