// `stackhouse-sim meter-load`: an ingest benchmark for Rover's meters. Registers --processes
// processes (reportProcesses, as one Rover would), then sends MeterDataCollection messages of
// --per-message samples each, cut from the processes' RoverMeterModel reports, over --streams
// concurrent collectBatch streams (each on its own connection) as fast as the server takes
// them, and prints the rate in samples/s. Samples count once the server has acknowledged their
// call.
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
#include "simulator/rover_meters.h"
#include "simulator/rover_process.h"

namespace stackhouse::sim {
namespace {

namespace v3 = skywalking::v3;

constexpr int64_t kStreamTimeoutMs = 30 * 60 * 1000;

// The processes of `discovery`, registered with the server at `target` (each process under its
// first entity the server matched), or with made-up 64-hex ids when `target` is empty.
absl::StatusOr<std::vector<MeterProcess>> RegisterProcesses(const RoverDiscoveryOptions& discovery,
                                                            uint64_t seed,
                                                            const std::string& target,
                                                            const std::string& token) {
  Rng rng(seed);
  RoverProcessRegistry registry(DiscoverProcesses(discovery, rng), "sim-meter-load-rover",
                                "10.0.0.1");
  if (!target.empty()) {
    RoverClient client(MakeAgentChannel(target), token, 60'000);
    RoverProcessRegistry::Round round = registry.NextRound();
    absl::StatusOr<v3::EBPFReportProcessDownstream> reply =
        client.ReportProcesses(round.report_list);
    if (!reply.ok()) return reply.status();
    registry.ApplyReport(round, *reply);
  }
  std::vector<MeterProcess> out;
  std::vector<bool> seen(registry.processes().size(), false);
  for (const auto& entry : registry.entries()) {
    if (seen[entry.process]) continue;
    if (!target.empty() && entry.status != RoverProcessRegistry::Status::kRegistered) continue;
    seen[entry.process] = true;
    const RoverEntity& e = registry.processes()[entry.process].entities[entry.entity];
    std::string id = entry.id;
    if (target.empty()) {
      id = absl::StrFormat("%016x%016x%016x%016x", DeriveSeed(seed, entry.process * 4),
                           DeriveSeed(seed, entry.process * 4 + 1),
                           DeriveSeed(seed, entry.process * 4 + 2),
                           DeriveSeed(seed, entry.process * 4 + 3));
    }
    out.push_back({entry.process, std::move(id), e.service, e.instance, e.process, e.layer});
  }
  return out;
}

// Every process's report cut into messages of exactly `per_message` samples (a report shorter
// than that is repeated), each a data set of its own: the first element carries the service,
// instance and time.
std::vector<v3::MeterDataCollection> MessagePool(const std::vector<MeterProcess>& processes,
                                                 const RoverMeterModel& model, int64_t per_message,
                                                 int64_t now_ms) {
  std::vector<v3::MeterDataCollection> pool;
  for (size_t i = 0; i < processes.size(); ++i) {
    v3::MeterDataCollection report = model.Report(processes, i, 0, now_ms);
    const int64_t n = report.meterdata_size();
    const int64_t messages = std::max<int64_t>(1, (n + per_message - 1) / per_message);
    for (int64_t m = 0; m < messages; ++m) {
      v3::MeterDataCollection message;
      for (int64_t j = 0; j < per_message; ++j) {
        v3::MeterData* d = message.add_meterdata();
        *d = report.meterdata(static_cast<int>((m * per_message + j) % n));
        d->clear_service();
        d->clear_serviceinstance();
        d->clear_timestamp();
      }
      v3::MeterData* first = message.mutable_meterdata(0);
      first->set_service(processes[i].service);
      first->set_serviceinstance(processes[i].instance);
      first->set_timestamp(now_ms);
      pool.push_back(std::move(message));
    }
  }
  return pool;
}

}  // namespace

int RunMeterLoadMode(const std::vector<std::string>& args) {
  CommonFlags common;
  int64_t samples = 2'000'000;
  int64_t streams = 4;
  int64_t per_message = 100;
  int64_t batch = 0;
  int64_t processes = 100;
  bool register_processes = true;
  bool coalesce = true;

  FlagSet flags(
      "stackhouse-sim meter-load [flags]\n\n"
      "Registers processes as one Rover would (reportProcesses), then sends their continuous-\n"
      "and network-profiling meters (RoverMeterModel, as `rover` reports them) in\n"
      "MeterDataCollection messages of --per-message samples each, as fast as possible over\n"
      "concurrent collectBatch streams, and prints one line on stdout:\n"
      "  samples=N messages=M streams=K per_message=S processes=P bytes=B seconds=.. "
      "rate=R samples/s client_cpu=C errors=E");
  AddCommonFlags(&flags, &common);
  flags.AddInt("samples", &samples, "samples (MeterData elements) to send in total");
  flags.AddInt("streams", &streams, "concurrent streams, each on its own connection");
  flags.AddInt("per-message", &per_message, "samples per MeterDataCollection (one data set)");
  flags.AddInt("batch", &batch,
               "messages per collectBatch call; 0 = one call per stream for all its share");
  flags.AddInt("processes", &processes,
               "processes whose meters are sent (mesh pods: application + Envoy)");
  flags.AddBool("register", &register_processes,
                "register the processes first (the server drops meters naming unknown ones); "
                "--register=false makes up their ids (for a server without EBPFProcessService)");
  flags.AddBool("coalesce", &coalesce,
                "let gRPC batch consecutive messages into one write, as grpc-go does for Rover");
  if (int code = ParseModeFlags(&flags, common, args); code >= 0) return code;
  if (samples < 0 || streams < 1 || streams > 1024 || per_message < 1 || batch < 0 ||
      processes < 1 || processes > 10'000) {
    std::fputs(
        "stackhouse-sim meter-load: --samples and --batch must be >= 0, --streams within "
        "[1, 1024], --per-message >= 1, --processes within [1, 10000]\n",
        stderr);
    return 2;
  }

  const uint64_t seed = EffectiveSeed(common.seed);
  RoverDiscoveryOptions discovery;
  discovery.processes = static_cast<int>(processes);
  absl::StatusOr<std::vector<MeterProcess>> registered =
      RegisterProcesses(discovery, seed, register_processes ? common.target : "", common.token);
  if (!registered.ok()) {
    std::fprintf(stderr, "stackhouse-sim meter-load: reportProcesses failed: %s\n",
                 registered.status().ToString().c_str());
    return 1;
  }
  if (registered->empty()) {
    std::fputs("stackhouse-sim meter-load: the server registered none of the processes\n", stderr);
    return 1;
  }
  const RoverMeterModel model(DeriveSeed(seed, 1), 5'000);
  const std::vector<v3::MeterDataCollection> pool =
      MessagePool(*registered, model, per_message, SystemClock::Instance().NowMillis());
  size_t total_bytes = 0;
  for (const auto& message : pool) total_bytes += message.ByteSizeLong();

  const int64_t messages = (samples + per_message - 1) / per_message;
  const StreamLoad load =
      DriveStreams(messages, streams, batch, "collectBatch", [&](int64_t k) -> StreamCall {
        auto client = std::make_shared<RoverClient>(MakeAgentChannel(common.target), common.token,
                                                    kStreamTimeoutMs);
        return [&, k, client](int64_t done, int64_t count) {
          return client->CollectMeterBatch(
              count,
              [&](int64_t j) -> const v3::MeterDataCollection& {
                const int64_t i = k + (done + j) * streams;
                return pool[static_cast<size_t>(i) % pool.size()];
              },
              coalesce);
        };
      });

  const int64_t sent = load.acknowledged * per_message;
  std::printf("%s\n", absl::StrFormat(
                          "samples=%d messages=%d streams=%d per_message=%d processes=%d bytes=%d "
                          "seconds=%.3f rate=%.0f samples/s client_cpu=%.2f errors=%d",
                          sent, load.acknowledged, streams, per_message, registered->size(),
                          total_bytes / pool.size(), load.seconds,
                          load.seconds > 0 ? static_cast<double>(sent) / load.seconds : 0.0,
                          load.cpu_seconds, load.errors)
                          .c_str());
  std::fflush(stdout);
  return load.errors == 0 ? 0 : 1;
}

}  // namespace stackhouse::sim
