#include "http/http_server.h"

#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/logging.h"
#include "httplib.h"

namespace stackhouse::http {

namespace {

constexpr char kTextPlain[] = "text/plain; charset=utf-8";
// Bytes of a streamed body kept between its producer and the socket; the producer waits
// while this much is pending.
constexpr size_t kStreamBufferBytes = 256 * 1024;
// What libmicrohttpd may allocate per connection for the request head and its buffers.
constexpr size_t kConnectionMemoryBytes = 64 * 1024;

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX-decodes `text`; with `plus_is_space` (query strings), '+' is a space.
std::string DecodeUrl(absl::string_view text, bool plus_is_space) {
  std::string decoded;
  decoded.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      decoded.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      decoded.push_back(' ');
    } else {
      decoded.push_back(c);
    }
  }
  return decoded;
}

// The parameters of the query string of `target` in order, repeated ones included (the
// exports' start/end lists are positional).
std::multimap<std::string, std::string> QueryParams(absl::string_view target) {
  std::multimap<std::string, std::string> params;
  const size_t question = target.find('?');
  if (question == absl::string_view::npos) return params;
  for (absl::string_view pair :
       absl::StrSplit(target.substr(question + 1), '&', absl::SkipEmpty())) {
    const size_t equals = pair.find('=');
    absl::string_view key = pair.substr(0, equals);
    absl::string_view value =
        equals == absl::string_view::npos ? absl::string_view() : pair.substr(equals + 1);
    params.emplace(DecodeUrl(key, true), DecodeUrl(value, true));
  }
  return params;
}

HttpResponse Text(int status, std::string body) {
  return HttpResponse{status, kTextPlain, std::move(body), {}};
}

// A FIFO of tasks run by a fixed set of threads. Thread-safe.
class WorkerPool {
 public:
  explicit WorkerPool(int threads) {
    for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this] { Run(); });
  }
  ~WorkerPool() { Shutdown(); }

  // Queues `task`; false (and `task` dropped) once Shutdown has begun.
  bool Submit(std::function<void()> task) {
    absl::MutexLock lock(&mu_);
    if (closing_) return false;
    tasks_.push_back(std::move(task));
    return true;
  }

  // Runs what is queued, then joins the threads. Idempotent; not concurrent with itself.
  void Shutdown() {
    {
      absl::MutexLock lock(&mu_);
      closing_ = true;
    }
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  void Run() {
    while (true) {
      std::function<void()> task;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](WorkerPool* pool) ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool->mu_) {
              return pool->closing_ || !pool->tasks_.empty();
            },
            this));
        if (tasks_.empty()) return;  // closing and drained
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

// A streamed body between its producer (a worker thread, blocking while the buffer is
// full) and libmicrohttpd's reader callback (an event-loop thread, which suspends the
// connection while the buffer is empty and is resumed by the producer). Thread-safe.
class BodyPipe {
 public:
  // `stall_timeout_ms`: how long a write waits for room before it gives the response up.
  BodyPipe(MHD_Connection* connection, int64_t stall_timeout_ms)
      : connection_(connection), stall_timeout_(absl::Milliseconds(stall_timeout_ms)) {}

  // Producer: appends `chunk`, waiting for room; false once the response is gone, or when the
  // client has taken nothing for the stall timeout (then the response is given up, so that a
  // client that stops reading holds the worker no longer).
  bool Write(absl::string_view chunk) {
    if (chunk.empty()) return true;
    bool resume = false;
    {
      absl::MutexLock lock(&mu_);
      const bool room = mu_.AwaitWithTimeout(
          absl::Condition(
              +[](BodyPipe* pipe) ABSL_EXCLUSIVE_LOCKS_REQUIRED(pipe->mu_) {
                return pipe->cancelled_ || pipe->buffer_.size() - pipe->read_ < kStreamBufferBytes;
              },
              this),
          stall_timeout_);
      if (!room) cancelled_ = true;
      if (cancelled_) return false;
      buffer_.append(chunk.data(), chunk.size());
      resume = std::exchange(reader_suspended_, false);
    }
    // The connection stays suspended (and allocated) until this call.
    if (resume) MHD_resume_connection(connection_);
    return true;
  }

  // Producer: the body is complete (`ok`) or aborted.
  void Finish(bool ok) {
    bool resume = false;
    {
      absl::MutexLock lock(&mu_);
      finished_ = true;
      failed_ = !ok;
      resume = std::exchange(reader_suspended_, false);
    }
    if (resume) MHD_resume_connection(connection_);
  }

