#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace stackhouse {

// Source of wall-clock time, injected everywhere time matters (retention, task windows,
// heartbeats) so that tests run on simulated time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;

  // Milliseconds since the Unix epoch.
  virtual int64_t NowMillis() const = 0;
};

// The real clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // A process-wide instance, for the composition root.
  static SystemClock& Instance() {
    static SystemClock clock;
    return clock;
  }
};

// A clock that only moves when told to. Thread-safe.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(int64_t now_ms) : now_ms_(now_ms) {}

  int64_t NowMillis() const override { return now_ms_.load(std::memory_order_acquire); }
  void SetMillis(int64_t now_ms) { now_ms_.store(now_ms, std::memory_order_release); }
  void AdvanceMillis(int64_t delta_ms) { now_ms_.fetch_add(delta_ms, std::memory_order_acq_rel); }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace stackhouse
