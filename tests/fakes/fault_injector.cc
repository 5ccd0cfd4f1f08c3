#include "fakes/fault_injector.h"

#include <utility>

namespace stackhouse::fakes {

void FaultInjector::FailNth(int n, absl::Status status, std::string method) {
  absl::MutexLock lock(&mu_);
  nth_remaining_ = n > 0 ? n - 1 : 0;
  nth_method_ = std::move(method);
  nth_status_ = std::move(status);
}

void FaultInjector::FailAlways(std::string method, absl::Status status) {
  absl::MutexLock lock(&mu_);
  always_[std::move(method)] = std::move(status);
}

void FaultInjector::Clear() {
  absl::MutexLock lock(&mu_);
  nth_remaining_ = -1;
  always_.clear();
}

void FaultInjector::PauseNext(std::string method) {
  absl::MutexLock lock(&mu_);
  pause_method_ = std::move(method);
  paused_ = false;
  resumed_ = false;
}

void FaultInjector::WaitUntilPaused() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&paused_));
}

void FaultInjector::Resume() {
  absl::MutexLock lock(&mu_);
  resumed_ = true;
}

absl::Status FaultInjector::Check(absl::string_view method) {
  absl::MutexLock lock(&mu_);
  if (pause_method_ && *pause_method_ == method) {
    pause_method_.reset();
    paused_ = true;
    mu_.Await(absl::Condition(&resumed_));
  }
  ++calls_[std::string(method)];
  ++total_calls_;
  if (nth_remaining_ >= 0 && (nth_method_.empty() || nth_method_ == method)) {
    if (nth_remaining_-- == 0) {
      ++failures_;
      return nth_status_;
    }
  }
  for (absl::string_view key : {method, absl::string_view()}) {
    auto always = always_.find(std::string(key));
    if (always != always_.end()) {
      ++failures_;
      return always->second;
    }
  }
  return absl::OkStatus();
}

int64_t FaultInjector::calls(absl::string_view method) const {
  absl::MutexLock lock(&mu_);
  if (method.empty()) return total_calls_;
  auto it = calls_.find(std::string(method));
  return it == calls_.end() ? 0 : it->second;
}

int64_t FaultInjector::failures() const {
  absl::MutexLock lock(&mu_);
  return failures_;
}

}  // namespace stackhouse::fakes
