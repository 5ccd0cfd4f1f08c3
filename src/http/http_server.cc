#include "http/http_server.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"
#include "httplib.h"

namespace stackhouse::http {

namespace {

// The parameters of the query string of `target` in order, repeated ones included (httplib's
// own parse drops a repeated `key=value` pair, which loses positional parameters such as the
// exports' start/end lists).
std::multimap<std::string, std::string> QueryParams(const std::string& target) {
  std::multimap<std::string, std::string> params;
  const size_t question = target.find('?');
  if (question == std::string::npos) return params;
  for (absl::string_view pair :
       absl::StrSplit(absl::string_view(target).substr(question + 1), '&', absl::SkipEmpty())) {
    const size_t equals = pair.find('=');
    std::string key(pair.substr(0, equals));
    std::string value(equals == absl::string_view::npos ? "" : pair.substr(equals + 1));
    params.emplace(httplib::detail::decode_url(key, true),
                   httplib::detail::decode_url(value, true));
  }
  return params;
}

}  // namespace

HttpResponse MethodNotAllowed() {
  return HttpResponse{405, "text/plain; charset=utf-8", "Method Not Allowed\n", {}};
}

absl::Status ProbeHealth(const std::string& host, int port, const std::string& path, bool https) {
  std::string target = host == "0.0.0.0" || host == "::" || host.empty() ? "127.0.0.1" : host;
  httplib::Client client(absl::StrCat(https ? "https://" : "http://", target, ":", port));
  client.enable_server_certificate_verification(false);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(5, 0);
  auto result = client.Get(path);
  if (!result) {
    return absl::UnavailableError(absl::StrCat("no answer from http://", target, ":", port, path,
                                               ": ", httplib::to_string(result.error())));
  }
  if (result->status != 200) {
    return absl::UnavailableError(absl::StrCat("http://", target, ":", port, path, " answered ",
                                               result->status, ": ", result->body));
  }
  return absl::OkStatus();
}

HttpServer::HttpServer(MetricsRegistry* metrics, int64_t max_body_bytes, int threads,
                       std::optional<TlsFiles> tls)
    : metrics_(metrics),
      max_body_bytes_(max_body_bytes),
      tls_(std::move(tls)),
      server_(tls_ ? std::make_unique<httplib::SSLServer>(tls_->cert_chain_path.c_str(),
                                                          tls_->key_path.c_str())
                   : std::make_unique<httplib::Server>()) {
  server_->set_payload_max_length(static_cast<size_t>(max_body_bytes));
  // Accepted sockets inherit TCP_NODELAY from the listening one (Linux): without it, every
  // response after the first on a keep-alive connection waited ~40 ms (Nagle against the
  // client's delayed ACK).
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_max_count(kKeepAliveMaxRequests);
  server_->set_keep_alive_timeout(kKeepAliveTimeoutSeconds);
  // Replaces httplib's default options (SO_REUSEADDR and SO_REUSEPORT: with the latter a
  // second server could bind the same port and share its connections) and remembers the
  // listening socket, whose backlog Start raises.
  server_->set_socket_options([this](int fd) {
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd_ = fd;
  });
  // Runs before any body is read: a request whose length is contradictory or too large is
  // answered at once, without waiting for (or reading) a body.
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    std::optional<HttpResponse> refused = CheckLength(req);
    if (!refused) return httplib::Server::HandlerResponse::Unhandled;
    res.status = refused->status;
    res.set_header("Connection", "close");
    res.set_content(std::move(refused->body), refused->content_type.c_str());
    metrics_
        ->GetCounter("stackhouse_http_requests_total", "HTTP requests by path, method and status",
                     {{"path", routes_.count(req.path) ? req.path : "other"},
                      {"method", req.method},
                      {"code", absl::StrCat(refused->status)}})
        ->Increment();
    return httplib::Server::HandlerResponse::Handled;
  });
  server_->new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  server_->set_read_timeout(30, 0);
  server_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content("internal error\n", "text/plain; charset=utf-8");
      });
  // Every method of every path goes through Dispatch (bodies are read before handlers run).
  auto dispatch = [this](const httplib::Request& req, httplib::Response& res) {
    Dispatch(req, res);
  };
  server_->Get(".*", dispatch);
  server_->Post(".*", dispatch);
  server_->Put(".*", dispatch);
  server_->Patch(".*", dispatch);
  server_->Delete(".*", dispatch);
  server_->Options(".*", dispatch);
}

