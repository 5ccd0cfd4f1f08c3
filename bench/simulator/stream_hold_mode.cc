// `stackhouse-sim stream-hold`: many agents with a client stream open at once. Opens --streams
// collectProfilingData streams spread over --connections connections (each stream sends one
// sample, then waits), measures the server process (--server-pid: its threads and resident
// memory from /proc) and the latency of --unary-calls sequential unary calls (queryTasks) while
// every stream is open, then half-closes them all and counts their statuses. One line on stdout:
//   streams=N connections=C open_seconds=S threads_before=T threads_open=T threads_after=T
//   rss_before_mb=M rss_open_mb=M unary_p50_ms=L unary_p99_ms=L unary_max_ms=L ok=K failed=F
//   (first failure: CODE message)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/logging.h"
#include "ebpf/profiling/Profile.grpc.pb.h"
#include "grpcpp/support/client_callback.h"
#include "simulator/grpc_util.h"
#include "simulator/modes.h"

namespace stackhouse::sim {
namespace {

namespace v3 = skywalking::v3;

// Counts what the streams have done so far. Thread-safe.
class Tally {
 public:
  void Written() {
    absl::MutexLock lock(&mu_);
    ++written_;
    changed_.SignalAll();
  }
  void Done(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    ++done_;
    if (status.ok()) {
      ++ok_;
    } else if (first_failure_.empty()) {
      first_failure_ = absl::StrCat(status.error_code(), " ", status.error_message());
    }
    changed_.SignalAll();
  }
  // Waits until `n` streams have written their message (or ended).
  void AwaitWritten(int64_t n) {
    absl::MutexLock lock(&mu_);
    while (written_ + done_ < n) changed_.Wait(&mu_);
  }
  // Waits until `n` streams have ended.
  void AwaitDone(int64_t n) {
    absl::MutexLock lock(&mu_);
    while (done_ < n) changed_.Wait(&mu_);
  }
  int64_t ok() {
    absl::MutexLock lock(&mu_);
    return ok_;
  }
  std::string first_failure() {
    absl::MutexLock lock(&mu_);
    return first_failure_;
  }

 private:
  absl::Mutex mu_;
  absl::CondVar changed_;
  int64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t done_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t ok_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_failure_ ABSL_GUARDED_BY(mu_);
};

// One held collectProfilingData stream: writes its sample, waits for Close, half-closes.
class HeldStream final : public grpc::ClientWriteReactor<v3::EBPFProfilingData> {
 public:
  HeldStream(v3::EBPFProfilingService::Stub* stub, const std::string& token,
             v3::EBPFProfilingData message, Tally* tally)
      : message_(std::move(message)), tally_(tally) {
    PrepareContext(&context_, token, 24LL * 3600 * 1000);
    stub->async()->collectProfilingData(&context_, &response_, this);
    StartWrite(&message_);
    StartCall();
  }
  void OnWriteDone(bool /*ok*/) override { tally_->Written(); }
  void Close() { StartWritesDone(); }
  void OnDone(const grpc::Status& status) override { tally_->Done(status); }

 private:
  grpc::ClientContext context_;
  v3::Commands response_;
  v3::EBPFProfilingData message_;
  Tally* const tally_;
};

// The server's "Threads" and "VmRSS" (kB) from /proc/<pid>/status; -1 each when unknown.
std::pair<int64_t, int64_t> ServerThreadsAndRss(int64_t pid) {
  std::pair<int64_t, int64_t> out{-1, -1};
  if (pid <= 0) return out;
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) out.first = std::stoll(line.substr(8));
    if (line.rfind("VmRSS:", 0) == 0) out.second = std::stoll(line.substr(6));
  }
  return out;
}

}  // namespace

