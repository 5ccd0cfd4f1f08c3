#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace stackhouse::fakes {

// Decides which calls of a failing decorator (failing_stores.h) fail, in the spirit of
// LevelDB's fault-injection tests: the Nth call from now (of any method, or of one method), or
// every call of a method, gets a chosen status instead of reaching the decorated object.
// Thread-safe.
class FaultInjector {
 public:
  // The `n`th call from now (1: the next one) of `method` (any method when empty) fails with
  // `status`, once. Replaces an earlier FailNth.
  void FailNth(int n, absl::Status status, std::string method = "") ABSL_LOCKS_EXCLUDED(mu_);

  // Every call of `method` (of any method when empty) fails with `status` until Clear.
  void FailAlways(std::string method, absl::Status status) ABSL_LOCKS_EXCLUDED(mu_);

  // No call fails any more (the counts are kept).
  void Clear() ABSL_LOCKS_EXCLUDED(mu_);

  // The next call of `method` waits in Check until Resume, so that a test can act while a
  // call is inside a store (no sleeps). WaitUntilPaused returns once that call has arrived.
  void PauseNext(std::string method) ABSL_LOCKS_EXCLUDED(mu_);
  void WaitUntilPaused() ABSL_LOCKS_EXCLUDED(mu_);
  void Resume() ABSL_LOCKS_EXCLUDED(mu_);

  // Called by a decorator before forwarding `method`: counts the call and returns the status
  // it must fail with, or OK to forward it.
  absl::Status Check(absl::string_view method) ABSL_LOCKS_EXCLUDED(mu_);

  // How many calls of `method` were checked so far (of every method when empty), failed or not.
  int64_t calls(absl::string_view method = "") const ABSL_LOCKS_EXCLUDED(mu_);
  // How many calls failed so far.
  int64_t failures() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, int64_t> calls_ ABSL_GUARDED_BY(mu_);
  int64_t total_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  // FailNth: calls of nth_method_ still to pass before the one that fails (-1: none).
  int64_t nth_remaining_ ABSL_GUARDED_BY(mu_) = -1;
  std::string nth_method_ ABSL_GUARDED_BY(mu_);
  absl::Status nth_status_ ABSL_GUARDED_BY(mu_);
  // PauseNext: the method to pause, whether a call is waiting, whether it may go on.
  std::optional<std::string> pause_method_ ABSL_GUARDED_BY(mu_);
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  bool resumed_ ABSL_GUARDED_BY(mu_) = false;
  // FailAlways: method ("" = any) → status.
  absl::flat_hash_map<std::string, absl::Status> always_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stackhouse::fakes
