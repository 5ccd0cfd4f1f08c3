#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/metrics.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace stackhouse::http {

// A request as handlers see it (no HTTP library types).
struct HttpRequest {
  std::string method;  // upper case, e.g. "GET"
  std::string path;
  std::multimap<std::string, std::string> params;  // query string
  std::string body;
  // Header lookup, case-insensitive; "" when absent.
  std::function<std::string(const std::string& name)> header;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. Allow
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Passes the next piece of a streamed body to the client; false once the client is gone (the
// producer should then stop).
using BodyWriter = std::function<bool(absl::string_view chunk)>;

// Produces a whole body through `write` and returns true; false aborts the response (the client
// sees a chunked body without its end). Runs on the HTTP thread after the handler has returned,
// so it must own (or share) everything it reads.
using StreamedBody = std::function<bool(const BodyWriter& write)>;

// What a streaming handler returns: the status and headers of `head`, then the output of
// `body` sent with chunked transfer encoding, so that the whole output is never in memory at
// once. Without `body`, `head` is sent as an ordinary response (e.g. an error).
struct StreamingHttpResponse {
  HttpResponse head;
  StreamedBody body;
};

using StreamingHttpHandler = std::function<StreamingHttpResponse(const HttpRequest&)>;

// PEM files of an HTTPS server.
struct TlsFiles {
  std::string cert_chain_path;
  std::string key_path;
};

// The HTTP port (12800): routes exact paths to handlers on a thread pool, answers 404 for
// unknown paths, counts requests in `stackhouse_http_requests_total`. Routes are added
// before Start; Start and Stop are called from one thread; handlers run concurrently.
class HttpServer {
 public:
  // Requests served on one keep-alive connection before the server closes it.
  static constexpr size_t kKeepAliveMaxRequests = 10000;
  // Seconds an idle keep-alive connection is kept. Each open connection holds one of the
  // worker threads (httplib), so idle ones must not hold them long.
  static constexpr int kKeepAliveTimeoutSeconds = 5;
  // The listen backlog (capped by net.core.somaxconn).
  static constexpr int kListenBacklog = 1024;

  // `metrics` must outlive the server. A request announcing a body over `max_body_bytes` is
  // answered 413 at once, one with conflicting or malformed Content-Length headers (or both
  // Content-Length and Transfer-Encoding) 400, before any of the body is read; both close
  // the connection.
  // With `tls`, the server speaks HTTPS only (Start fails if the files cannot be used).
  HttpServer(MetricsRegistry* metrics, int64_t max_body_bytes, int threads,
             std::optional<TlsFiles> tls = std::nullopt);
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes `path` to `handler` for every method; the handler answers 405 itself where a
  // method makes no sense (see MethodNotAllowed).
  void Route(const std::string& path, HttpHandler handler);

  // Routes `path` to a handler whose body may be streamed (see StreamingHttpResponse).
  void RouteStreaming(const std::string& path, StreamingHttpHandler handler);

  // Answers every path no route names (instead of 404); for a static site.
  void SetFallback(HttpHandler handler);

  // Binds host:port (port 0 = any) and serves on a background thread. Returns the bound
  // port, or Unavailable naming host and port when they cannot be bound.
  absl::StatusOr<int> Start(const std::string& host, int port);

  // Stops accepting, lets running handlers finish, joins the thread. Idempotent.
  void Stop();

 private:
  void Dispatch(const httplib::Request& req, httplib::Response& res);
  // The 400/413 answer to a request whose Content-Length headers are unusable; nullopt if
  // they are fine (or absent).
  std::optional<HttpResponse> CheckLength(const httplib::Request& req) const;

  MetricsRegistry* const metrics_;
  const int64_t max_body_bytes_;
  const std::optional<TlsFiles> tls_;
  int listen_fd_ = -1;  // the listening socket, once bound (owned by httplib)
  std::unique_ptr<httplib::Server> server_;
  std::map<std::string, StreamingHttpHandler> routes_;
  HttpHandler fallback_;
  std::thread thread_;
};

// A 405 response.
HttpResponse MethodNotAllowed();

// GETs http(s)://host:port<path> (a wildcard host means loopback); OK on 200, otherwise
// Unavailable saying what was seen. For the container HEALTHCHECK (`stackhouse --health-check`,
// /healthz) and liveness probes (`--liveness-check`, /livez). With `https`, the server's
// certificate is not verified (the probe asks the server on its own host).
absl::Status ProbeHealth(const std::string& host, int port, const std::string& path = "/healthz",
                         bool https = false);

}  // namespace stackhouse::http
