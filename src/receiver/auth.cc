#include "receiver/auth.h"

#include <openssl/crypto.h>

namespace stackhouse::receiver {

grpc::Status AuthGuard::Check(const grpc::ServerContextBase& context) const {
  if (token_.empty()) return grpc::Status::OK;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authentication");
  if (it == metadata.end()) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "missing authentication token (metadata key 'authentication')");
  }
  const grpc::string_ref& given = it->second;
  // Constant-time comparison so that the token cannot be guessed byte by byte.
  if (given.size() != token_.size() ||
      CRYPTO_memcmp(given.data(), token_.data(), token_.size()) != 0) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "invalid authentication token");
  }
  return grpc::Status::OK;
}

}  // namespace stackhouse::receiver
