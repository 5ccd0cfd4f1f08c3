#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
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

// The HTTP port (12800): routes exact paths to handlers on a thread pool, answers 404 for
// unknown paths, counts requests in `stackhouse_http_requests_total`. Routes are added
// before Start; Start and Stop are called from one thread; handlers run concurrently.
class HttpServer {
 public:
  // `metrics` must outlive the server.
  HttpServer(MetricsRegistry* metrics, int64_t max_body_bytes, int threads);
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes `path` to `handler` for every method; the handler answers 405 itself where a
  // method makes no sense (see MethodNotAllowed).
  void Route(const std::string& path, HttpHandler handler);

  // Binds host:port (port 0 = any) and serves on a background thread. Returns the bound
  // port, or Unavailable naming host and port when they cannot be bound.
  absl::StatusOr<int> Start(const std::string& host, int port);

  // Stops accepting, lets running handlers finish, joins the thread. Idempotent.
  void Stop();

 private:
  void Dispatch(const httplib::Request& req, httplib::Response& res);

  MetricsRegistry* const metrics_;
  std::unique_ptr<httplib::Server> server_;
  std::map<std::string, HttpHandler> routes_;
  std::thread thread_;
};

// A 405 response.
HttpResponse MethodNotAllowed();

// GETs http://host:port/healthz (a wildcard host means loopback); OK on 200, otherwise
// Unavailable saying what was seen. For the container HEALTHCHECK (`stackhouse --health-check`).
absl::Status ProbeHealth(const std::string& host, int port);

}  // namespace stackhouse::http
