// The HTTP layer's socket behaviour, on real sockets of an in-process server (port 0): accepted
// connections have TCP_NODELAY, keep-alive lasts for many requests, the listen backlog is
// raised, unusable Content-Length headers are answered at once, slow and idle clients stall
// nothing, the request deadline and the connection cap close connections, chunked request
// bodies and streamed responses work.
#include "http/http_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace stackhouse::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr int64_t kMaxBody = 4096;

HttpServerOptions Options(int workers) {
  HttpServerOptions options;
  options.max_body_bytes = kMaxBody;
  options.worker_threads = workers;
  return options;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(Options(4)); }
  void TearDown() override { server_->Stop(); }

  // (Re)starts the server with `options`: /echo answers the body (or "ok"), /healthz is a
  // probe route, /block waits for `release_`.
  void StartServer(HttpServerOptions options) {
    if (server_) server_->Stop();
    server_ = std::make_unique<HttpServer>(&metrics_, std::move(options));
    server_->Route("/echo", [](const HttpRequest& request) {
      return HttpResponse{200, "text/plain", request.body.empty() ? "ok" : request.body, {}};
    });
    server_->RouteProbe("/healthz", [](const HttpRequest&) {
      return HttpResponse{200, "text/plain", "healthy", {}};
    });
    server_->Route("/block", [this](const HttpRequest&) {
      blocked_.fetch_add(1);
      release_.WaitForNotification();
      return HttpResponse{200, "text/plain", "released", {}};
    });
    auto port = server_->Start("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  // A connected client socket; reads give up after 10 s (a bound, not an expectation).
  int Connect() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0);
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    return fd;
  }

  // Sends `request` on a new connection and returns what the server answers until it closes
  // the connection or sends a complete response head (the status line and headers).
  std::string HeadOf(const std::string& request) {
    int fd = Connect();
    EXPECT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
    std::string received;
    char buffer[4096];
    while (received.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      received.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return received;
  }

  // Sends `request` on `fd` and reads one response with a Content-Length body; "" if the
  // connection ends first.
  static std::string Exchange(int fd, const std::string& request) {
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      return "";
    }
    std::string received;
    char buffer[4096];
    while (true) {
      size_t head_end = received.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t at = received.find("Content-Length: ");
        if (at != std::string::npos && at < head_end) {
          size_t length = std::strtoul(received.c_str() + at + 16, nullptr, 10);
          if (received.size() >= head_end + 4 + length) return received;
        }
      }
      ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) return "";
      received.append(buffer, static_cast<size_t>(n));
    }
  }

  // True once the server has closed `fd` (end of stream or reset) without answering.
  static bool ClosedWithoutAnswer(int fd) {
    char buffer[256];
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  uint64_t Counter(const std::string& name) { return metrics_.GetCounter(name, "", {})->Value(); }

  MetricsRegistry metrics_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::atomic<int> blocked_{0};
  absl::Notification release_;
};

// Raises the soft limit of open files to `wanted` (or the hard limit); returns the limit.
rlim_t RaiseFileLimit(rlim_t wanted) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = std::min(wanted, limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

// The kernel's backlog of the TCP socket listening on 127.0.0.1:`port` (sock_diag), or -1.
int ListenBacklog(int port) {
  int nl = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return -1;
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof(message);
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  message.request.sdiag_family = AF_INET;
  message.request.sdiag_protocol = IPPROTO_TCP;
  message.request.idiag_states = 1u << 10;  // TCP_LISTEN
  int backlog = -1;
  if (::send(nl, &message, sizeof(message), 0) == static_cast<ssize_t>(sizeof(message))) {
    alignas(nlmsghdr) char buffer[32768];
    bool done = false;
    while (!done) {
      ssize_t n = ::recv(nl, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      int length = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, length);
           h = NLMSG_NEXT(h, length)) {
        if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
          done = true;
          break;
        }
        auto* diag = static_cast<inet_diag_msg*>(NLMSG_DATA(h));
        if (ntohs(diag->id.idiag_sport) == port) backlog = static_cast<int>(diag->idiag_wqueue);
      }
    }
  }
  ::close(nl);
  return backlog;
}

