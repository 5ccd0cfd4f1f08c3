// HTTP load tool for the REST port (issue 14): booster-ui's task and schedule queries (or
// /healthz) at a target rate over N keep-alive connections, optionally while S slow clients
// hold connections open (each sends a partial request head a byte at a time, or nothing).
// Prints the latency of every answered request, measured from the time it was due (so a
// stalled server cannot hide behind a slower send rate): p50, p99, max, and errors (requests
// that failed, got no answer within --timeout-ms, or were still due when the run ended).
//
//   http_load --port P [--host 127.0.0.1] [--connections 6] [--rate 200] [--seconds 10]
//             [--path /graphql|/healthz] [--fresh] [--slow S] [--slow-mode trickle|idle]
//             [--timeout-ms 5000]
//
// --fresh opens a new connection for every request (as a health probe does).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 12800;
  int connections = 6;
  double rate = 200;
  double seconds = 10;
  std::string path = "/graphql";
  bool fresh = false;
  int slow = 0;
  std::string slow_mode = "trickle";
  int timeout_ms = 5000;
};

// booster-ui's eBPF profiling page: the task list of a service, then a task's schedules.
const char* const kQueries[] = {
    R"({"query":"query queryEBPFTasks($serviceId: ID, $serviceInstanceId: ID, $targets: [EBPFProfilingTargetType!]) { queryEBPFTasks: queryEBPFProfilingTasks(serviceId: $serviceId, serviceInstanceId: $serviceInstanceId, targets: $targets) { taskId serviceName serviceId serviceInstanceId serviceInstanceName processLabels processId processName taskStartTime triggerType fixedTriggerDuration targetType createTime } }","variables":{"serviceId":"cmV2aWV3cy5kZWZhdWx0.1","targets":["ON_CPU","OFF_CPU"]}})",
    R"({"query":"query queryEBPFSchedules($taskId: ID!) { eBPFSchedules: queryEBPFProfilingSchedules(taskId: $taskId) { scheduleId taskId process { id name serviceId serviceName instanceId instanceName agentId detectType attributes { name value } labels } startTime endTime } }","variables":{"taskId":"0b8a1c6e-0000-4000-8000-000000000000"}})",
};