  // Reader (event-loop thread, the connection's own): copies up to `max` bytes to `out`.
  ssize_t Read(char* out, size_t max) {
    absl::MutexLock lock(&mu_);
    const size_t pending = buffer_.size() - read_;
    if (pending > 0) {
      const size_t n = std::min(pending, max);
      std::memcpy(out, buffer_.data() + read_, n);
      read_ += n;
      if (read_ == buffer_.size()) {
        buffer_.clear();
        read_ = 0;
      } else if (read_ > kStreamBufferBytes) {
        buffer_.erase(0, read_);
        read_ = 0;
      }
      return static_cast<ssize_t>(n);
    }
    if (finished_)
      return failed_ ? MHD_CONTENT_READER_END_WITH_ERROR : MHD_CONTENT_READER_END_OF_STREAM;
    // Nothing yet: wait without holding the event loop; the producer resumes us.
    reader_suspended_ = true;
    MHD_suspend_connection(connection_);
    return 0;
  }

  // The response is gone (sent, or the connection closed), or the server stops.
  void Cancel() {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }

 private:
  MHD_Connection* const connection_;
  const absl::Duration stall_timeout_;
  absl::Mutex mu_;
  std::string buffer_ ABSL_GUARDED_BY(mu_);
  size_t read_ ABSL_GUARDED_BY(mu_) = 0;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool reader_suspended_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

// What the server keeps per connection and per request; the callbacks libmicrohttpd calls.
struct HttpServer::Impl {
  enum class Phase { kReading, kHandling, kIdle };
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // One open connection (libmicrohttpd's socket context).
  struct Connection {
    int fd = -1;
    Phase phase = Phase::kReading;
    int64_t deadline_ms = 0;  // for kReading and kIdle
    bool closing = false;     // shut down by the deadline
  };

  // One request (libmicrohttpd's request context), from its first line to its completion.
  struct Exchange {
    Connection* connection = nullptr;
    std::string target;  // as sent: path and query string
    std::string method;
    bool head_seen = false;
    Headers headers;
    std::string body;
    // Set by the worker before it resumes the connection.
    std::optional<StreamingHttpResponse> result;
    std::shared_ptr<BodyPipe> pipe;
  };

  struct RouteEntry {
    StreamingHttpHandler handler;  // unless `progressive`
    bool probe = false;
    ProgressiveHttpHandler progressive{};
  };

  Impl(MetricsRegistry* metrics, HttpServerOptions options)
      : metrics(metrics),
        options(std::move(options)),
        refused_connections(metrics->GetCounter(
            "stackhouse_http_connections_refused_total",
            "HTTP connections closed at once because core.restMaxConnections were open", {})),
        timed_out_connections(metrics->GetCounter(
            "stackhouse_http_connections_timed_out_total",
            "HTTP connections closed because a request's head and body took longer than "
            "core.restRequestTimeout, or they stayed idle for core.restIdleTimeOut",
            {})) {}

  // Constant after Start.
  MetricsRegistry* const metrics;
  const HttpServerOptions options;
  Counter* const refused_connections;
  Counter* const timed_out_connections;
  std::map<std::string, RouteEntry> routes;
  HttpHandler fallback;
  int listen_fd = -1;
  MHD_Daemon* daemon = nullptr;
  std::unique_ptr<WorkerPool> workers;
  std::unique_ptr<WorkerPool> probes;
  std::thread reaper;

  std::atomic<int> open_connections{0};
  std::atomic<bool> stopping{false};

  absl::Mutex mu;
  std::unordered_set<Connection*> connections ABSL_GUARDED_BY(mu);
  std::vector<std::weak_ptr<BodyPipe>> pipes ABSL_GUARDED_BY(mu);
  bool reaper_stop ABSL_GUARDED_BY(mu) = false;

  void CountRequest(const std::string& path, const std::string& method, int status) {
    metrics
        ->GetCounter("stackhouse_http_requests_total", "HTTP requests by path, method and status",
                     {{"path", routes.count(path) ? path : "other"},
                      {"method", method},
                      {"code", absl::StrCat(status)}})
        ->Increment();
  }

  static Connection* ConnectionOf(MHD_Connection* c) {
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info == nullptr ? nullptr : static_cast<Connection*>(info->socket_context);
  }