TEST_F(HttpServerTest, AcceptedConnectionsHaveTcpNoDelay) {
  int client = Connect();
  const std::string request = "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(client, request.data(), request.size(), 0),
            static_cast<ssize_t>(request.size()));
  char buffer[1024];
  ASSERT_GT(::recv(client, buffer, sizeof(buffer), 0), 0);  // the server has accepted it
  // The server's end is a socket of this process bound to the server's port, not listening.
  int checked = 0;
  DIR* fds = ::opendir("/proc/self/fd");
  ASSERT_NE(fds, nullptr);
  while (dirent* entry = ::readdir(fds)) {
    int fd = std::atoi(entry->d_name);
    sockaddr_in address{};
    socklen_t size = sizeof(address);
    if (fd <= 2 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0 ||
        address.sin_family != AF_INET || ntohs(address.sin_port) != port_) {
      continue;
    }
    int listening = 0;
    socklen_t option_size = sizeof(listening);
    ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &option_size);
    if (listening) continue;
    int no_delay = 0;
    option_size = sizeof(no_delay);
    ASSERT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &no_delay, &option_size), 0);
    EXPECT_NE(no_delay, 0);
    ++checked;
  }
  ::closedir(fds);
  ::close(client);
  EXPECT_EQ(checked, 1);
}

