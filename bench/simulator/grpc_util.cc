#include "simulator/grpc_util.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace stackhouse::sim {
namespace {

// The Java agent version the simulator claims in `agent-version`.
constexpr char kAgentVersion[] = "9.2.0";
constexpr int64_t kRepeatLogIntervalMs = 10'000;

}  // namespace

std::shared_ptr<grpc::Channel> MakeAgentChannel(const std::string& target) {
  grpc::ChannelArguments args;
  // Without this, channels to the same target share one connection.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

void PrepareContext(grpc::ClientContext* context, const std::string& token, int64_t timeout_ms) {
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  if (!token.empty()) context->AddMetadata("authentication", token);
  context->AddMetadata("agent-version", kAgentVersion);
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

void CallFailureLog::Failed(absl::string_view method, const absl::Status& status, int64_t now_ms) {
  PerMethod& m = methods_[method];
  if (m.last_logged_ms != 0 && now_ms - m.last_logged_ms < kRepeatLogIntervalMs) {
    ++m.suppressed;
    return;
  }
  std::string repeats =
      m.suppressed > 0 ? absl::StrCat(" (", m.suppressed, " more failures since last logged)") : "";
  if (status.code() == absl::StatusCode::kPermissionDenied) {
    GetLogger("sim")->error(
        "{}: {} refused with PERMISSION_DENIED: the server does not accept "
        "our authentication token (check --token){}",
        who_, method, repeats);
  } else {
    GetLogger("sim")->warn("{}: {} failed: {}{}", who_, method, status.ToString(), repeats);
  }
  m.last_logged_ms = now_ms;
  m.suppressed = 0;
}

}  // namespace stackhouse::sim