  void SetPhase(Connection* connection, Phase phase, int64_t timeout_ms) {
    if (connection == nullptr) return;
    absl::MutexLock lock(&mu);
    connection->phase = phase;
    connection->deadline_ms = NowMillis() + timeout_ms;
  }

  // The 400/413/501 answer to a request whose framing headers are unusable; nullopt if they
  // are fine (or absent).
  std::optional<HttpResponse> CheckLength(const Exchange& exchange) const {
    std::optional<uint64_t> length;
    bool transfer_encoding = false;
    for (const auto& [name, value] : exchange.headers) {
      if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
        if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(value), "chunked")) {
          return Text(501, absl::StrCat("Transfer-Encoding \"", value, "\" is not supported\n"));
        }
        transfer_encoding = true;
        continue;
      }
      if (!absl::EqualsIgnoreCase(name, "Content-Length")) continue;
      if (value.empty() || !std::all_of(value.begin(), value.end(), [](char c) {
            return absl::ascii_isdigit(static_cast<unsigned char>(c));
          })) {
        return Text(400, absl::StrCat("invalid Content-Length \"", value, "\"\n"));
      }
      uint64_t parsed = 0;
      if (!absl::SimpleAtoi(value, &parsed)) parsed = UINT64_MAX;  // beyond 2^64
      if (length && *length != parsed) return Text(400, "conflicting Content-Length headers\n");
      length = parsed;
    }
    if (length && transfer_encoding) {
      return Text(400, "Content-Length and Transfer-Encoding must not both be sent\n");
    }
    if (length && *length > static_cast<uint64_t>(options.max_body_bytes)) {
      return Text(413,
                  absl::StrCat("request body larger than ", options.max_body_bytes, " bytes\n"));
    }
    return std::nullopt;
  }

  // Queues `response` on `c`; with `close`, the connection is closed once it is sent.
  MHD_Result Queue(MHD_Connection* c, const Exchange& exchange, HttpResponse response, bool close) {
    auto* body = new std::string(std::move(response.body));
    MHD_Response* reply = MHD_create_response_from_buffer_with_free_callback_cls(
        body->size(), body->data(), [](void* cls) { delete static_cast<std::string*>(cls); }, body);
    if (reply == nullptr) {
      delete body;
      return MHD_NO;
    }
    AddHeaders(reply, response);
    if (close) MHD_add_response_header(reply, MHD_HTTP_HEADER_CONNECTION, "close");
    const MHD_Result queued =
        MHD_queue_response(c, static_cast<unsigned int>(response.status), reply);
    MHD_destroy_response(reply);
    CountRequest(Path(exchange.target), exchange.method, response.status);
    return queued;
  }

  static void AddHeaders(MHD_Response* reply, const HttpResponse& response) {
    MHD_add_response_header(reply, MHD_HTTP_HEADER_CONTENT_TYPE, response.content_type.c_str());
    for (const auto& [name, value] : response.headers) {
      MHD_add_response_header(reply, name.c_str(), value.c_str());
    }
  }

  static std::string Path(absl::string_view target) {
    return DecodeUrl(target.substr(0, target.find('?')), false);
  }

  // The request of a complete exchange, which gives its body and headers away.
  static HttpRequest TakeRequest(Exchange* exchange) {
    HttpRequest request;
    request.method = exchange->method;
    request.path = Path(exchange->target);
    request.params = QueryParams(exchange->target);
    request.body = std::move(exchange->body);
    // The request may outlive the exchange (in a streamed body): it owns its headers.
    request.header = [headers = std::make_shared<const Headers>(std::move(exchange->headers))](
                         const std::string& name) {
      for (const auto& [key, value] : *headers) {
        if (absl::EqualsIgnoreCase(key, name)) return value;
      }
      return std::string();
    };
    return request;
  }

  // Runs the handler of a complete request (on a worker) and leaves its answer in `exchange`.
  void Handle(Exchange* exchange) {
    HttpRequest request = TakeRequest(exchange);
    auto route = routes.find(request.path);
    StreamingHttpResponse result;
    // Our handlers do not throw; a library under one might (as httplib's handler did, 500).
    try {
      if (route != routes.end()) {
        result = route->second.handler(request);
      } else if (fallback) {
        result.head = fallback(request);
      } else {
        result.head = Text(404, "Not Found\n");
      }
    } catch (...) {
      GetLogger("http")->error("the handler of {} {} threw", request.method, request.path);
      result = StreamingHttpResponse{Text(500, "internal error\n"), nullptr};
    }
    exchange->result = std::move(result);
  }

  // Queues the answer a worker left in `exchange`; a streamed body starts flowing.
  MHD_Result QueueResult(MHD_Connection* c, Exchange* exchange) {
    StreamingHttpResponse& result = *exchange->result;
    if (!exchange->pipe) return Queue(c, *exchange, std::move(result.head), false);
    auto* holder = new std::shared_ptr<BodyPipe>(exchange->pipe);
    MHD_Response* reply = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 64 * 1024,
        [](void* cls, uint64_t, char* out, size_t max) {
          return (*static_cast<std::shared_ptr<BodyPipe>*>(cls))->Read(out, max);
        },
        holder,
        [](void* cls) {
          auto* pipe = static_cast<std::shared_ptr<BodyPipe>*>(cls);
          (*pipe)->Cancel();
          delete pipe;
        });
    if (reply == nullptr) {
      (*holder)->Cancel();
      delete holder;
      return MHD_NO;
    }
    AddHeaders(reply, result.head);
    const MHD_Result queued =
        MHD_queue_response(c, static_cast<unsigned int>(result.head.status), reply);
    MHD_destroy_response(reply);
    CountRequest(Path(exchange->target), exchange->method, result.head.status);
    return queued;
  }

  // Gives `exchange` the pipe of a streamed body (cancelled by Stop).
  void OpenPipe(MHD_Connection* c, Exchange* exchange) {
    exchange->pipe = std::make_shared<BodyPipe>(c, options.stream_stall_timeout_ms);
    absl::MutexLock lock(&mu);
    if (stopping.load()) exchange->pipe->Cancel();
    pipes.erase(std::remove_if(pipes.begin(), pipes.end(),
                               [](const std::weak_ptr<BodyPipe>& p) { return p.expired(); }),
                pipes.end());
    pipes.push_back(exchange->pipe);
  }

  // Runs a progressive handler (on a worker): its answer, or the body it started to stream.
  void HandleProgressive(MHD_Connection* c, Exchange* exchange,
                         const ProgressiveHttpHandler& handler) {
    class Starter final : public ResponseStarter {
     public:
      Starter(Impl* impl, MHD_Connection* c, Exchange* exchange)
          : impl_(impl), c_(c), exchange_(exchange) {}

      BodyWriter Start(const HttpResponse& head) override {
        if (pipe_ == nullptr) {
          exchange_->result = StreamingHttpResponse{
              HttpResponse{head.status, head.content_type, "", head.headers}, nullptr};
          impl_->OpenPipe(c_, exchange_);
          pipe_ = exchange_->pipe;
          // From here on the event loop owns the exchange again.
          MHD_resume_connection(c_);
        }
        return [pipe = pipe_](absl::string_view chunk) { return pipe->Write(chunk); };
      }
      void Abort() override { aborted_ = true; }

      bool started() const { return pipe_ != nullptr; }
      void Finish() { pipe_->Finish(!aborted_); }

     private:
      Impl* const impl_;
      MHD_Connection* const c_;
      Exchange* const exchange_;
      std::shared_ptr<BodyPipe> pipe_;
      bool aborted_ = false;
    };
    HttpRequest request = TakeRequest(exchange);
    Starter starter(this, c, exchange);
    HttpResponse response;
    try {
      response = handler(request, starter);
    } catch (...) {
      GetLogger("http")->error("the handler of {} {} threw", request.method, request.path);
      response = Text(500, "internal error\n");
      starter.Abort();
    }
    if (starter.started()) {
      starter.Finish();
      return;
    }
    exchange->result = StreamingHttpResponse{std::move(response), nullptr};
    MHD_resume_connection(c);
  }

  // Hands a complete request to a worker; the connection waits, suspended, for its answer.
  MHD_Result Dispatch(MHD_Connection* c, Exchange* exchange) {
    auto route = routes.find(Path(exchange->target));
    WorkerPool* pool = route != routes.end() && route->second.probe ? probes.get() : workers.get();
    const ProgressiveHttpHandler* progressive =
        route != routes.end() && route->second.progressive ? &route->second.progressive : nullptr;
    SetPhase(exchange->connection, Phase::kHandling, 0);
    MHD_suspend_connection(c);
    const bool submitted = pool->Submit([this, c, exchange, progressive] {
      if (progressive != nullptr) {
        HandleProgressive(c, exchange, *progressive);
        return;
      }
      Handle(exchange);
      StreamedBody body;
      if (exchange->result->body) {
        body = std::move(exchange->result->body);
        OpenPipe(c, exchange);
      }
      std::shared_ptr<BodyPipe> pipe = exchange->pipe;
      // From here on the event loop owns `exchange` again.
      MHD_resume_connection(c);
      if (body) {
        bool complete = false;
        try {
          complete = body([&pipe](absl::string_view chunk) { return pipe->Write(chunk); });
        } catch (...) {
          GetLogger("http")->error("a streamed body threw");
        }
        pipe->Finish(complete);
      }
    });
    if (!submitted) {
      exchange->result = StreamingHttpResponse{Text(503, "shutting down\n"), nullptr};
      MHD_resume_connection(c);
    }
    return MHD_YES;
  }

  // libmicrohttpd's callbacks.

  static MHD_Result OnAccept(void* cls, const sockaddr*, socklen_t) {
    auto* impl = static_cast<Impl*>(cls);
    // Stop has begun: no new connections (instead of MHD_quiesce_daemon, see Stop).
    if (impl->stopping.load()) return MHD_NO;
    if (impl->open_connections.load() >= impl->options.max_connections) {
      impl->refused_connections->Increment();
      return MHD_NO;
    }
    return MHD_YES;
  }

  static void OnConnection(void* cls, MHD_Connection* c, void** socket_context,
                           MHD_ConnectionNotificationCode code) {
    auto* impl = static_cast<Impl*>(cls);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      auto* connection = new Connection;
      const MHD_ConnectionInfo* info =
          MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
      connection->fd = info == nullptr ? -1 : info->connect_fd;
      connection->deadline_ms = NowMillis() + impl->options.request_timeout_ms;
      *socket_context = connection;
      impl->open_connections.fetch_add(1);
      absl::MutexLock lock(&impl->mu);
      impl->connections.insert(connection);
      return;
    }
    auto* connection = static_cast<Connection*>(*socket_context);
    if (connection == nullptr) return;
    {
      // Before libmicrohttpd closes the socket: the reaper never shuts down a reused fd.
      absl::MutexLock lock(&impl->mu);
      impl->connections.erase(connection);
    }
    impl->open_connections.fetch_sub(1);
    delete connection;
    *socket_context = nullptr;
  }

  static void* OnRequestLine(void* cls, const char* uri, MHD_Connection* c) {
    auto* impl = static_cast<Impl*>(cls);
    auto* exchange = new Exchange;
    exchange->target = uri == nullptr ? "" : uri;
    exchange->connection = ConnectionOf(c);
    if (exchange->connection != nullptr) {
      absl::MutexLock lock(&impl->mu);
      if (exchange->connection->phase == Phase::kIdle) {
        // A keep-alive connection's next request: its head and body get the full timeout.
        exchange->connection->phase = Phase::kReading;
        exchange->connection->deadline_ms = NowMillis() + impl->options.request_timeout_ms;
      }
    }
    return exchange;
  }

  static void OnCompleted(void* cls, MHD_Connection*, void** request_context,
                          MHD_RequestTerminationCode) {
    auto* impl = static_cast<Impl*>(cls);
    auto* exchange = static_cast<Exchange*>(*request_context);
    if (exchange == nullptr) return;
    impl->SetPhase(exchange->connection, Phase::kIdle, impl->options.idle_timeout_ms);
    delete exchange;
    *request_context = nullptr;
  }

  static MHD_Result OnRequest(void* cls, MHD_Connection* c, const char*, const char* method,
                              const char*, const char* upload_data, size_t* upload_data_size,
                              void** request_context) {
    auto* impl = static_cast<Impl*>(cls);
    auto* exchange = static_cast<Exchange*>(*request_context);
    if (exchange == nullptr) return MHD_NO;  // OnRequestLine always makes one
    if (!exchange->head_seen) {
      // The whole head has arrived, none of the body has been read.
      exchange->head_seen = true;
      exchange->method = method;
      MHD_get_connection_values(
          c, MHD_HEADER_KIND,
          [](void* headers, MHD_ValueKind, const char* key, const char* value) {
            static_cast<Headers*>(headers)->emplace_back(key, value == nullptr ? "" : value);
            return MHD_YES;
          },
          &exchange->headers);
      if (std::optional<HttpResponse> refused = impl->CheckLength(*exchange)) {
        return impl->Queue(c, *exchange, std::move(*refused), true);
      }
      return MHD_YES;
    }
    if (*upload_data_size > 0) {
      // A chunked body over the limit (a declared length was checked above).
      if (exchange->body.size() + *upload_data_size >
          static_cast<size_t>(impl->options.max_body_bytes)) {
        return MHD_NO;
      }
      exchange->body.append(upload_data, *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
    if (exchange->result) return impl->QueueResult(c, exchange);
    if (impl->stopping.load()) {
      return impl->Queue(c, *exchange, Text(503, "shutting down\n"), true);
    }
    return impl->Dispatch(c, exchange);
  }

  static void OnLog(void*, const char* format, va_list args) {
    char message[512];
    std::vsnprintf(message, sizeof(message), format, args);
    std::string text(message);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    GetLogger("http")->debug("libmicrohttpd: {}", text);
  }

  // Shuts down connections whose request is late or whose idle time is over.
  void Reap() {
    const int64_t tick_ms = std::clamp<int64_t>(
        std::min(options.request_timeout_ms, options.idle_timeout_ms) / 10, 5, 500);
    absl::MutexLock lock(&mu);
    while (!mu.AwaitWithTimeout(absl::Condition(&reaper_stop), absl::Milliseconds(tick_ms))) {
      const int64_t now = NowMillis();
      for (Connection* connection : connections) {
        if (connection->phase == Phase::kHandling || connection->closing ||
            connection->deadline_ms > now || connection->fd < 0) {
          continue;
        }
        // Counted first, so that whoever sees the close sees the count. libmicrohttpd sees the
        // end of the stream and closes the connection.
        timed_out_connections->Increment();
        ::shutdown(connection->fd, SHUT_RDWR);
        connection->closing = true;
      }
    }
  }
};

HttpResponse MethodNotAllowed() { return Text(405, "Method Not Allowed\n"); }

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

namespace {

HttpServerOptions WithBodyAndThreads(int64_t max_body_bytes, int threads,
                                     std::optional<TlsFiles> tls) {
  HttpServerOptions options;
  options.max_body_bytes = max_body_bytes;
  options.worker_threads = threads;
  options.tls = std::move(tls);
  return options;
}

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// A listening TCP socket on host:port with the server's options, or -1.
int Listen(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int yes = 1;
    // SO_REUSEADDR only: with SO_REUSEPORT a second server could bind the same port.
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    // Accepted sockets inherit TCP_NODELAY (Linux): without it, every response after the
    // first on a keep-alive connection waited ~40 ms (Nagle against delayed ACKs).
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    if (a->ai_family == AF_INET6) {
      int no = 0;
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof(no));
    }
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 ||
        ::listen(fd, HttpServer::kListenBacklog) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage address{};
  socklen_t size = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) return -1;
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
}

}  // namespace

