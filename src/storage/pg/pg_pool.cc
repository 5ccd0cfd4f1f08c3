#include "storage/pg/pg_pool.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace stackhouse::storage::pg {

absl::StatusOr<std::unique_ptr<Pool>> Pool::Create(const PoolOptions& options) {
  if (options.size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("PostgreSQL pool size must be at least 1, not ", options.size));
  }
  auto pool = std::unique_ptr<Pool>(new Pool(options));
  SH_ASSIGN_OR_RETURN(auto first, pool->Connect());
  absl::MutexLock lock(&pool->mu_);
  pool->idle_.push_back(std::move(first));
  pool->open_ = 1;
  return pool;
}

Pool::~Pool() = default;

absl::StatusOr<std::unique_ptr<Connection>> Pool::Connect() const {
  SH_ASSIGN_OR_RETURN(auto conn, Connection::Open(options_.conninfo));
  if (options_.statement_timeout_ms > 0) {
    SH_RETURN_IF_ERROR(
        conn->ExecScript(absl::StrCat("SET statement_timeout = ", options_.statement_timeout_ms)));
  }
  return conn;
}

absl::StatusOr<Pool::Lease> Pool::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.size;
    };
    mu_.Await(absl::Condition(&available));
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++open_;  // reserved while connecting outside the lock
  }
  auto conn = Connect();
  if (!conn.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
    return conn.status();
  }
  return Lease(this, std::move(*conn));
}

void Pool::Release(std::unique_ptr<Connection> conn) {
  absl::MutexLock lock(&mu_);
  if (conn->healthy()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;  // dropped; the next caller connects again
  }
}

Pool::Lease::Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)) {}

Pool::Lease::~Lease() {
  if (conn_ != nullptr) pool_->Release(std::move(conn_));
}

absl::StatusOr<Result> Pool::Exec(absl::string_view sql, const Params& params) {
  SH_ASSIGN_OR_RETURN(Lease conn, Acquire());
  return conn->Exec(sql, params);
}

absl::StatusOr<Result> Pool::ExecPrepared(const std::string& name, absl::string_view sql,
                                          const Params& params) {
  SH_ASSIGN_OR_RETURN(Lease conn, Acquire());
  return conn->ExecPrepared(name, sql, params);
}

absl::StatusOr<Result> Pool::ExecPreparedRetried(const std::string& name, absl::string_view sql,
                                                 const Params& params) {
  absl::StatusOr<Result> r;
  for (int attempt = 0; attempt < 3; ++attempt) {
    r = ExecPrepared(name, sql, params);
    if (!absl::IsAborted(r.status())) break;
  }
  return r;
}

absl::Status Pool::Transaction(const std::function<absl::Status(Connection&)>& body) {
  absl::Status status;
  for (int attempt = 0; attempt < 3; ++attempt) {
    SH_ASSIGN_OR_RETURN(Lease conn, Acquire());
    SH_RETURN_IF_ERROR(conn->ExecScript("BEGIN"));
    status = body(*conn);
    if (status.ok()) status = conn->ExecScript("COMMIT");
    if (!status.ok() && conn->healthy()) {
      // Leaves the connection usable for the next lease; the body's error is what counts.
      conn->ExecScript("ROLLBACK").IgnoreError();
    }
    if (!absl::IsAborted(status)) return status;
  }
  return status;
}

}  // namespace stackhouse::storage::pg
