#include "common/logging.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace stackhouse {
namespace {

struct LoggingState {
  std::mutex mu;
  spdlog::level::level_enum level = spdlog::level::info;
  std::shared_ptr<spdlog::sinks::sink> sink =
      std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
};

LoggingState& State() {
  static auto* state = new LoggingState();
  return *state;
}

bool ParseLevel(const std::string& level, spdlog::level::level_enum* out) {
  static constexpr struct {
    const char* name;
    spdlog::level::level_enum level;
  } kLevels[] = {{"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
                 {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
                 {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
                 {"off", spdlog::level::off}};
  for (const auto& entry : kLevels) {
    if (level == entry.name) {
      *out = entry.level;
      return true;
    }
  }
  return false;
}

}  // namespace

std::shared_ptr<spdlog::logger> GetLogger(const std::string& module) {
  LoggingState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  if (auto existing = spdlog::get(module)) return existing;
  auto logger = std::make_shared<spdlog::logger>(module, state.sink);
  logger->set_level(state.level);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ [%n] %v");
  logger->flush_on(spdlog::level::warn);
  spdlog::register_logger(logger);
  return logger;
}

bool IsValidLogLevel(const std::string& level) {
  spdlog::level::level_enum unused;
  return ParseLevel(level, &unused);
}

absl::Status SetLogLevel(const std::string& level) {
  spdlog::level::level_enum parsed;
  if (!ParseLevel(level, &parsed)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown log level '", level,
                     "' (expected trace, debug, info, warn, error, critical, off)"));
  }
  LoggingState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  state.level = parsed;
  spdlog::apply_all([parsed](const std::shared_ptr<spdlog::logger>& l) { l->set_level(parsed); });
  return absl::OkStatus();
}

}  // namespace stackhouse