HttpServer::HttpServer(MetricsRegistry* metrics, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(metrics, std::move(options))) {}

HttpServer::HttpServer(MetricsRegistry* metrics, int64_t max_body_bytes, int threads,
                       std::optional<TlsFiles> tls)
    : HttpServer(metrics, WithBodyAndThreads(max_body_bytes, threads, std::move(tls))) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(const std::string& path, HttpHandler handler) {
  impl_->routes[path] =
      Impl::RouteEntry{[handler = std::move(handler)](const HttpRequest& request) {
                         return StreamingHttpResponse{handler(request), nullptr};
                       },
                       false};
}

void HttpServer::RouteStreaming(const std::string& path, StreamingHttpHandler handler) {
  impl_->routes[path] = Impl::RouteEntry{std::move(handler), false};
}

void HttpServer::RouteProgressive(const std::string& path, ProgressiveHttpHandler handler) {
  impl_->routes[path] = Impl::RouteEntry{nullptr, false, std::move(handler)};
}

void HttpServer::RouteProbe(const std::string& path, HttpHandler handler) {
  impl_->routes[path] =
      Impl::RouteEntry{[handler = std::move(handler)](const HttpRequest& request) {
                         return StreamingHttpResponse{handler(request), nullptr};
                       },
                       true};
}

