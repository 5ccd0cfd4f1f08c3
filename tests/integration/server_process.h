#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace stackhouse::testing {

// A TCP port that was free a moment ago (bound to port 0 on 127.0.0.1, then released).
int FreePort();

// The stackhouse binary run as a child process with the shipped config, loopback ports and
// environment overrides; its stdout and stderr go to a log file. Not thread-safe.
class ServerProcess {
 public:
  // `env` is added to the child's environment (e.g. SW_AUTHENTICATION). Ports and the data
  // directory come from the arguments.
  ServerProcess(std::string data_dir, int grpc_port, int http_port,
                std::map<std::string, std::string> env = {});
  ~ServerProcess();  // SIGKILLs the child if it still runs

  // Starts the binary with `args` and waits up to `timeout_ms` for /healthz to answer 200.
  // False when the child exits or times out first.
  bool Start(int timeout_ms = 20000);

  // Starts the binary and waits for it to exit; returns the exit code (-1 on timeout or
  // signal). For start-up failures.
  int RunToExit(const std::vector<std::string>& extra_args = {}, int timeout_ms = 20000);

  // Sends `signal` and waits up to `timeout_ms` for exit; returns the exit code, or
  // -signal when killed by a signal, or nullopt on timeout.
  std::optional<int> Stop(int signal, int timeout_ms = 30000);

  // Everything the child wrote so far.
  std::string Log() const;

  std::string GrpcTarget() const;
  int http_port() const { return http_port_; }

  // GET http://127.0.0.1:<http_port><path>; returns (status, body), status -1 on failure.
  std::pair<int, std::string> HttpGet(const std::string& path) const;

  // POSTs a GraphQL request {query, variables} to /graphql; returns (status, body).
  std::pair<int, std::string> GraphQL(const std::string& query,
                                      const std::string& variables_json = "{}") const;

 private:
  pid_t Spawn(const std::vector<std::string>& extra_args);
  std::optional<int> WaitExit(int timeout_ms);

  const std::string data_dir_;
  const int grpc_port_;
  const int http_port_;
  const std::map<std::string, std::string> env_;
  const std::string log_path_;
  pid_t pid_ = -1;
};

}  // namespace stackhouse::testing
