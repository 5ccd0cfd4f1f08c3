#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// libpq's handles, kept out of our headers.
struct pg_conn;
struct pg_result;

namespace stackhouse::storage::pg {

// The parameters of one statement, $1 … $n in the order they are added. Scalars go as text
// (the server infers their types from the statement, so cast them there when it cannot);
// bytea and arrays go in binary. Not thread-safe; a value type.
class Params {
 public:
  Params& Text(absl::string_view value);
  Params& Int64(int64_t value);
  Params& Bool(bool value);
  Params& Null();
  // A bytea value (any bytes).
  Params& Bytes(absl::string_view value);
  // One-dimensional arrays (text[], bytea[], int8[], int4[]); the statement should cast the
  // parameter ($n::text[] …).
  Params& TextArray(const std::vector<std::string>& values);
  Params& BytesArray(const std::vector<std::string>& values);
  Params& Int64Array(const std::vector<int64_t>& values);
  Params& Int32Array(const std::vector<int32_t>& values);

  int size() const { return static_cast<int>(values_.size()); }

 private:
  friend class Connection;
  Params& Add(std::string value, unsigned int type, int format);
  Params& Array(unsigned int element_type, const std::vector<std::string>& encoded);

  std::vector<std::string> values_;
  std::vector<bool> null_;
  std::vector<unsigned int> types_;  // 0: inferred by the server
  std::vector<int> formats_;         // 0 text, 1 binary
};

// The rows of a successful statement, in binary format. Getters take a row and column index
// that must be in range and a column of the matching type (text/varchar/bytea for Bytes;
// int2/int4/int8 for Int64; bool for Bool); a NULL reads as empty / 0 / false. Move-only;
// not thread-safe.
class Result {
 public:
  Result() = default;
  explicit Result(pg_result* result);
  ~Result();
  Result(Result&& other) noexcept;
  Result& operator=(Result&& other) noexcept;

  int rows() const;
  int columns() const;
  // The number of rows a write affected (INSERT/UPDATE/DELETE), 0 when not reported.
  int64_t affected() const;
  bool IsNull(int row, int column) const;
  absl::string_view Bytes(int row, int column) const;
  std::string String(int row, int column) const { return std::string(Bytes(row, column)); }
  int64_t Int64(int row, int column) const;
  // A one-dimensional bigint[] (binary format); nullopt when the value is another type, has
  // more dimensions, a NULL element or is malformed. NULL and '{}' are empty.
  std::optional<std::vector<int64_t>> Int64Array(int row, int column) const;
  bool Bool(int row, int column) const;

 private:
  pg_result* result_ = nullptr;
};

// One connection to PostgreSQL. Errors become absl::Status: a connection that cannot be made
// or is lost is Unavailable ("PostgreSQL connection lost: …"), a statement timeout or cancel
// DeadlineExceeded, a unique violation AlreadyExists, a serialization failure or deadlock
// Aborted (retry the transaction), insufficient resources ResourceExhausted, anything else
// Internal; each message carries the server's message, its SQLSTATE and the start of the
// statement. Not thread-safe: one user at a time (see Pool).
class Connection {
 public:
  // How a call that must not block waits for the connection's socket `fd`: until it is
  // readable (writable when `write`). OK once it may be (a spurious return is fine); an error
  // (Cancelled when the caller stops, DeadlineExceeded, …) ends the call with that error.
  using SocketWait = std::function<absl::Status(int fd, bool write)>;

  // Connects with `conninfo` (libpq's "key=value …" or a postgresql:// URI).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& conninfo);
  // Open, waiting only in `wait` (never blocked inside libpq), so that it returns as soon as
  // `wait` fails whatever the server does. libpq's connect_timeout does not apply here: `wait`
  // bounds the time. Errors: Open's, or `wait`'s.
  static absl::StatusOr<std::unique_ptr<Connection>> OpenNonBlocking(const std::string& conninfo,
                                                                     const SocketWait& wait);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement with `params` (PQexecParams).
  absl::StatusOr<Result> Exec(absl::string_view sql, const Params& params = Params());

  // Runs `sql` prepared once per connection under `name` (one name, one statement text).
  absl::StatusOr<Result> ExecPrepared(const std::string& name, absl::string_view sql,
                                      const Params& params = Params());

  // Runs statements without parameters, several separated by ';' (the simple protocol).
  absl::Status ExecScript(absl::string_view sql);
  // ExecScript, waiting only in `wait`; every statement's result is checked (the first error
  // is returned). After an error of `wait` the connection is of no further use.
  absl::Status ExecScriptNonBlocking(absl::string_view sql, const SocketWait& wait);

  // False once the connection is known to be broken (it is then of no further use).
  bool healthy() const;

  // The connection's socket, to wait on (poll) for notifications after a LISTEN; -1 when broken.
  int socket() const;

  // Reads, without blocking, what the server has sent, and returns the payloads of the
  // notifications on `channel` received so far, oldest first (others are dropped).
  // Unavailable once the connection is lost.
  absl::StatusOr<std::vector<std::string>> TakeNotifications(absl::string_view channel);

 private:
  explicit Connection(pg_conn* conn) : conn_(conn) {}
  // The status of a finished statement: OK for rows or a command, else the mapped error.
  absl::StatusOr<Result> Check(pg_result* result, absl::string_view sql);
  // Unavailable with libpq's last error message, for a connection lost in `sql`.
  absl::Status Lost(absl::string_view sql) const;

  pg_conn* conn_;
  absl::flat_hash_set<std::string> prepared_;
};

// A libpq conninfo string of `keywords` and their values ("host", "port", "dbname", …), each
// value quoted and escaped as libpq wants it, in the order given; empty values are left out.
std::string MakeConnInfo(const std::vector<std::pair<std::string, std::string>>& keywords);

// Maps a libpq error to a Status (see Connection); exposed for tests.
absl::Status ErrorFromSqlState(absl::string_view sqlstate, absl::string_view message);

}  // namespace stackhouse::storage::pg