void HttpServer::SetFallback(HttpHandler handler) { impl_->fallback = std::move(handler); }

absl::StatusOr<int> HttpServer::Start(const std::string& host, int port) {
  Impl& impl = *impl_;
  const HttpServerOptions& options = impl.options;
  std::string key;
  std::string cert;
  if (options.tls) {
    std::optional<std::string> read_key = ReadWholeFile(options.tls->key_path);
    std::optional<std::string> read_cert = ReadWholeFile(options.tls->cert_chain_path);
    if (!read_key || !read_cert) {
      return absl::InvalidArgumentError(absl::StrCat("HTTPS: cannot use the certificate chain ",
                                                     options.tls->cert_chain_path, " with the key ",
                                                     options.tls->key_path, " (unreadable)"));
    }
    key = std::move(*read_key);
    cert = std::move(*read_cert);
  }
  impl.listen_fd = Listen(host, port);
  if (impl.listen_fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", host, ":", port,
                                               " (address in use or not available)"));
  }
  const int bound = BoundPort(impl.listen_fd);
  impl.workers = std::make_unique<WorkerPool>(options.worker_threads);
  impl.probes = std::make_unique<WorkerPool>(1);

  unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  if (options.tls) flags |= MHD_USE_TLS;
  std::vector<MHD_OptionItem> items = {
      {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&Impl::OnLog), nullptr},
      {MHD_OPTION_LISTEN_SOCKET, impl.listen_fd, nullptr},
      // The cap itself is OnAccept's, over all threads; this is each thread's share of it.
      {MHD_OPTION_CONNECTION_LIMIT, options.max_connections + 64, nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT,
       static_cast<intptr_t>(std::max<int64_t>(1, (options.idle_timeout_ms + 999) / 1000)),
       nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(kConnectionMemoryBytes), nullptr},
      {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&Impl::OnConnection), &impl},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&Impl::OnCompleted), &impl},
      {MHD_OPTION_URI_LOG_CALLBACK, reinterpret_cast<intptr_t>(&Impl::OnRequestLine), &impl},
  };
  if (options.io_threads > 1) {
    items.push_back({MHD_OPTION_THREAD_POOL_SIZE, options.io_threads, nullptr});
  }
  if (options.tls) {
    items.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, key.data()});
    items.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, cert.data()});
  }
  items.push_back({MHD_OPTION_END, 0, nullptr});
  impl.daemon = MHD_start_daemon(flags, 0, &Impl::OnAccept, &impl, &Impl::OnRequest, &impl,
                                 MHD_OPTION_ARRAY, items.data(), MHD_OPTION_END);
  if (impl.daemon == nullptr) {
    impl.workers->Shutdown();
    impl.probes->Shutdown();
    ::close(impl.listen_fd);
    impl.listen_fd = -1;
    if (options.tls) {
      return absl::InvalidArgumentError(
          absl::StrCat("HTTPS: cannot use the certificate chain ", options.tls->cert_chain_path,
                       " with the key ", options.tls->key_path,
                       " (not PEM, or the key does not match the certificate)"));
    }
    return absl::InternalError(absl::StrCat("cannot start the HTTP server on ", host, ":", port));
  }
  impl.reaper = std::thread([&impl] { impl.Reap(); });
  return bound;
}

