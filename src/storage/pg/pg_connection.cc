#include "storage/pg/pg_connection.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace stackhouse::storage::pg {
namespace {

// Type oids of pg_type (fixed in every PostgreSQL).
constexpr unsigned int kBoolOid = 16;
constexpr unsigned int kByteaOid = 17;
constexpr unsigned int kInt8Oid = 20;
constexpr unsigned int kInt2Oid = 21;
constexpr unsigned int kInt4Oid = 23;
constexpr unsigned int kTextOid = 25;
constexpr unsigned int kTextArrayOid = 1009;
constexpr unsigned int kByteaArrayOid = 1001;
constexpr unsigned int kInt8ArrayOid = 1016;
constexpr unsigned int kInt4ArrayOid = 1007;

void PutBe32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void PutBe64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t GetBe(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// The first line of a statement, shortened, to name it in an error.
std::string Excerpt(absl::string_view sql) {
  sql = absl::StripLeadingAsciiWhitespace(sql);
  size_t end = sql.find('\n');
  if (end == absl::string_view::npos) end = sql.size();
  end = std::min<size_t>(end, 80);
  return std::string(sql.substr(0, end));
}

}  // namespace

Params& Params::Add(std::string value, unsigned int type, int format) {
  values_.push_back(std::move(value));
  null_.push_back(false);
  types_.push_back(type);
  formats_.push_back(format);
  return *this;
}

Params& Params::Text(absl::string_view value) { return Add(std::string(value), kTextOid, 0); }
Params& Params::Int64(int64_t value) { return Add(absl::StrCat(value), kInt8Oid, 0); }
Params& Params::Bool(bool value) { return Add(value ? "t" : "f", kBoolOid, 0); }
Params& Params::Bytes(absl::string_view value) { return Add(std::string(value), kByteaOid, 1); }

Params& Params::Null() {
  Add("", 0, 0);
  null_.back() = true;
  return *this;
}

Params& Params::Array(unsigned int element_type, const std::vector<std::string>& encoded) {
  // The binary array format: dimensions, a has-nulls flag, the element type, each dimension's
  // length and lower bound, then each element as a length and its bytes.
  std::string out;
  size_t total = 20;
  for (const std::string& e : encoded) total += 4 + e.size();
  out.reserve(total);
  PutBe32(&out, encoded.empty() ? 0 : 1);
  PutBe32(&out, 0);
  PutBe32(&out, element_type);
  if (!encoded.empty()) {
    PutBe32(&out, static_cast<uint32_t>(encoded.size()));
    PutBe32(&out, 1);
  }
  for (const std::string& e : encoded) {
    PutBe32(&out, static_cast<uint32_t>(e.size()));
    out.append(e);
  }
  unsigned int array_type = 0;
  switch (element_type) {
    case kTextOid:
      array_type = kTextArrayOid;
      break;
    case kByteaOid:
      array_type = kByteaArrayOid;
      break;
    case kInt8Oid:
      array_type = kInt8ArrayOid;
      break;
    case kInt4Oid:
      array_type = kInt4ArrayOid;
      break;
  }
  return Add(std::move(out), array_type, 1);
}

Params& Params::TextArray(const std::vector<std::string>& values) {
  return Array(kTextOid, values);
}

Params& Params::BytesArray(const std::vector<std::string>& values) {
  return Array(kByteaOid, values);
}

Params& Params::Int64Array(const std::vector<int64_t>& values) {
  std::vector<std::string> encoded(values.size());
  for (size_t i = 0; i < values.size(); ++i) PutBe64(&encoded[i], static_cast<uint64_t>(values[i]));
  return Array(kInt8Oid, encoded);
}

Params& Params::Int32Array(const std::vector<int32_t>& values) {
  std::vector<std::string> encoded(values.size());
  for (size_t i = 0; i < values.size(); ++i) PutBe32(&encoded[i], static_cast<uint32_t>(values[i]));
  return Array(kInt4Oid, encoded);
}

Result::Result(pg_result* result) : result_(result) {}
Result::~Result() {
  if (result_ != nullptr) PQclear(result_);
}
Result::Result(Result&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

int Result::rows() const { return result_ == nullptr ? 0 : PQntuples(result_); }
int Result::columns() const { return result_ == nullptr ? 0 : PQnfields(result_); }

int64_t Result::affected() const {
  if (result_ == nullptr) return 0;
  const char* tuples = PQcmdTuples(result_);
  int64_t n = 0;
  for (const char* p = tuples; *p >= '0' && *p <= '9'; ++p) n = n * 10 + (*p - '0');
  return n;
}

bool Result::IsNull(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }

absl::string_view Result::Bytes(int row, int column) const {
  if (IsNull(row, column)) return {};
  return absl::string_view(PQgetvalue(result_, row, column),
                           static_cast<size_t>(PQgetlength(result_, row, column)));
}

int64_t Result::Int64(int row, int column) const {
  if (IsNull(row, column)) return 0;
  const char* p = PQgetvalue(result_, row, column);
  switch (PQftype(result_, column)) {
    case kInt8Oid:
      return static_cast<int64_t>(GetBe(p, 8));
    case kInt4Oid:
      return static_cast<int32_t>(GetBe(p, 4));
    case kInt2Oid:
      return static_cast<int16_t>(GetBe(p, 2));
    default:
      return 0;
  }
}

std::optional<std::vector<int64_t>> Result::Int64Array(int row, int column) const {
  std::vector<int64_t> out;
  if (IsNull(row, column)) return out;
  if (PQftype(result_, column) != kInt8ArrayOid) return std::nullopt;
  // ndim, has-null flag, element type; per dimension its size and lower bound; per element its
  // length (-1: NULL) and bytes.
  absl::string_view v = Bytes(row, column);
  auto take = [&v](size_t n) -> std::optional<uint64_t> {
    if (v.size() < n) return std::nullopt;
    const uint64_t x = GetBe(v.data(), static_cast<int>(n));
    v.remove_prefix(n);
    return x;
  };
  std::optional<uint64_t> ndim = take(4), has_null = take(4), type = take(4);
  if (!ndim || !has_null || !type || *type != kInt8Oid) return std::nullopt;
  if (*ndim == 0) return out;
  std::optional<uint64_t> size = take(4), lower = take(4);
  if (*ndim != 1 || !size || !lower || *size > v.size() / 12) return std::nullopt;
  out.reserve(*size);
  for (uint64_t i = 0; i < *size; ++i) {
    std::optional<uint64_t> length = take(4);
    std::optional<uint64_t> value = length && *length == 8 ? take(8) : std::nullopt;
    if (!value) return std::nullopt;
    out.push_back(static_cast<int64_t>(*value));
  }
  return v.empty() ? std::optional<std::vector<int64_t>>(std::move(out)) : std::nullopt;
}

bool Result::Bool(int row, int column) const {
  if (IsNull(row, column) || PQftype(result_, column) != kBoolOid) return false;
  return PQgetvalue(result_, row, column)[0] != 0;
}

absl::Status ErrorFromSqlState(absl::string_view sqlstate, absl::string_view message) {
  const std::string text = absl::StrCat("PostgreSQL: ", message, " (SQLSTATE ", sqlstate, ")");
  if (absl::StartsWith(sqlstate, "08") || sqlstate == "57P01" || sqlstate == "57P02" ||
      sqlstate == "57P03") {
    return absl::UnavailableError(
        absl::StrCat("PostgreSQL connection lost: ", message, " (SQLSTATE ", sqlstate, ")"));
  }
  if (sqlstate == "57014") return absl::DeadlineExceededError(text);
  if (sqlstate == "23505") return absl::AlreadyExistsError(text);
  if (sqlstate == "40001" || sqlstate == "40P01") return absl::AbortedError(text);
  if (absl::StartsWith(sqlstate, "53")) return absl::ResourceExhaustedError(text);
  return absl::InternalError(text);
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo) {
  pg_conn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return absl::ResourceExhaustedError("PostgreSQL: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message(absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn)));
    PQfinish(conn);
    return absl::UnavailableError(absl::StrCat("cannot connect to PostgreSQL: ", message));
  }
  auto connection = std::unique_ptr<Connection>(new Connection(conn));
  // Notices ("… already exists, skipping") would go to stderr; they are of no use to us.
  auto set = connection->ExecScript("SET client_min_messages = warning");
  if (!set.ok()) return set;
  return connection;
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::OpenNonBlocking(const std::string& conninfo,
                                                                        const SocketWait& wait) {
  // dbname with expand_dbname: `conninfo` is parsed as PQconnectdb would.
  const char* const keywords[] = {"dbname", nullptr};
  const char* const values[] = {conninfo.c_str(), nullptr};
  pg_conn* conn = PQconnectStartParams(keywords, values, 1);
  if (conn == nullptr) return absl::ResourceExhaustedError("PostgreSQL: out of memory");
  auto connection = std::unique_ptr<Connection>(new Connection(conn));
  auto refused = [conn] {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to PostgreSQL: ",
                     absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn))));
  };
  if (PQstatus(conn) == CONNECTION_BAD) return refused();
  // libpq's protocol: act as if the last poll had said "writing", then follow what it says.
  PostgresPollingStatusType polling = PGRES_POLLING_WRITING;
  while (polling != PGRES_POLLING_OK) {
    if (polling == PGRES_POLLING_FAILED) return refused();
    // The socket may change between polls (another host or address is tried).
    const int fd = PQsocket(conn);
    if (fd < 0) return refused();
    SH_RETURN_IF_ERROR(wait(fd, polling != PGRES_POLLING_READING));
    polling = PQconnectPoll(conn);
  }
  if (PQsetnonblocking(conn, 1) != 0) return refused();
  // Notices ("… already exists, skipping") would go to stderr; they are of no use to us.
  SH_RETURN_IF_ERROR(connection->ExecScriptNonBlocking("SET client_min_messages = warning", wait));
  return connection;
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

