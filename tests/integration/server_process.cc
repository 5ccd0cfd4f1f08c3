#include "server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "httplib.h"

extern char** environ;

namespace stackhouse::testing {

namespace {

// Names files of one ServerProcess apart from those of the others in this test process.
std::string UniqueName(const char* extension) {
  static std::atomic<int> next{0};
  return absl::StrCat(::testing::TempDir(), "/stackhouse-", getpid(), "-", next++, extension);
}

}  // namespace

ServerProcess::ServerProcess(std::string data_dir, std::map<std::string, std::string> env)
    : ServerProcess(std::move(data_dir), 0, 0, std::move(env)) {}

ServerProcess::ServerProcess(std::string data_dir, int grpc_port, int http_port,
                             std::map<std::string, std::string> env)
    : data_dir_(std::move(data_dir)),
      configured_grpc_port_(grpc_port),
      configured_http_port_(http_port),
      env_(std::move(env)),
      log_path_(UniqueName(".log")),
      ports_path_(UniqueName(".ports")),
      grpc_port_(grpc_port),
      http_port_(http_port) {}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  std::remove(ports_path_.c_str());
}

pid_t ServerProcess::Spawn(const std::vector<std::string>& extra_args) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    size_t eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  env["SW_CORE_GRPC_HOST"] = "127.0.0.1";
  env["SW_CORE_GRPC_PORT"] = std::to_string(configured_grpc_port_);
  env["SW_CORE_REST_HOST"] = "127.0.0.1";
  env["SW_CORE_REST_PORT"] = std::to_string(configured_http_port_);
  env["SW_STORAGE_DATA_DIR"] = data_dir_;
  env["SW_CORE_SHUTDOWN_GRACE_PERIOD"] = "2";
  for (const auto& [k, v] : env_) env[k] = v;

  std::vector<std::string> args = {STACKHOUSE_BINARY, "--config", STACKHOUSE_APPLICATION_YML};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);

  pid_t pid = fork();
  if (pid == 0) {
    int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

std::optional<int> ServerProcess::WaitExit(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return -WTERMSIG(status);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

bool ServerProcess::ReadPortsFile() {
  std::ifstream in(ports_path_);
  std::string line;
  int grpc = -1, http = -1;
  while (std::getline(in, line)) {
    if (line.rfind("grpc=", 0) == 0) grpc = std::atoi(line.c_str() + 5);
    if (line.rfind("http=", 0) == 0) http = std::atoi(line.c_str() + 5);
  }
  if (grpc <= 0 || http <= 0) return false;
  grpc_port_ = grpc;
  http_port_ = http;
  return true;
}

bool ServerProcess::Start(int timeout_ms) {
  std::remove(ports_path_.c_str());
  pid_ = Spawn({"--ports-file", ports_path_});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool ports_known = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!ports_known) ports_known = ReadPortsFile();
    if (ports_known && HttpGet("/healthz").first == 200) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

int ServerProcess::RunToExit(const std::vector<std::string>& extra_args, int timeout_ms) {
  pid_ = Spawn(extra_args);
  auto code = WaitExit(timeout_ms);
  return code.value_or(-1);
}

std::optional<int> ServerProcess::Stop(int signal, int timeout_ms) {
  if (pid_ <= 0) return std::nullopt;
  kill(pid_, signal);
  return WaitExit(timeout_ms);
}

std::string ServerProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string ServerProcess::GrpcTarget() const { return absl::StrCat("127.0.0.1:", grpc_port_); }

std::string ServerProcess::HttpBase() const {
  auto tls = env_.find("SW_CORE_REST_SSL_ENABLED");
  const bool https = tls != env_.end() && tls->second == "true";
  return absl::StrCat(https ? "https" : "http", "://127.0.0.1:", http_port_);
}

std::pair<int, std::string> ServerProcess::HttpGet(const std::string& path) const {
  httplib::Client client(HttpBase());
  client.enable_server_certificate_verification(false);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(5, 0);
  auto result = client.Get(path.c_str());
  if (!result) return {-1, ""};
  return {result->status, result->body};
}

}  // namespace stackhouse::testing

namespace stackhouse::testing {

std::pair<int, std::string> ServerProcess::GraphQL(const std::string& query,
                                                   const std::string& variables_json) const {
  std::string escaped;
  for (char c : query) {
    if (c == '"' || c == '\\') escaped.push_back('\\');
    if (c == '\n') {
      escaped.append("\\n");
      continue;
    }
    escaped.push_back(c);
  }
  std::string body =
      absl::StrCat("{\"query\":\"", escaped, "\",\"variables\":", variables_json, "}");
  httplib::Client client(HttpBase());
  client.enable_server_certificate_verification(false);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(30, 0);
  auto result = client.Post("/graphql", body, "application/json");
  if (!result) return {-1, ""};
  return {result->status, result->body};
}

}  // namespace stackhouse::testing
