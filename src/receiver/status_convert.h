#pragma once

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace stackhouse::receiver {

// The one translation of absl::Status to grpc::Status (same canonical codes).
inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace stackhouse::receiver