TEST_F(HttpServerTest, KeepAliveReusesOneConnectionForManyRequests) {
  int fd = Connect();
  for (int i = 0; i < 500; ++i) {
    std::string response = Exchange(fd, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_THAT(response, StartsWith("HTTP/1.1 200")) << "request " << i;
    EXPECT_THAT(response, Not(HasSubstr("Connection: close")));
  }
  ::close(fd);
}

TEST_F(HttpServerTest, KeepAliveLastsBeyondFiveRequests) {
  httplib::Client client("127.0.0.1", port_);
  client.set_keep_alive(true);
  for (int i = 0; i < 20; ++i) {
    auto result = client.Get("/echo");
    ASSERT_TRUE(result) << i;
    EXPECT_EQ(result->status, 200);
    EXPECT_NE(result->get_header_value("Connection"), "close") << "request " << i;
  }
}

TEST_F(HttpServerTest, ListenBacklogIsRaised) {
  EXPECT_GE(ListenBacklog(port_), 128);  // httplib alone listens with 5
}

// Each is answered before any body is sent (httplib waited for the body the first header
// announced, or read and discarded an oversized one).
TEST_F(HttpServerTest, UnusableContentLengthsAreRefusedAtOnce) {
  auto post = [](const std::string& headers) {
    return "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n" + headers + "\r\n";
  };
  EXPECT_THAT(HeadOf(post("Content-Length: 5\r\nContent-Length: 7\r\n")),
              StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(HeadOf(post("Content-Length: 99999999999999999999999\r\n")),
              StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(HeadOf(post("Content-Length: 1000000000\r\n")), StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(HeadOf(post("Content-Length: -1\r\n")), StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(HeadOf(post("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n")),
              StartsWith("HTTP/1.1 400"));
  std::string refused = HeadOf(post("Content-Length: 5\r\nContent-Length: 7\r\n"));
  EXPECT_THAT(refused, HasSubstr("Connection: close"));
  // Equal repeated lengths and a body within the limit are fine.
  int fd = Connect();
  const std::string request = post("Content-Length: 5\r\nContent-Length: 5\r\n") + "hello";
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string received;
  char buffer[4096];
  while (received.find("hello") == std::string::npos) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    received.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  EXPECT_THAT(received, StartsWith("HTTP/1.1 200"));
}

TEST_F(HttpServerTest, ChunkedRequestBodiesAreRead) {
  int fd = Connect();
  std::string response = Exchange(fd,
                                  "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                  "\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(response, HasSubstr("\r\n\r\nhello world"));
  ::close(fd);
  // A chunked body beyond the limit ends the connection.
  fd = Connect();
  std::string chunk(kMaxBody + 10, 'x');
  std::string request = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        absl::StrCat(absl::Hex(chunk.size())) + "\r\n" + chunk + "\r\n0\r\n\r\n";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  EXPECT_TRUE(ClosedWithoutAnswer(fd));
  ::close(fd);
}

TEST_F(HttpServerTest, StreamedResponsesArriveWhole) {
  server_ = std::make_unique<HttpServer>(&metrics_, Options(2));
  // 4 MiB in 1 KiB pieces: more than the pipe between producer and socket holds.
  server_->RouteStreaming("/stream", [](const HttpRequest&) {
    StreamingHttpResponse response;
    response.head = HttpResponse{200, "application/octet-stream", "", {}};
    response.body = [](const BodyWriter& write) {
      std::string piece(1024, 'a');
      for (int i = 0; i < 4096; ++i) {
        piece[0] = static_cast<char>('a' + i % 26);
        if (!write(piece)) return false;
      }
      return true;
    };
    return response;
  });
  auto port = server_->Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  httplib::Client client("127.0.0.1", *port);
  for (int round = 0; round < 3; ++round) {
    auto result = client.Get("/stream");
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->get_header_value("Transfer-Encoding"), "chunked");
    ASSERT_EQ(result->body.size(), 4096u * 1024u);
    EXPECT_EQ(result->body[1024 * 27], 'b');
  }
}

// A progressive handler's answer is an ordinary response until it starts a stream; then the
// head it gave is sent at once and the body follows chunked, or ends cut when it aborts.
TEST_F(HttpServerTest, ProgressiveHandlersAnswerWholeOrStreamOnceStarted) {
  server_ = std::make_unique<HttpServer>(&metrics_, Options(2));
  server_->RouteProgressive("/p", [](const HttpRequest& request, ResponseStarter& starter) {
    if (request.params.count("small") > 0) return HttpResponse{200, "text/plain", "small", {}};
    const BodyWriter write =
        starter.Start(HttpResponse{201, "application/json", "ignored", {{"X-Streamed", "yes"}}});
    std::string piece(1024, 'a');
    for (int i = 0; i < 4096; ++i) {
      piece[0] = static_cast<char>('a' + i % 26);
      if (!write(piece)) break;
    }
    if (request.params.count("abort") > 0) starter.Abort();
    return HttpResponse{500, "text/plain", "ignored once started", {}};
  });
  auto port = server_->Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  httplib::Client client("127.0.0.1", *port);
  for (int round = 0; round < 2; ++round) {
    auto small = client.Get("/p?small=1");
    ASSERT_TRUE(small) << httplib::to_string(small.error());
    EXPECT_EQ(small->status, 200);
    EXPECT_EQ(small->body, "small");
    EXPECT_EQ(small->get_header_value("Content-Length"), "5");
    EXPECT_FALSE(small->has_header("Transfer-Encoding"));

    auto streamed = client.Get("/p");
    ASSERT_TRUE(streamed) << httplib::to_string(streamed.error());
    EXPECT_EQ(streamed->status, 201);
    EXPECT_EQ(streamed->get_header_value("Content-Type"), "application/json");
    EXPECT_EQ(streamed->get_header_value("X-Streamed"), "yes");
    EXPECT_EQ(streamed->get_header_value("Transfer-Encoding"), "chunked");
    ASSERT_EQ(streamed->body.size(), 4096u * 1024u);
    EXPECT_EQ(streamed->body[1024 * 27], 'b');
  }
  httplib::Client cut_client("127.0.0.1", *port);
  auto cut = cut_client.Get("/p?abort=1");
  EXPECT_FALSE(cut) << "an aborted body must not look complete";
}

// Stop while clients keep connecting. It used MHD_quiesce_daemon, which races with the I/O
// threads' own removal of the listen socket from their epoll sets and aborted the process
// ("Failed to remove listen FD from epoll set") when one of them was busy, as after a
// connection the server closed (the aborted stream above, then TearDown). A connection made
// once Stop has begun is closed without an answer.
TEST_F(HttpServerTest, StopWhileClientsKeepConnecting) {
  for (int round = 0; round < 100; ++round) {
    StartServer(Options(2));
    std::atomic<bool> done{false};
    std::atomic<int> answered{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < 2; ++i) {
      clients.emplace_back([&, port = port_] {
        while (!done.load()) {
          int fd = ::socket(AF_INET, SOCK_STREAM, 0);
          timeval timeout{10, 0};
          ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
          sockaddr_in address{};
          address.sin_family = AF_INET;
          address.sin_port = htons(static_cast<uint16_t>(port));
          address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
              absl::StartsWith(
                  Exchange(fd, "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
                  "HTTP/1.1 200")) {
            answered.fetch_add(1);
            // Until the server closes the connection, so that its I/O thread is busy closing.
            char buffer[256];
            while (::recv(fd, buffer, sizeof(buffer), 0) > 0) {
            }
          }
          ::close(fd);
        }
      });
    }
    while (answered.load() < 10) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    server_->Stop();
    done.store(true);
    for (std::thread& client : clients) client.join();
  }
}

// A client that asks for a streamed response and then reads nothing holds the handler's worker
// only until the stall timeout: the handler's writes start failing, and the worker is free for
// the next request.
TEST_F(HttpServerTest, AClientThatStopsReadingAStreamedResponseFreesTheWorker) {
  HttpServerOptions options = Options(1);
  options.stream_stall_timeout_ms = 200;
  options.idle_timeout_ms = 120000;  // so that only the stall timeout can end the stream in time
  server_->Stop();
  server_ = std::make_unique<HttpServer>(&metrics_, options);
  absl::Notification given_up;
  server_->RouteProgressive("/flood", [&](const HttpRequest&, ResponseStarter& starter) {
    const BodyWriter write = starter.Start(HttpResponse{200, "text/plain", "", {}});
    const std::string piece(1 << 20, 'x');
    for (int i = 0; i < 1024; ++i) {  // 1 GiB: far beyond any socket buffer
      if (!write(piece)) {
        given_up.Notify();
        break;
      }
    }
    return HttpResponse{200, "text/plain", "", {}};
  });
  server_->Route("/echo", [](const HttpRequest&) {
    return HttpResponse{200, "text/plain", "ok", {}};
  });
  auto port = server_->Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  port_ = *port;
  int stalled = Connect();
  const std::string request = "GET /flood HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(stalled, request.data(), request.size(), 0),
            static_cast<ssize_t>(request.size()));
  ASSERT_TRUE(given_up.WaitForNotificationWithTimeout(absl::Seconds(30)))
      << "the handler's writes never failed";
  // The only worker answers the next request.
  int fd = Connect();
  EXPECT_THAT(Exchange(fd, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"), HasSubstr("\r\n\r\nok"));
  ::close(fd);
  ::close(stalled);
}

// The deadline covers the whole head: a client that keeps sending it, a byte at a time,
// is closed once it is over.
TEST_F(HttpServerTest, TheRequestDeadlineClosesAClientThatNeverFinishesItsHead) {
  HttpServerOptions options = Options(2);
  options.request_timeout_ms = 300;
  StartServer(options);
  int fd = Connect();
  const std::string head = "GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    while (!done.load() && ::send(fd, "x", 1, MSG_NOSIGNAL) == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  EXPECT_TRUE(ClosedWithoutAnswer(fd));
  done.store(true);
  trickle.join();
  ::close(fd);
  EXPECT_GE(Counter("stackhouse_http_connections_timed_out_total"), 1u);
  // Others are served as before.
  httplib::Client client("127.0.0.1", port_);
  auto result = client.Get("/echo");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionsAreClosedAfterTheIdleTimeout) {
  HttpServerOptions options = Options(2);
  options.idle_timeout_ms = 300;
  StartServer(options);
  int fd = Connect();
  ASSERT_THAT(Exchange(fd, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"), StartsWith("HTTP/1.1 200"));
  EXPECT_TRUE(ClosedWithoutAnswer(fd));
  ::close(fd);
}

TEST_F(HttpServerTest, TheConnectionCapClosesExtraConnectionsAtOnce) {
  HttpServerOptions options = Options(2);
  options.max_connections = 3;
  StartServer(options);
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(Connect());
    ASSERT_THAT(Exchange(held.back(), "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"),
                StartsWith("HTTP/1.1 200"));
  }
  int extra = Connect();  // the kernel completes the handshake; the server closes it
  ::send(extra, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", 33, MSG_NOSIGNAL);
  EXPECT_TRUE(ClosedWithoutAnswer(extra));
  ::close(extra);
  EXPECT_GE(Counter("stackhouse_http_connections_refused_total"), 1u);
  // The held ones still work; once one closes, a new connection is served.
  EXPECT_THAT(Exchange(held[0], "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"),
              StartsWith("HTTP/1.1 200"));
  ::close(held[0]);
  bool served = false;
  for (int attempt = 0; attempt < 500 && !served; ++attempt) {  // until the server saw the close
    int fd = Connect();
    served =
        absl::StartsWith(Exchange(fd, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 200");
    ::close(fd);
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(served);
  for (size_t i = 1; i < held.size(); ++i) ::close(held[i]);
}

// Probe routes have a thread of their own: /healthz answers while every worker is busy.
TEST_F(HttpServerTest, ProbesAnswerWhileEveryWorkerIsBusy) {
  StartServer(Options(2));
  std::vector<std::thread> clients;
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back([this] {
      httplib::Client client("127.0.0.1", port_);
      client.set_read_timeout(30, 0);
      auto result = client.Get("/block");
      EXPECT_TRUE(result && result->status == 200);
    });
  }
  while (blocked_.load() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  httplib::Client probe("127.0.0.1", port_);
  auto result = probe.Get("/healthz");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "healthy");
  release_.Notify();
  for (std::thread& client : clients) client.join();
}

// Issue 14: a thousand clients that send their heads slowly, or nothing, cost the server
// sockets, not threads; health probes and queries are answered meanwhile.
TEST_F(HttpServerTest, AThousandSlowClientsStallNeitherProbesNorQueries) {
  constexpr int kSlow = 1000;
  if (RaiseFileLimit(2 * kSlow + 256) < 2 * kSlow + 256) {
    GTEST_SKIP() << "needs " << 2 * kSlow + 256 << " open files";
  }
  HttpServerOptions options = Options(4);
  options.request_timeout_ms = 600000;  // the slow clients stay for the whole test
  StartServer(options);
  std::vector<int> slow;
  const std::string partial = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Le";
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(Connect());
    if (i % 2 == 0) ::send(slow.back(), partial.data(), partial.size(), MSG_NOSIGNAL);
  }
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < kSlow; i += 2) ::send(slow[i], "n", 1, MSG_NOSIGNAL);  // still no end
    httplib::Client probe("127.0.0.1", port_);
    auto health = probe.Get("/healthz");
    ASSERT_TRUE(health) << httplib::to_string(health.error());
    EXPECT_EQ(health->status, 200);
    httplib::Client query("127.0.0.1", port_);
    auto answer = query.Post("/echo", "{\"query\":\"{ a }\"}", "application/json");
    ASSERT_TRUE(answer) << httplib::to_string(answer.error());
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->body, "{\"query\":\"{ a }\"}");
  }
  // None of them was answered or closed.
  int still_open = 0;
  for (int fd : slow) {
    char byte;
    if (::recv(fd, &byte, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN) ++still_open;
    ::close(fd);
  }
  EXPECT_EQ(still_open, kSlow);
}

}  // namespace
}  // namespace stackhouse::http