void HttpServer::Stop() {
  Impl& impl = *impl_;
  if (impl.daemon == nullptr) return;
  // No new connections from here on: OnAccept closes them at once. Not MHD_quiesce_daemon:
  // with a thread pool and epoll (libmicrohttpd 0.9.75, still so in 1.0.1), it removes the listen
  // socket from each I/O thread's epoll set while that thread, seeing the daemon quiesced, may
  // be removing it too; the loser's EPOLL_CTL_DEL fails with ENOENT, which MHD_quiesce_daemon
  // does not tolerate: "Failed to remove listen FD from epoll set", abort().
  {
    absl::MutexLock lock(&impl.mu);
    impl.stopping.store(true);
    for (const std::weak_ptr<BodyPipe>& weak : impl.pipes) {
      if (std::shared_ptr<BodyPipe> pipe = weak.lock()) pipe->Cancel();
    }
    impl.pipes.clear();
  }
  // Running and queued handlers finish and resume their connections.
  impl.workers->Shutdown();
  impl.probes->Shutdown();
  MHD_stop_daemon(impl.daemon);
  impl.daemon = nullptr;
  {
    absl::MutexLock lock(&impl.mu);
    impl.reaper_stop = true;
  }
  impl.reaper.join();
  impl.listen_fd = -1;  // closed by MHD_stop_daemon (it keeps a quiesced daemon's)
}

}  // namespace stackhouse::http
