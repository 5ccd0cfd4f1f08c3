// The stackhouse binary: parses flags, loads the config, runs the server until SIGTERM or
// SIGINT. The only code tests do not link.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/logging.h"
#include "config/config.h"
#include "http/http_server.h"
#include "server/server.h"

#ifndef STACKHOUSE_VERSION
#define STACKHOUSE_VERSION "dev"
#endif

namespace {

constexpr char kUsage[] =
    "Usage: stackhouse [--config PATH] [--ports-file PATH] [--health-check] "
    "[--liveness-check] [--version] [--help]\n"
    "\n"
    "Stackhouse: a profiling backend for Apache SkyWalking agents and Rover.\n"
    "  gRPC (agents, skywalking.v3)   default port 11800\n"
    "  HTTP (/graphql, /healthz, /livez, /metrics) default port 12800\n"
    "\n"
    "Options:\n"
    "  --config PATH  configuration file (default: config/application.yml)\n"
    "  --ports-file PATH  once listening, write the bound ports to PATH as 'grpc=N',\n"
    "                 'http=N' (and 'ui=N' when booster-ui is served) lines\n"
    "  --health-check exit 0 if the server configured by --config answers /healthz\n"
    "                 (ready, and its storage takes writes)\n"
    "  --liveness-check exit 0 if that server answers /livez (the process serves HTTP)\n"
    "  --version      print the version and exit\n"
    "  --help         print this help and exit\n"
    "\n"
    "Every value in the configuration file may be overridden through the environment\n"
    "variable named in it, e.g. SW_CORE_GRPC_PORT=11801. See docs/configuration.md.\n";

// Writes the bound ports to `path` (through a temporary file renamed into place, so that a
// reader never sees half of it). False on any error.
bool WritePortsFile(const std::string& path, int grpc_port, int http_port, int ui_port) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "grpc=" << grpc_port << "\nhttp=" << http_port << "\n";
    if (ui_port > 0) out << "ui=" << ui_port << "\n";
    out.close();
    if (!out) return false;
  }
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

int Run(int argc, char** argv) {
  std::string config_path = "config/application.yml";
  std::string ports_file;
  bool health_check = false;
  std::string health_path = "/healthz";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--version") {
      std::printf("stackhouse %s\n", STACKHOUSE_VERSION);
      return 0;
    }
    if (arg == "--health-check") {
      health_check = true;
    } else if (arg == "--liveness-check") {
      health_check = true;
      health_path = "/livez";
    } else if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      config_path = arg.substr(std::strlen("--config="));
    } else if (arg == "--ports-file" && i + 1 < argc) {
      ports_file = argv[++i];
    } else if (arg.rfind("--ports-file=", 0) == 0) {
      ports_file = arg.substr(std::strlen("--ports-file="));
    } else {
      std::fprintf(stderr, "stackhouse: unknown argument '%s'\n\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }

  auto config = stackhouse::config::LoadConfig(config_path, stackhouse::config::ProcessEnv());
  if (!config.ok()) {
    std::fprintf(stderr, "stackhouse: invalid configuration: %s\n",
                 std::string(config.status().message()).c_str());
    return 1;
  }
  if (health_check) {
    absl::Status healthy =
        stackhouse::http::ProbeHealth(config->network.http_host, config->network.http_port,
                                      health_path, config->network.rest_ssl_enabled);
    if (!healthy.ok()) {
      std::fprintf(stderr, "stackhouse: unhealthy: %s\n", std::string(healthy.message()).c_str());
      return 1;
    }
    return 0;
  }
  if (auto s = stackhouse::SetLogLevel(config->log.level); !s.ok()) {
    std::fprintf(stderr, "stackhouse: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  auto log = stackhouse::GetLogger("server");

  // Block the stop signals in every thread (threads inherit the mask) and wait for them here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto server = stackhouse::server::Server::Start(*config, &stackhouse::SystemClock::Instance());
  if (!server.ok()) {
    log->critical("cannot start: {}", server.status().message());
    return 1;
  }
  if (!ports_file.empty() && !WritePortsFile(ports_file, (*server)->grpc_port(),
                                             (*server)->http_port(), (*server)->ui_port())) {
    log->critical("cannot write the ports file {}: {}", ports_file, std::strerror(errno));
    (*server)->Shutdown();
    return 1;
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  log->info("received {}, shutting down (grace period {} s)", strsignal(signal),
            config->network.shutdown_grace_seconds);
  (*server)->Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian builds Abseil without NDEBUG, which turns on Mutex deadlock detection: a lock-order
  // graph update on every lock, measurable on the ingest path. Tests keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stackhouse: fatal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "stackhouse: fatal error\n");
  }
  return 1;
}