int Connection::socket() const { return PQsocket(conn_); }

absl::StatusOr<std::vector<std::string>> Connection::TakeNotifications(absl::string_view channel) {
  if (PQconsumeInput(conn_) == 0 || !healthy()) {
    return absl::UnavailableError(absl::StrCat(
        "PostgreSQL connection lost: ", absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn_))));
  }
  std::vector<std::string> payloads;
  while (PGnotify* notify = PQnotifies(conn_)) {
    if (channel == notify->relname) payloads.emplace_back(notify->extra);
    PQfreemem(notify);
  }
  return payloads;
}

absl::StatusOr<Result> Connection::Check(pg_result* raw, absl::string_view sql) {
  Result result(raw);
  const ExecStatusType status = raw == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  if (!healthy() || raw == nullptr) return Lost(sql);
  const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY);
  std::string message =
      primary != nullptr ? std::string(primary)
                         : std::string(absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn_)));
  absl::Status error = ErrorFromSqlState(state != nullptr ? state : "XX000",
                                         absl::StrCat(message, " in: ", Excerpt(sql)));
  return error;
}

absl::StatusOr<Result> Connection::Exec(absl::string_view sql, const Params& params) {
  std::vector<const char*> values(params.values_.size());
  std::vector<int> lengths(params.values_.size());
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = params.null_[i] ? nullptr : params.values_[i].data();
    lengths[i] = static_cast<int>(params.values_[i].size());
  }
  const std::string text(sql);
  return Check(PQexecParams(conn_, text.c_str(), params.size(), params.types_.data(), values.data(),
                            lengths.data(), params.formats_.data(), 1),
               sql);
}

