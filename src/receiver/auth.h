#pragma once

#include <string>

#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace stackhouse::receiver {

// The agents' shared-secret check (grpc-protocol.md §1.3): when a token is configured, every
// call must carry metadata `authentication` equal to it, otherwise PERMISSION_DENIED and the
// call is not processed. Every receiver handler starts with Check. Thread-safe (immutable).
class AuthGuard {
 public:
  // An empty `token` disables the check.
  explicit AuthGuard(std::string token) : token_(std::move(token)) {}

  // OK, or PERMISSION_DENIED when the token is missing or different.
  grpc::Status Check(const grpc::ServerContextBase& context) const;

  bool enabled() const { return !token_.empty(); }

 private:
  const std::string token_;
};

}  // namespace stackhouse::receiver