int RunStreamHoldMode(const std::vector<std::string>& args) {
  CommonFlags common;
  int64_t streams = 5000;
  int64_t connections = 500;
  int64_t unary_calls = 200;
  int64_t server_pid = 0;
  FlagSet flags(
      "stackhouse-sim stream-hold [flags]\n\n"
      "Opens --streams collectProfilingData streams at once (one sample each, then silent),\n"
      "measures the server (--server-pid) and unary-call latency while they are open, then\n"
      "half-closes them and prints one line on stdout:\n"
      "  streams=N connections=C open_seconds=S threads_before=T threads_open=T "
      "threads_after=T rss_before_mb=M rss_open_mb=M unary_p50_ms=L unary_p99_ms=L "
      "unary_max_ms=L ok=K failed=F");
  AddCommonFlags(&flags, &common);
  flags.AddInt("streams", &streams, "client streams held open at once");
  flags.AddInt("connections", &connections, "connections the streams are spread over");
  flags.AddInt("unary-calls", &unary_calls, "sequential queryTasks calls timed while open");
  flags.AddInt("server-pid", &server_pid, "the server's pid, for its threads and memory");
  if (int code = ParseModeFlags(&flags, common, args); code >= 0) return code;
  if (streams < 1 || connections < 1 || connections > streams || unary_calls < 1) {
    std::fputs(
        "stackhouse-sim stream-hold: --streams >= 1, --connections within [1, --streams], "
        "--unary-calls >= 1\n",
        stderr);
    return 2;
  }

  std::vector<std::unique_ptr<v3::EBPFProfilingService::Stub>> stubs;
  for (int64_t c = 0; c < connections; ++c) {
    stubs.push_back(v3::EBPFProfilingService::NewStub(MakeAgentChannel(common.target)));
  }
  const auto [threads_before, rss_before] = ServerThreadsAndRss(server_pid);
  const int64_t now_ms = SystemClock::Instance().NowMillis();
  Tally tally;
  std::vector<std::unique_ptr<HeldStream>> held;
  held.reserve(static_cast<size_t>(streams));
  const auto open_start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < streams; ++i) {
    v3::EBPFProfilingData message;
    auto* task = message.mutable_task();
    task->set_taskid("sim-stream-hold-task");
    task->set_processid(absl::StrCat("sim-stream-hold-process-", i));
    task->set_profilingstarttime(now_ms - 1000);
    task->set_currenttime(now_ms);
    auto* stack = message.mutable_oncpu()->add_stacks();
    stack->set_stacktype(v3::PROCESS_USER_SPACE);
    stack->add_stacksymbols("main");
    stack->add_stacksymbols(absl::StrCat("work_", i % 100));
    message.mutable_oncpu()->set_dumpcount(1);
    held.push_back(std::make_unique<HeldStream>(stubs[static_cast<size_t>(i % connections)].get(),
                                                common.token, std::move(message), &tally));
  }
  tally.AwaitWritten(streams);
  const double open_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - open_start).count();
  // The server has read every first message once it has had a moment; then measure.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const auto [threads_open, rss_open] = ServerThreadsAndRss(server_pid);

  auto unary = v3::EBPFProfilingService::NewStub(MakeAgentChannel(common.target));
  std::vector<double> latencies_ms;
  int64_t unary_failed = 0;
  for (int64_t i = 0; i < unary_calls; ++i) {
    grpc::ClientContext context;
    PrepareContext(&context, common.token, 10'000);
    v3::EBPFProfilingTaskQuery query;
    query.set_roverinstanceid("sim-stream-hold-rover");
    v3::Commands commands;
    const auto start = std::chrono::steady_clock::now();
    grpc::Status status = unary->queryTasks(&context, query, &commands);
    latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
    if (!status.ok()) ++unary_failed;
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto quantile = [&latencies_ms](double q) {
    return latencies_ms[std::min(
        latencies_ms.size() - 1,
        static_cast<size_t>(q * static_cast<double>(latencies_ms.size())))];
  };

  for (auto& stream : held) stream->Close();
  tally.AwaitDone(streams);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const auto [threads_after, rss_after] = ServerThreadsAndRss(server_pid);
  (void)rss_after;
  const int64_t ok = tally.ok();
  std::printf(
      "%s\n",
      absl::StrFormat(
          "streams=%d connections=%d open_seconds=%.2f threads_before=%d threads_open=%d "
          "threads_after=%d rss_before_mb=%.1f rss_open_mb=%.1f unary_p50_ms=%.2f "
          "unary_p99_ms=%.2f unary_max_ms=%.2f unary_failed=%d ok=%d failed=%d%s",
          streams, connections, open_seconds, threads_before, threads_open, threads_after,
          static_cast<double>(rss_before) / 1024.0, static_cast<double>(rss_open) / 1024.0,
          quantile(0.5), quantile(0.99), latencies_ms.back(), unary_failed, ok, streams - ok,
          ok == streams ? "" : absl::StrCat(" (first failure: ", tally.first_failure(), ")"))
          .c_str());
  std::fflush(stdout);
  return ok == streams && unary_failed == 0 ? 0 : 1;
}

}  // namespace stackhouse::sim
