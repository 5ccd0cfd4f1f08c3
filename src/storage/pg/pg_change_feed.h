#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "storage/change_feed.h"
#include "storage/pg/pg_connection.h"
#include "storage/pg/pg_pool.h"

namespace stackhouse::storage::pg {

// Settings of a PgChangeFeed.
struct ChangeFeedOptions {
  // The listening connection's libpq conninfo (the pool's, with its own application_name).
  std::string conninfo;
  // A lost listening connection is made again after this long, doubling up to the maximum.
  int64_t reconnect_min_ms = 500;
  int64_t reconnect_max_ms = 10'000;
  // Connecting and LISTENing give up after this long (libpq's connect_timeout does not apply:
  // the feed never blocks inside libpq, so that Stop is prompt).
  int64_t connect_timeout_ms = 10'000;
};

// PostgreSQL's LISTEN/NOTIFY as a ChangeFeed, on channel sh_changes with the kind's name as
// payload. Publish sends pg_notify through the pool (after the caller's write committed, so
// whoever is told can read it). A connection of its own, outside the pool, LISTENs; a thread
// waits on its socket and calls the listeners, once per kind for each batch of notifications
// that arrive together. When that connection is lost, the thread connects again with backoff
// and then calls every listener for every kind, since what was sent meanwhile is lost.
// Thread-safe.
class PgChangeFeed final : public ChangeFeed {
 public:
  static constexpr char kChannel[] = "sh_changes";

  // `pool` must outlive the feed. Nothing is connected before Start.
  PgChangeFeed(Pool* pool, ChangeFeedOptions options);
  ~PgChangeFeed() override;  // Stop()
  PgChangeFeed(const PgChangeFeed&) = delete;
  PgChangeFeed& operator=(const PgChangeFeed&) = delete;

  // NOTIFY sh_changes with `kind`'s name. Errors are the pool's (Unavailable, …).
  absl::Status Publish(ChangeKind kind) override;
  // Register before Start.
  void Subscribe(Listener listener) override ABSL_LOCKS_EXCLUDED(mu_);

  // Connects and LISTENs (Unavailable, or the pipe's Internal error, when it cannot), then
  // listens on a thread of its own until Stop: whatever is published after Start returns is
  // delivered. At most once.
  absl::Status Start() ABSL_LOCKS_EXCLUDED(mu_);
  // Stops and joins the thread, promptly whatever the database does: a connection attempt or
  // LISTEN in progress is abandoned. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // How many times the listening connection was made, the first included.
  int connects() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // A new connection that LISTENs on kChannel, made within options_.connect_timeout_ms
  // (Unavailable after that); Cancelled once Stop is called.
  absl::StatusOr<std::unique_ptr<Connection>> Listen() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until `fd` is readable (writable when `write`): OK, Cancelled once Stop is called,
  // Unavailable at `deadline`.
  absl::Status WaitForSocket(int fd, bool write,
                             std::chrono::steady_clock::time_point deadline) const;
  void Run(std::unique_ptr<Connection> conn);
  // Waits up to `ms` for Stop; true when it was called.
  bool WaitForStop(int64_t ms) const;
  void Deliver(const std::vector<ChangeKind>& kinds) ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  Pool* const pool_;
  const ChangeFeedOptions options_;

  mutable absl::Mutex mu_;
  std::vector<Listener> listeners_ ABSL_GUARDED_BY(mu_);
  int connects_ ABSL_GUARDED_BY(mu_) = 0;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  // Stop writes a byte to wake_[1]; the thread polls wake_[0] beside the socket.
  int wake_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace stackhouse::storage::pg
