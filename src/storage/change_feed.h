#pragma once

#include <array>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace stackhouse::storage {

// The kinds of shared records that nodes keep in memory and must re-read when any node writes
// them.
enum class ChangeKind {
  kProfileTasks,        // trace-profiling tasks
  kEbpfTasks,           // eBPF task records (fixed-time, network, continuous)
  kEbpfProcesses,       // processes Rover registered
  kContinuousPolicies,  // continuous-profiling policies
};

inline constexpr std::array<ChangeKind, 4> kAllChangeKinds = {
    ChangeKind::kProfileTasks, ChangeKind::kEbpfTasks, ChangeKind::kEbpfProcesses,
    ChangeKind::kContinuousPolicies};

// The kind's name on the wire (a NOTIFY payload): "profile_tasks", "ebpf_tasks", ….
inline absl::string_view ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kProfileTasks:
      return "profile_tasks";
    case ChangeKind::kEbpfTasks:
      return "ebpf_tasks";
    case ChangeKind::kEbpfProcesses:
      return "ebpf_processes";
    case ChangeKind::kContinuousPolicies:
      return "continuous_policies";
  }
  return "";
}

// The kind named `name`, or nullopt for an unknown name.
inline std::optional<ChangeKind> ParseChangeKind(absl::string_view name) {
  for (ChangeKind kind : kAllChangeKinds) {
    if (ChangeKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

// Tells the nodes over one database that shared records changed, so that they re-read them
// from the store. A notification carries only the kind, never the record: the store stays the
// only source of truth, and a lost or duplicated notification costs at most one staleness
// period or one extra read. Implementations are thread-safe.
class ChangeFeed {
 public:
  // Called with the kind that changed; one call may stand for several changes.
  using Listener = std::function<void(ChangeKind)>;

  virtual ~ChangeFeed() = default;

  // Tells every node, this one included, that records of `kind` changed. Call it once the
  // write is committed, so that whoever is told can read it. An error means the notification
  // was not sent; the write stands and other nodes see it on their next periodic refresh.
  virtual absl::Status Publish(ChangeKind kind) = 0;

  // Registers `listener` for the changes of every node. Register before the feed starts
  // delivering (see the implementation); listeners must not block for long, and are called
  // once per kind whenever notifications may have been lost (e.g. after a reconnect).
  virtual void Subscribe(Listener listener) = 0;
};

// An in-process feed: Publish calls every listener at once, on the caller's thread. For
// several services over one store inside one process (tests of several nodes); can drop or
// fail publications to stand for lost notifications. Thread-safe.
class LocalChangeFeed final : public ChangeFeed {
 public:
  absl::Status Publish(ChangeKind kind) override ABSL_LOCKS_EXCLUDED(mu_) {
    std::vector<Listener> listeners;
    {
      absl::MutexLock lock(&mu_);
      ++published_;
      if (!fail_.ok()) return fail_;
      if (drop_) return absl::OkStatus();
      listeners = listeners_;
    }
    for (const Listener& listener : listeners) listener(kind);
    return absl::OkStatus();
  }

  void Subscribe(Listener listener) override ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    listeners_.push_back(std::move(listener));
  }

  // From now on, publications succeed but reach no listener (lost notifications).
  void DropPublications(bool drop) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    drop_ = drop;
  }
  // From now on, publications fail with `status` (OK: they succeed again).
  void FailPublications(absl::Status status) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    fail_ = std::move(status);
  }
  // Publish calls so far, whatever became of them.
  int published() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return published_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Listener> listeners_ ABSL_GUARDED_BY(mu_);
  bool drop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status fail_ ABSL_GUARDED_BY(mu_);
  int published_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace stackhouse::storage
