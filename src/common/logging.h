#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "spdlog/logger.h"

namespace stackhouse {

// Returns the named logger of one module ("storage", "grpc", ...), creating it on first use.
// All module loggers share one stderr sink and the level set by SetLogLevel. Thread-safe.
std::shared_ptr<spdlog::logger> GetLogger(const std::string& module);

// Sets the level of every module logger, present and future. `level` is one of trace, debug,
// info, warn, error, critical, off; anything else is InvalidArgument.
absl::Status SetLogLevel(const std::string& level);

// True if `level` names a level SetLogLevel accepts.
bool IsValidLogLevel(const std::string& level);

}  // namespace stackhouse

// Lets loggers format absl::string_view (e.g. absl::Status::message()), which Debian's Abseil
// defines as its own type rather than std::string_view.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename FormatContext>
  auto format(absl::string_view s, FormatContext& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(s.data(), s.size()), ctx);
  }
};
