// `stackhouse-sim rover-load`: an ingest benchmark for eBPF stacks. Sends --messages
// EBPFProfilingData messages over --streams concurrent collectProfilingData streams (each on its
// own connection, like separate Rovers) as fast as the server takes them, then prints the rate.
// Messages count as sent only once the server has acknowledged their stream.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/logging.h"
#include "simulator/grpc_util.h"
#include "simulator/load_driver.h"
#include "simulator/modes.h"
#include "simulator/rover_client.h"
#include "simulator/rover_stacks.h"

namespace stackhouse::sim {
namespace {

// A whole stream may carry millions of messages.
constexpr int64_t kStreamTimeoutMs = 30 * 60 * 1000;

// Makes the stack of `data` exactly `depth` symbols in total (kernel + user, at least one user
// symbol): removes user frames from the middle, or repeats the middle one.
void FitDepth(skywalking::v3::EBPFProfilingData* data, size_t depth) {
  auto* stacks = data->has_oncpu() ? data->mutable_oncpu()->mutable_stacks()
                                   : data->mutable_offcpu()->mutable_stacks();
  size_t kernel = 0;
  skywalking::v3::EBPFProfilingStackMetadata* user = nullptr;
  for (auto& stack : *stacks) {
    if (stack.stacktype() == skywalking::v3::PROCESS_USER_SPACE) {
      user = &stack;
    } else {
      kernel += static_cast<size_t>(stack.stacksymbols_size());
    }
  }
  if (user == nullptr) return;
  size_t want = depth > kernel ? depth - kernel : 1;
  auto* symbols = user->mutable_stacksymbols();
  while (static_cast<size_t>(symbols->size()) > want) {
    symbols->erase(symbols->begin() + symbols->size() / 2);
  }
  while (static_cast<size_t>(symbols->size()) < want) {
    std::string middle = symbols->Get(symbols->size() / 2);
    symbols->Add(std::move(middle));
    // Keep the innermost/outermost frames where they are: move the copy to the middle.
    for (int i = symbols->size() - 1; i > symbols->size() / 2; --i) symbols->SwapElements(i, i - 1);
  }
}

}  // namespace

int RunRoverLoadMode(const std::vector<std::string>& args) {
  CommonFlags common;
  int64_t messages = 1'000'000;
  int64_t streams = 4;
  int64_t pool_size = 500;
  int64_t depth = 30;
  int64_t batch = 0;
  std::string target_type = "ON_CPU";
  std::string task_id = "sim-rover-load-task";
  std::string process_id = "sim-rover-load-process";
  bool coalesce = true;

  FlagSet flags(
      "stackhouse-sim rover-load [flags]\n\n"
      "Sends EBPFProfilingData messages (one stack each, drawn from a fixed pool of realistic\n"
      "Java, Go and Envoy stacks) as fast as possible over concurrent collectProfilingData\n"
      "streams and prints one line on stdout:\n"
      "  messages=N streams=K stacks=P depth=D bytes=B seconds=S rate=R msg/s client_cpu=C "
      "errors=E");
  AddCommonFlags(&flags, &common);
  flags.AddInt("messages", &messages, "messages to send in total");
  flags.AddInt("streams", &streams, "concurrent streams, each on its own connection");
  flags.AddInt("stacks", &pool_size, "distinct stacks in the pool the messages cycle through");
  flags.AddInt("depth", &depth, "symbols per message (kernel + user stack)");
  flags.AddInt("batch", &batch,
               "messages per collectProfilingData call (Rover: one call per flush); "
               "0 = one call per stream for all its share");
  flags.AddString("target-type", &target_type,
                  "ON_CPU (dumpCount) or OFF_CPU (switchCount + duration)");
  flags.AddString("task-id", &task_id, "task id of the task metadata");
  flags.AddString("process-id", &process_id, "process id of the task metadata");
  flags.AddBool("coalesce", &coalesce,
                "let gRPC batch consecutive messages into one write, as grpc-go does for Rover; "
                "--coalesce=false writes and flushes every message on its own");
  if (int code = ParseModeFlags(&flags, common, args); code >= 0) return code;
  if (messages < 0 || streams < 1 || streams > 1024 || pool_size < 3 || depth < 1 || batch < 0 ||
      (target_type != "ON_CPU" && target_type != "OFF_CPU")) {
    std::fputs(
        "stackhouse-sim rover-load: --messages and --batch must be >= 0, --streams within "
        "[1, 1024], --stacks >= 3, --depth >= 1, --target-type ON_CPU or OFF_CPU\n",
        stderr);
    return 2;
  }

  const EbpfTarget ebpf_target = target_type == "ON_CPU" ? EbpfTarget::kOnCpu : EbpfTarget::kOffCpu;
  uint64_t seed = EffectiveSeed(common.seed);
  std::vector<skywalking::v3::EBPFProfilingData> pool;
  size_t total_bytes = 0;
  {
    const ProcessKind kinds[] = {ProcessKind::kJava, ProcessKind::kGo, ProcessKind::kEnvoy};
    int per_kind = static_cast<int>((pool_size + 2) / 3);
    for (size_t k = 0; k < std::size(kinds); ++k) {
      StackModel model(kinds[k], ebpf_target, per_kind, DeriveSeed(seed, k));
      for (size_t i = 0; i < model.stacks().size(); ++i) {
        if (static_cast<int64_t>(pool.size()) >= pool_size) break;
        pool.push_back(model.Message(i, 1, 1));
        FitDepth(&pool.back(), static_cast<size_t>(depth));
      }
    }
    for (const auto& message : pool) total_bytes += message.ByteSizeLong();
  }
  const int64_t base_ms = SystemClock::Instance().NowMillis();

  const StreamLoad load =
      DriveStreams(messages, streams, batch, "collectProfilingData", [&](int64_t k) -> StreamCall {
        // Each stream on its own connection, with its own copy of the pool (messages are
        // mutated before each write).
        struct Stream {
          Stream(const std::string& target, const std::string& token,
                 const std::vector<skywalking::v3::EBPFProfilingData>& pool)
              : client(MakeAgentChannel(target), token, kStreamTimeoutMs), local(pool) {}
          RoverClient client;
          std::vector<skywalking::v3::EBPFProfilingData> local;
          skywalking::v3::EBPFProfilingData first;
        };
        auto stream = std::make_shared<Stream>(common.target, common.token, pool);
        return [&, k, stream](int64_t done, int64_t count) {
          const int64_t now_ms = SystemClock::Instance().NowMillis();
          return stream->client.CollectProfilingData(
              count,
              [&](int64_t j) -> const skywalking::v3::EBPFProfilingData& {
                const int64_t i = k + (done + j) * streams;
                auto& message = stream->local[static_cast<size_t>(i) % stream->local.size()];
                const int32_t delta = 1 + static_cast<int32_t>(i % 7);
                if (message.has_oncpu()) {
                  message.mutable_oncpu()->set_dumpcount(delta);
                } else {
                  message.mutable_offcpu()->set_switchcount(delta);
                  message.mutable_offcpu()->set_duration(delta * 1'250'000LL);
                }
                if (j > 0) return message;
                stream->first = message;
                auto* task = stream->first.mutable_task();
                task->set_taskid(task_id);
                task->set_processid(process_id);
                task->set_profilingstarttime(base_ms);
                task->set_currenttime(now_ms);
                return stream->first;
              },
              coalesce);
        };
      });

  std::printf("%s\n",
              absl::StrFormat(
                  "messages=%d streams=%d stacks=%d depth=%d bytes=%d seconds=%.3f "
                  "rate=%.0f msg/s client_cpu=%.2f errors=%d",
                  load.acknowledged, streams, pool.size(), depth,
                  pool.empty() ? 0 : total_bytes / pool.size(), load.seconds,
                  load.seconds > 0 ? static_cast<double>(load.acknowledged) / load.seconds : 0.0,
                  load.cpu_seconds, load.errors)
                  .c_str());
  std::fflush(stdout);
  return load.errors == 0 ? 0 : 1;
}

}  // namespace stackhouse::sim
