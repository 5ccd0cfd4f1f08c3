#include "simulator/stop_signal.h"

#include <algorithm>
#include <atomic>
#include <csignal>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace stackhouse::sim {
namespace {

std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "needed in a signal handler");

void OnStopSignal(int) { stop_requested.store(true); }

}  // namespace

void InstallStopSignalHandlers() {
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool StopRequested() { return stop_requested.load(); }

void WaitForStop(int64_t run_for_ms) {
  absl::Time deadline =
      run_for_ms > 0 ? absl::Now() + absl::Milliseconds(run_for_ms) : absl::InfiniteFuture();
  // A signal handler can only set a flag, so poll it.
  while (!StopRequested() && absl::Now() < deadline) {
    absl::SleepFor(std::min(absl::Milliseconds(50), deadline - absl::Now()));
  }
}

}  // namespace stackhouse::sim
