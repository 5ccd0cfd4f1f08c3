#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace stackhouse::storage {

// Coalesces repeated writes of one key (an instance's heartbeat, an endpoint's sighting) to at
// most one per period, for the metadata stores of every backend. Remembers when each key was
// last written; bounded (forgets everything when full, which only costs a few extra writes).
// Thread-safe.
class TouchCoalescer {
 public:
  static constexpr size_t kMaxEntries = size_t{1} << 20;

  explicit TouchCoalescer(int64_t period_ms) : period_ms_(period_ms) {}

  // True, recording `now`, unless `key` was written within the period before `now` (a clock
  // that went backwards counts as due).
  bool ShouldTouch(const std::string& key, int64_t now) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = last_.try_emplace(key, now);
    if (inserted) {
      if (last_.size() > kMaxEntries) {
        last_.clear();
        last_.emplace(key, now);
      }
      return true;
    }
    if (now - it->second < period_ms_ && now >= it->second) return false;
    it->second = now;
    return true;
  }

  // Records a write of `key` at `now` that did not ask ShouldTouch (a forced write).
  void Record(const std::string& key, int64_t now) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (last_.size() >= kMaxEntries) last_.clear();
    last_[key] = now;
  }

  // Forgets `key`'s last write, so that the next one is not skipped (after a failed write).
  void Forget(const std::string& key) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    last_.erase(key);
  }

 private:
  const int64_t period_ms_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, int64_t> last_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stackhouse::storage
