#include "storage/pg/pg_change_feed.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace stackhouse::storage::pg {

PgChangeFeed::PgChangeFeed(Pool* pool, ChangeFeedOptions options)
    : pool_(pool), options_(std::move(options)) {}

PgChangeFeed::~PgChangeFeed() {
  Stop();
  for (int fd : wake_) {
    if (fd >= 0) ::close(fd);
  }
}

absl::Status PgChangeFeed::Publish(ChangeKind kind) {
  return pool_
      ->ExecPrepared("sh_notify_change", "SELECT pg_notify('sh_changes', $1)",
                     Params().Text(ChangeKindName(kind)))
      .status();
}

void PgChangeFeed::Subscribe(Listener listener) {
  absl::MutexLock lock(&mu_);
  listeners_.push_back(std::move(listener));
}

int PgChangeFeed::connects() const {
  absl::MutexLock lock(&mu_);
  return connects_;
}

absl::StatusOr<std::unique_ptr<Connection>> PgChangeFeed::Listen() {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.connect_timeout_ms);
  const Connection::SocketWait wait = [this, deadline](int fd, bool write) {
    return WaitForSocket(fd, write, deadline);
  };
  SH_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                      Connection::OpenNonBlocking(options_.conninfo, wait));
  SH_RETURN_IF_ERROR(conn->ExecScriptNonBlocking(absl::StrCat("LISTEN ", kChannel), wait));
  absl::MutexLock lock(&mu_);
  ++connects_;
  return conn;
}

absl::Status PgChangeFeed::Start() {
  {
    absl::MutexLock lock(&mu_);
    if (started_) return absl::FailedPreconditionError("the change feed is started already");
    started_ = true;
  }
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  SH_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Listen());
  thread_ = std::thread([this, c = std::move(conn)]() mutable { Run(std::move(c)); });
  return absl::OkStatus();
}

void PgChangeFeed::Stop() {
  if (!thread_.joinable()) return;
  const char byte = 1;
  while (::write(wake_[1], &byte, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
}

absl::Status PgChangeFeed::WaitForSocket(int fd, bool write,
                                         std::chrono::steady_clock::time_point deadline) const {
  while (true) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return absl::UnavailableError(
          absl::StrCat("PostgreSQL did not answer within ", options_.connect_timeout_ms, " ms"));
    }
    pollfd fds[2] = {{fd, static_cast<short>(write ? POLLOUT : POLLIN), 0}, {wake_[0], POLLIN, 0}};
    const int ready = ::poll(fds, 2, static_cast<int>(std::min<int64_t>(left.count(), 60'000)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
    }
    if (fds[1].revents != 0) return absl::CancelledError("the change feed is stopping");
    // Readiness includes an error or hang-up on the socket: libpq then reads what happened.
    if (ready > 0) return absl::OkStatus();
  }
}

bool PgChangeFeed::WaitForStop(int64_t ms) const {
  pollfd wake{wake_[0], POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&wake, 1, static_cast<int>(ms));
  } while (ready < 0 && errno == EINTR);
  return ready > 0;
}

void PgChangeFeed::Deliver(const std::vector<ChangeKind>& kinds) {
  std::vector<Listener> listeners;
  {
    absl::MutexLock lock(&mu_);
    listeners = listeners_;
  }
  for (ChangeKind kind : kinds) {
    for (const Listener& listener : listeners) listener(kind);
  }
}

void PgChangeFeed::Run(std::unique_ptr<Connection> conn) {
  auto log = GetLogger("storage");
  const std::vector<ChangeKind> every_kind(kAllChangeKinds.begin(), kAllChangeKinds.end());
  int64_t delay_ms = options_.reconnect_min_ms;
  int failed_attempts = 0;
  while (true) {
    if (conn == nullptr) {
      if (WaitForStop(delay_ms)) return;
      absl::StatusOr<std::unique_ptr<Connection>> listening = Listen();
      if (listening.status().code() == absl::StatusCode::kCancelled) return;
      if (!listening.ok()) {
        // One line per run of failures; the periodic refresh covers the gap meanwhile.
        if (failed_attempts++ == 0) {
          log->warn("cannot LISTEN for other nodes' changes (trying again, at most {} s apart): {}",
                    options_.reconnect_max_ms / 1000, listening.status().message());
        }
        delay_ms = std::min(delay_ms * 2, options_.reconnect_max_ms);
        continue;
      }
      conn = *std::move(listening);
      log->info("listening for other nodes' changes again");
      failed_attempts = 0;
      delay_ms = options_.reconnect_min_ms;
      Deliver(every_kind);  // what was sent while nobody listened is lost
      continue;
    }
    const int socket = conn->socket();
    if (socket < 0) {  // poll would ignore it and wait for Stop alone
      log->warn("the LISTEN connection is lost (connecting again)");
      conn.reset();
      continue;
    }
    pollfd fds[2] = {{socket, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      log->error("poll on the LISTEN connection: {}", std::strerror(errno));
      conn.reset();
      continue;
    }
    if (fds[1].revents != 0) return;
    absl::StatusOr<std::vector<std::string>> payloads = conn->TakeNotifications(kChannel);
    if (!payloads.ok()) {
      log->warn("the LISTEN connection is lost (connecting again): {}",
                payloads.status().message());
      conn.reset();
      continue;
    }
    std::vector<ChangeKind> kinds;
    for (const std::string& payload : *payloads) {
      std::optional<ChangeKind> kind = ParseChangeKind(payload);
      // A newer node's kind this build does not cache: nothing to reload.
      if (kind && std::find(kinds.begin(), kinds.end(), *kind) == kinds.end()) {
        kinds.push_back(*kind);
      }
    }
    Deliver(kinds);
  }
}

}  // namespace stackhouse::storage::pg
