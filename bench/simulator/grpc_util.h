#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace stackhouse::sim {

// A plaintext channel to `target` ("host:port") with its own TCP connection, as each agent
// process has. Thread-safe, like every grpc::Channel.
std::shared_ptr<grpc::Channel> MakeAgentChannel(const std::string& target);

// Readies `context` for one call of a SkyWalking agent: a deadline `timeout_ms` from now, the
// `authentication` metadata when `token` is non-empty, and `agent-version`.
void PrepareContext(grpc::ClientContext* context, const std::string& token, int64_t timeout_ms);

// gRPC's status as an absl::Status with the same code and message.
absl::Status FromGrpcStatus(const grpc::Status& status);

// Logs failed calls for one agent without flooding: the first failure of a method, then at most
// one line per method every 10 s with the number of failures in between. PERMISSION_DENIED is
// reported as a token problem. Thread-compatible.
class CallFailureLog {
 public:
  explicit CallFailureLog(std::string who) : who_(std::move(who)) {}

  void Failed(absl::string_view method, const absl::Status& status, int64_t now_ms);

 private:
  struct PerMethod {
    int64_t last_logged_ms = 0;
    int64_t suppressed = 0;
  };
  std::string who_;
  absl::flat_hash_map<std::string, PerMethod> methods_;
};

}  // namespace stackhouse::sim
