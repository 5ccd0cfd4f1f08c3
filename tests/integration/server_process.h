#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace stackhouse::testing {

// The stackhouse binary run as a child process with the shipped config, loopback ports and
// environment overrides; its stdout and stderr go to a log file. Not thread-safe.
class ServerProcess {
 public:
  // `env` is added to the child's environment (e.g. SW_AUTHENTICATION); the data directory
  // comes from the argument. The server binds port 0 for gRPC and HTTP and tells Start the
  // ports it got (--ports-file), so tests running in parallel never race for a port.
  explicit ServerProcess(std::string data_dir, std::map<std::string, std::string> env = {});
  // The same with configured ports (0: any), for tests about the ports themselves.
  ServerProcess(std::string data_dir, int grpc_port, int http_port,
                std::map<std::string, std::string> env = {});
  ~ServerProcess();  // SIGKILLs the child if it still runs

  // Starts the binary, learns its ports from its ports file and waits up to `timeout_ms` for
  // /healthz to answer 200. False when the child exits or times out first.
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

  // "http://127.0.0.1:<http_port>", or https when the environment sets
  // SW_CORE_REST_SSL_ENABLED=true (the clients below then skip certificate checks).
  std::string HttpBase() const;

  // GET <HttpBase><path>; returns (status, body), status -1 on failure.
  std::pair<int, std::string> HttpGet(const std::string& path) const;

  // POSTs a GraphQL request {query, variables} to /graphql; returns (status, body).
  std::pair<int, std::string> GraphQL(const std::string& query,
                                      const std::string& variables_json = "{}") const;

 private:
  pid_t Spawn(const std::vector<std::string>& extra_args);
  std::optional<int> WaitExit(int timeout_ms);
  // Reads the ports file into the ports; false until the server has written it.
  bool ReadPortsFile();

  const std::string data_dir_;
  const int configured_grpc_port_;
  const int configured_http_port_;
  const std::map<std::string, std::string> env_;
  const std::string log_path_;
  const std::string ports_path_;
  // The bound ports once Start succeeded (the configured ones before).
  int grpc_port_;
  int http_port_;
  pid_t pid_ = -1;
};

}  // namespace stackhouse::testing
