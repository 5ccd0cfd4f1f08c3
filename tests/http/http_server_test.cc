// The HTTP layer's socket behaviour, on real sockets of an in-process server (port 0): accepted
// connections have TCP_NODELAY, keep-alive lasts beyond httplib's 5 requests, the listen
// backlog is not httplib's 5, and unusable Content-Length headers are answered at once.
#include "http/http_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace stackhouse::http {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int64_t kMaxBody = 4096;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(&metrics_, kMaxBody, 4);
    server_->Route("/echo", [](const HttpRequest& request) {
      return HttpResponse{200, "text/plain", request.body.empty() ? "ok" : request.body, {}};
    });
    auto port = server_->Start("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }
  void TearDown() override { server_->Stop(); }

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

  MetricsRegistry metrics_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

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

}  // namespace
}  // namespace stackhouse::http