int Connect(const Options& options) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval timeout{options.timeout_ms / 1000, (options.timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  int yes = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(options.port));
  ::inet_pton(AF_INET, options.host.c_str(), &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads one response (Content-Length or chunked) from `fd`; false on error or close.
bool ReadResponse(int fd, std::string* pending) {
  char buffer[16384];
  auto fill = [&]() {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return false;
    pending->append(buffer, static_cast<size_t>(n));
    return true;
  };
  size_t head_end;
  while ((head_end = pending->find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return false;
  }
  std::string head = pending->substr(0, head_end);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (head.compare(0, 12, "http/1.1 200") != 0) return false;
  size_t body_start = head_end + 4;
  size_t length_at = head.find("content-length:");
  if (length_at != std::string::npos) {
    size_t length = std::strtoul(head.c_str() + length_at + 15, nullptr, 10);
    while (pending->size() < body_start + length) {
      if (!fill()) return false;
    }
    pending->erase(0, body_start + length);
    return true;
  }
  // Chunked: read until the last chunk.
  size_t at = body_start;
  while (true) {
    size_t line_end;
    while ((line_end = pending->find("\r\n", at)) == std::string::npos) {
      if (!fill()) return false;
    }
    size_t size = std::strtoul(pending->c_str() + at, nullptr, 16);
    size_t next = line_end + 2 + size + 2;
    while (pending->size() < next) {
      if (!fill()) return false;
    }
    at = next;
    if (size == 0) break;
  }
  pending->erase(0, at);
  return true;
}

std::string Request(const Options& options, int i) {
  if (options.path != "/graphql") {
    return "GET " + options.path + " HTTP/1.1\r\nHost: stackhouse\r\n\r\n";
  }
  const std::string body = kQueries[i % 2];
  return "POST /graphql HTTP/1.1\r\nHost: stackhouse\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Holds `count` slow connections until `stop`: each sends a partial request head one byte per
// second (trickle) or nothing (idle). Counts the ones the server closed.
void HoldSlowClients(const Options& options, int count, const std::atomic<bool>* stop,
                     std::atomic<int>* opened, std::atomic<int>* closed_by_server) {
  std::vector<int> fds;
  const std::string partial = "GET /healthz HTTP/1.1\r\nHost: stackhouse\r\nX-Slow: ";
  for (int i = 0; i < count && !stop->load(); ++i) {
    int fd = Connect(options);
    if (fd < 0) continue;
    if (options.slow_mode == "trickle") ::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
    fds.push_back(fd);
  }
  opened->store(static_cast<int>(fds.size()));
  std::vector<bool> alive(fds.size(), true);
  while (!stop->load()) {
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!alive[i]) continue;
      char probe;
      ssize_t n = ::recv(fds[i], &probe, 1, MSG_DONTWAIT);
      bool gone = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
      if (!gone && options.slow_mode == "trickle") {
        gone = ::send(fds[i], "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN;
      }
      if (gone) {
        alive[i] = false;
        closed_by_server->fetch_add(1);
      }
    }
    for (int t = 0; t < 10 && !stop->load(); ++t) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  for (int fd : fds) ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--host")
      options.host = value();
    else if (arg == "--port")
      options.port = std::atoi(value().c_str());
    else if (arg == "--connections")
      options.connections = std::atoi(value().c_str());
    else if (arg == "--rate")
      options.rate = std::atof(value().c_str());
    else if (arg == "--seconds")
      options.seconds = std::atof(value().c_str());
    else if (arg == "--path")
      options.path = value();
    else if (arg == "--fresh")
      options.fresh = true;
    else if (arg == "--slow")
      options.slow = std::atoi(value().c_str());
    else if (arg == "--slow-mode")
      options.slow_mode = value();
    else if (arg == "--timeout-ms")
      options.timeout_ms = std::atoi(value().c_str());
    else {
      std::fprintf(stderr, "unknown argument %s (see the comment at the top of http_load.cc)\n",
                   arg.c_str());
      return 2;
    }
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }

  std::atomic<bool> stop{false};
  std::atomic<int> slow_opened{0};
  std::atomic<int> slow_closed{0};
  std::thread slow_thread;
  if (options.slow > 0) {
    slow_thread = std::thread(HoldSlowClients, std::cref(options), options.slow, &stop,
                              &slow_opened, &slow_closed);
    while (slow_opened.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  std::mutex mu;
  std::vector<double> latencies_ms;
  std::atomic<int> errors{0};
  const double per_connection_interval = options.connections / options.rate;  // seconds
  const auto start = Clock::now() + std::chrono::milliseconds(100);
  const auto end = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(options.seconds));
  std::vector<std::thread> workers;
  for (int c = 0; c < options.connections; ++c) {
    workers.emplace_back([&, c] {
      std::vector<double> mine;
      int fd = -1;
      std::string pending;
      // Connections start evenly spread over one interval.
      auto due = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                             per_connection_interval * c / options.connections));
      for (int i = c; due < end; i += options.connections) {
        if (Clock::now() >= end) {  // a stalled server: what was due by now is missed
          errors.fetch_add(1);
          due += std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(per_connection_interval));
          continue;
        }
        std::this_thread::sleep_until(due);
        if (fd < 0) {
          fd = Connect(options);
          pending.clear();
        }
        const std::string request = Request(options, i);
        bool ok = fd >= 0 &&
                  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
                      static_cast<ssize_t>(request.size()) &&
                  ReadResponse(fd, &pending);
        if (ok) {
          mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - due).count());
        } else {
          errors.fetch_add(1);
        }
        if (!ok || options.fresh) {
          if (fd >= 0) ::close(fd);
          fd = -1;
        }
        due += std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(per_connection_interval));
      }
      if (fd >= 0) ::close(fd);
      std::lock_guard<std::mutex> lock(mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  }
  for (std::thread& worker : workers) worker.join();
  stop.store(true);
  if (slow_thread.joinable()) slow_thread.join();

  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto quantile = [&](double q) {
    if (latencies_ms.empty()) return 0.0;
    size_t index = static_cast<size_t>(q * static_cast<double>(latencies_ms.size() - 1) + 0.5);
    return latencies_ms[std::min(index, latencies_ms.size() - 1)];
  };
  std::printf(
      "path=%s connections=%d%s rate=%.0f/s seconds=%.0f slow=%d(%s, opened %d, closed by server "
      "%d) answered=%zu errors=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
      options.path.c_str(), options.connections, options.fresh ? "(fresh)" : "", options.rate,
      options.seconds, options.slow, options.slow_mode.c_str(), slow_opened.load(),
      slow_closed.load(), latencies_ms.size(), errors.load(), quantile(0.5), quantile(0.99),
      latencies_ms.empty() ? 0.0 : latencies_ms.back());
  return errors.load() == 0 ? 0 : 1;
}