absl::StatusOr<Result> Connection::ExecPrepared(const std::string& name, absl::string_view sql,
                                                const Params& params) {
  if (!prepared_.contains(name)) {
    const std::string text(sql);
    auto prepared = Check(
        PQprepare(conn_, name.c_str(), text.c_str(), params.size(), params.types_.data()), sql);
    if (!prepared.ok()) return prepared.status();
    prepared_.insert(name);
  }
  std::vector<const char*> values(params.values_.size());
  std::vector<int> lengths(params.values_.size());
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = params.null_[i] ? nullptr : params.values_[i].data();
    lengths[i] = static_cast<int>(params.values_[i].size());
  }
  return Check(PQexecPrepared(conn_, name.c_str(), params.size(), values.data(), lengths.data(),
                              params.formats_.data(), 1),
               sql);
}

absl::Status Connection::ExecScript(absl::string_view sql) {
  const std::string text(sql);
  pg_result* raw = PQexec(conn_, text.c_str());
  // PQexec returns the last statement's result; earlier failures stop the script there.
  return Check(raw, sql).status();
}

absl::Status Connection::ExecScriptNonBlocking(absl::string_view sql, const SocketWait& wait) {
  const std::string text(sql);
  if (PQsendQuery(conn_, text.c_str()) == 0) return Lost(sql);
  int flushed;
  while ((flushed = PQflush(conn_)) == 1) {
    const int fd = PQsocket(conn_);
    if (fd < 0) return Lost(sql);
    SH_RETURN_IF_ERROR(wait(fd, true));
  }
  if (flushed < 0) return Lost(sql);
  absl::Status first = absl::OkStatus();
  while (true) {
    while (PQisBusy(conn_) != 0) {
      const int fd = PQsocket(conn_);
      if (fd < 0) return Lost(sql);
      SH_RETURN_IF_ERROR(wait(fd, false));
      if (PQconsumeInput(conn_) == 0) return Lost(sql);
    }
    pg_result* raw = PQgetResult(conn_);
    if (raw == nullptr) return first;
    absl::Status checked = Check(raw, sql).status();
    if (first.ok()) first = std::move(checked);
  }
}

absl::Status Connection::Lost(absl::string_view sql) const {
  return absl::UnavailableError(absl::StrCat(
      "PostgreSQL connection lost: ", absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn_)),
      " (in ", Excerpt(sql), ")"));
}

std::string MakeConnInfo(const std::vector<std::pair<std::string, std::string>>& keywords) {
  std::string out;
  for (const auto& [keyword, value] : keywords) {
    if (value.empty()) continue;
    if (!out.empty()) out.push_back(' ');
    out.append(keyword).append("='");
    for (char c : value) {
      if (c == '\\' || c == '\'') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('\'');
  }
  return out;
}

}  // namespace stackhouse::storage::pg
