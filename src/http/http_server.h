#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/metrics.h"

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
// sees a chunked body without its end). Runs on a worker thread after the handler has
// returned, so it must own (or share) everything it reads; `write` blocks while the client is
// slower than the producer.
using StreamedBody = std::function<bool(const BodyWriter& write)>;

// What a streaming handler returns: the status and headers of `head`, then the output of
// `body` sent with chunked transfer encoding, so that the whole output is never in memory at
// once. Without `body`, `head` is sent as an ordinary response (e.g. an error).
struct StreamingHttpResponse {
  HttpResponse head;
  StreamedBody body;
};

using StreamingHttpHandler = std::function<StreamingHttpResponse(const HttpRequest&)>;

// What a progressive handler (RouteProgressive) may do before it returns: start its answer
// with a streamed body, once it knows the answer is large. Used on the handler's thread only,
// during the call.
class ResponseStarter {
 public:
  virtual ~ResponseStarter() = default;
  // Sends the status and headers of `head` (its body is ignored) at once, and returns the
  // writer of the body, sent with chunked transfer encoding; `write` blocks while the client
  // is slower than the handler. At most once per request.
  virtual BodyWriter Start(const HttpResponse& head) = 0;
  // After Start: the body is incomplete; the client sees a chunked body without its end.
  virtual void Abort() = 0;
};

// Returns the whole answer, or, if it called `starter.Start`, anything (the streamed body ends
// when the handler returns).
using ProgressiveHttpHandler =
    std::function<HttpResponse(const HttpRequest&, ResponseStarter& starter)>;

// PEM files of an HTTPS server.
struct TlsFiles {
  std::string cert_chain_path;
  std::string key_path;
};

// How an HttpServer treats its connections (core.rest* in the configuration).
struct HttpServerOptions {
  // A request announcing a body over this is answered 413 at once.
  int64_t max_body_bytes = 1 << 20;
  // Threads that run handlers (routes added with Route and RouteStreaming).
  int worker_threads = 8;
  // Event-loop threads that read requests and write responses; a connection costs one of
  // them nothing while it waits, whether it is idle or sends its request slowly.
  int io_threads = 2;
  // Open connections beyond this are closed as soon as they are accepted.
  int max_connections = 10000;
  // The whole head and body of a request must arrive within this many milliseconds of its
  // first line (of the connection's start, for its first request); otherwise the connection
  // is closed.
  int64_t request_timeout_ms = 30000;
  // A keep-alive connection that is idle this long (or a client that neither sends nor reads
  // for this long) is closed.
  int64_t idle_timeout_ms = 30000;
  // A streamed response (RouteStreaming, RouteProgressive) whose client has taken none of the
  // last 256 KiB for this long is given up: the handler's writes return false and the client
  // sees a chunked body without its end. So a client that stops reading holds a worker this
  // long at most.
  int64_t stream_stall_timeout_ms = 10000;
  // With `tls`, the server speaks HTTPS only (Start fails if the files cannot be used).
  std::optional<TlsFiles> tls;
};

// The HTTP port (12800): routes exact paths to handlers, answers 404 for unknown paths,
// counts requests in `stackhouse_http_requests_total`. A few event-loop threads
// (libmicrohttpd, epoll) read requests and write responses; a complete request is handed to a
// worker thread, so a slow client costs a socket and a little memory, never a thread, and a
// long handler never delays another request's reading. Routes are added before Start; Start
// and Stop are called from one thread; handlers run concurrently.
class HttpServer {
 public:
  // The listen backlog (capped by net.core.somaxconn).
  static constexpr int kListenBacklog = 1024;

  // `metrics` must outlive the server. A request announcing a body over
  // `options.max_body_bytes` is answered 413 at once, one with conflicting or malformed
  // Content-Length headers (or both Content-Length and Transfer-Encoding) 400, before any of
  // the body is read; both close the connection.
  HttpServer(MetricsRegistry* metrics, HttpServerOptions options);
  // The defaults of HttpServerOptions with `max_body_bytes`, `threads` workers and `tls`.
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

  // Routes `path` to a handler that answers like Route's, or streams its answer once it has
  // begun producing it (see ResponseStarter).
  void RouteProgressive(const std::string& path, ProgressiveHttpHandler handler);

  // Routes `path` to a cheap handler (a health probe) that runs on a thread of its own, so
  // that it answers while every worker is busy. It must return quickly.
  void RouteProbe(const std::string& path, HttpHandler handler);

  // Answers every path no route names (instead of 404); for a static site.
  void SetFallback(HttpHandler handler);

  // Binds host:port (port 0 = any) and serves on background threads. Returns the bound
  // port, Unavailable naming host and port when they cannot be bound, or InvalidArgument
  // when the TLS files cannot be used.
  absl::StatusOr<int> Start(const std::string& host, int port);

  // Stops accepting, lets running handlers finish, closes every connection, joins the
  // threads. Idempotent.
  void Stop();

 private:
  struct Impl;  // libmicrohttpd's callbacks and the state they share (http_server.cc)
  std::unique_ptr<Impl> impl_;
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