std::optional<HttpResponse> HttpServer::CheckLength(const httplib::Request& req) const {
  auto text = [](int status, std::string body) {
    return HttpResponse{status, "text/plain; charset=utf-8", std::move(body), {}};
  };
  const auto [begin, end] = req.headers.equal_range("Content-Length");
  if (begin == end) return std::nullopt;
  if (req.headers.count("Transfer-Encoding") > 0) {
    return text(400, "Content-Length and Transfer-Encoding must not both be sent\n");
  }
  auto too_large = [&] {
    return text(413, absl::StrCat("request body larger than ", max_body_bytes_, " bytes\n"));
  };
  std::optional<uint64_t> length;
  for (auto it = begin; it != end; ++it) {
    const std::string& digits = it->second;
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) {
          return absl::ascii_isdigit(static_cast<unsigned char>(c));
        })) {
      return text(400, absl::StrCat("invalid Content-Length \"", digits, "\"\n"));
    }
    uint64_t value = 0;
    if (!absl::SimpleAtoi(digits, &value)) return too_large();  // beyond 2^64
    if (length && *length != value) return text(400, "conflicting Content-Length headers\n");
    length = value;
  }
  if (*length > static_cast<uint64_t>(max_body_bytes_)) return too_large();
  return std::nullopt;
}

void HttpServer::Dispatch(const httplib::Request& req, httplib::Response& res) {
  auto route = routes_.find(req.path);
  std::string label_path = route == routes_.end() ? "other" : req.path;
  StreamingHttpResponse streaming;
  HttpResponse& response = streaming.head;
  HttpRequest request;
  request.method = req.method;
  request.path = req.path;
  request.body = req.body;
  request.params = QueryParams(req.target);
  request.header = [&req](const std::string& name) { return req.get_header_value(name); };
  if (route != routes_.end()) {
    streaming = route->second(request);
  } else if (fallback_) {
    response = fallback_(request);
  } else {
    response = HttpResponse{404, "text/plain; charset=utf-8", "Not Found\n", {}};
  }
  res.status = response.status;
  for (const auto& [name, value] : response.headers) res.set_header(name, value);
  if (streaming.body) {
    // httplib calls the provider until the sink is done; ours writes everything in one call.
    res.set_chunked_content_provider(
        response.content_type,
        [body = std::move(streaming.body)](size_t /*offset*/, httplib::DataSink& sink) {
          const bool complete = body([&sink](absl::string_view chunk) {
            return chunk.empty() || sink.write(chunk.data(), chunk.size());
          });
          if (complete) sink.done();
          return complete;
        });
  } else {
    res.set_content(std::move(response.body), response.content_type.c_str());
  }
  metrics_
      ->GetCounter(
          "stackhouse_http_requests_total", "HTTP requests by path, method and status",
          {{"path", label_path}, {"method", req.method}, {"code", absl::StrCat(response.status)}})
      ->Increment();
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(const std::string& path, HttpHandler handler) {
  routes_[path] = [handler = std::move(handler)](const HttpRequest& request) {
    return StreamingHttpResponse{handler(request), nullptr};
  };
}

void HttpServer::SetFallback(HttpHandler handler) { fallback_ = std::move(handler); }

void HttpServer::RouteStreaming(const std::string& path, StreamingHttpHandler handler) {
  routes_[path] = std::move(handler);
}

absl::StatusOr<int> HttpServer::Start(const std::string& host, int port) {
  if (tls_ && !server_->is_valid()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "HTTPS: cannot use the certificate chain ", tls_->cert_chain_path, " with the key ",
        tls_->key_path, " (unreadable, not PEM, or the key does not match the certificate)"));
  }
  int bound =
      port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", host, ":", port,
                                               " (address in use or not available)"));
  }
  // httplib listens with a backlog of 5, which drops connection attempts under a burst
  // (clients retry after ~1 s); Linux lets a listening socket raise it by listening again.
  if (listen_fd_ < 0 || ::listen(listen_fd_, kListenBacklog) != 0) {
    GetLogger("http")->warn("cannot raise the HTTP listen backlog to {}: {}", kListenBacklog,
                            std::strerror(errno));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // Stop() only takes effect once the accept loop runs; wait for it so Stop never hangs.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return bound;
}

void HttpServer::Stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace stackhouse::http
