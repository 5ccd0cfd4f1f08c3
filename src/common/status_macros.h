#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define SH_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::absl::Status sh_status_ = (expr);      \
    if (!sh_status_.ok()) return sh_status_; \
  } while (0)

#define SH_CONCAT_INNER_(a, b) a##b
#define SH_CONCAT_(a, b) SH_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, otherwise moves the
// value into `lhs` (which may be a declaration such as `auto x`).
#define SH_ASSIGN_OR_RETURN(lhs, rexpr) \
  SH_ASSIGN_OR_RETURN_IMPL_(SH_CONCAT_(sh_statusor_, __LINE__), lhs, rexpr)

#define SH_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                              \
  if (!statusor.ok()) return statusor.status();         \
  lhs = std::move(statusor).value()
