#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/pg/pg_connection.h"

namespace stackhouse::storage::pg {

// Settings of a Pool (storage.postgresql.* once the server is wired to it).
struct PoolOptions {
  std::string conninfo;  // libpq's "host=… port=… dbname=… user=…" or a postgresql:// URI
  int size = 8;          // connections at most
  // Applied to every connection (statement_timeout); 0 = the server's default.
  int64_t statement_timeout_ms = 0;
};

// Up to `size` connections shared by callers. A connection is opened when a caller needs one
// and none is idle; one found broken (lost) is dropped when it is returned, so the pool
// recovers from a lost server without a restart: the next caller connects again.
// Thread-safe; callers wait while all connections are in use.
class Pool {
 public:
  // Connects once to check the settings (Unavailable naming the problem when it cannot).
  static absl::StatusOr<std::unique_ptr<Pool>> Create(const PoolOptions& options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // A connection for the caller's exclusive use until the lease is destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection* operator->() const { return conn_.get(); }
    Connection& operator*() const { return *conn_; }

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  // Waits for an idle connection or opens one. Unavailable when the server cannot be reached.
  absl::StatusOr<Lease> Acquire() ABSL_LOCKS_EXCLUDED(mu_);

  // Runs one statement on some connection.
  absl::StatusOr<Result> Exec(absl::string_view sql, const Params& params = Params());
  // The same, prepared once per connection under `name`.
  absl::StatusOr<Result> ExecPrepared(const std::string& name, absl::string_view sql,
                                      const Params& params = Params());
  // ExecPrepared of one statement that is a transaction of its own (it runs whole or not at
  // all), run again when it fails with Aborted (a deadlock with another node's statement, or a
  // serialization failure), up to 3 times in all.
  absl::StatusOr<Result> ExecPreparedRetried(const std::string& name, absl::string_view sql,
                                             const Params& params = Params());

  // Runs `body` inside BEGIN … COMMIT on one connection; rolls back when it or the commit
  // fails, returning its error. A transaction that fails with Aborted (a serialization failure
  // or deadlock) is run again, up to 3 times in all.
  absl::Status Transaction(const std::function<absl::Status(Connection&)>& body);

  int size() const { return options_.size; }

 private:
  explicit Pool(PoolOptions options) : options_(std::move(options)) {}
  absl::StatusOr<std::unique_ptr<Connection>> Connect() const;
  void Release(std::unique_ptr<Connection> conn) ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  const PoolOptions options_;

  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle plus leased
};

}  // namespace stackhouse::storage::pg
