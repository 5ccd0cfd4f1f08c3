// `stackhouse-sim meter-load`: an ingest benchmark for Rover's meters. Registers --processes
// processes (reportProcesses, as one Rover would), then sends MeterDataCollection messages of
// at most --per-message samples each, cut from the processes' RoverMeterModel reports, over
// --streams concurrent collectBatch streams (each on its own connection) as fast as the server
// takes them, and prints the rate in samples/s. The reports go in rounds, each process once per
// round, stamped 5 s apart (the last round now), so each row is updated once per report. Samples
// count once the server has acknowledged their call.
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
// Rover's meter report interval (and the model's).
constexpr int64_t kReportIntervalMs = 5'000;

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

// One round of reports: every process's report cut into messages of at most `per_message`
// samples (each sample once, as Rover sends it), each a data set of its own whose first element
// carries the service and instance; the sender stamps the time of the round.
std::vector<v3::MeterDataCollection> MessagePool(const std::vector<MeterProcess>& processes,
                                                 const RoverMeterModel& model,
                                                 int64_t per_message) {
  std::vector<v3::MeterDataCollection> pool;
  for (size_t i = 0; i < processes.size(); ++i) {
    v3::MeterDataCollection report = model.Report(processes, i, 0, 0);
    const int64_t n = report.meterdata_size();
    for (int64_t begin = 0; begin < n; begin += per_message) {
      v3::MeterDataCollection message;
      for (int64_t j = begin; j < std::min(n, begin + per_message); ++j) {
        v3::MeterData* d = message.add_meterdata();
        *d = report.meterdata(static_cast<int>(j));
        d->clear_service();
        d->clear_serviceinstance();
        d->clear_timestamp();
      }
      v3::MeterData* first = message.mutable_meterdata(0);
      first->set_service(processes[i].service);
      first->set_serviceinstance(processes[i].instance);
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
      "MeterDataCollection messages of at most --per-message samples each, in rounds stamped\n"
      "5 s apart (one report per process each), as fast as possible over concurrent\n"
      "collectBatch streams, and prints one line on stdout:\n"
      "  samples=N messages=M streams=K per_message=S processes=P bytes=B seconds=.. "
      "rate=R samples/s client_cpu=C errors=E");
  AddCommonFlags(&flags, &common);
  flags.AddInt("samples", &samples,
               "samples (MeterData elements) to send in total, rounded up to whole rounds");
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
  const RoverMeterModel model(DeriveSeed(seed, 1), kReportIntervalMs);
  const std::vector<v3::MeterDataCollection> pool = MessagePool(*registered, model, per_message);
  size_t total_bytes = 0;
  int64_t pool_samples = 0;
  for (const auto& message : pool) {
    total_bytes += message.ByteSizeLong();
    pool_samples += message.meterdata_size();
  }

  // Whole rounds: every process reports once per round, as Rover does every interval; round r
  // is stamped `first_round_ms + r * interval`, so that the last round is stamped now and no
  // row is updated twice with one time (what folding identical rows would profit from).
  const int64_t rounds = std::max<int64_t>(1, (samples + pool_samples - 1) / pool_samples);
  const int64_t messages = rounds * static_cast<int64_t>(pool.size());
  const int64_t first_round_ms =
      SystemClock::Instance().NowMillis() - (rounds - 1) * kReportIntervalMs;
  const StreamLoad load =
      DriveStreams(messages, streams, batch, "collectBatch", [&](int64_t k) -> StreamCall {
        auto client = std::make_shared<RoverClient>(MakeAgentChannel(common.target), common.token,
                                                    kStreamTimeoutMs);
        auto message = std::make_shared<v3::MeterDataCollection>();
        return [&, k, client, message](int64_t done, int64_t count) {
          return client->CollectMeterBatch(
              count,
              [&](int64_t j) -> const v3::MeterDataCollection& {
                const int64_t i = k + (done + j) * streams;
                const int64_t round = i / static_cast<int64_t>(pool.size());
                *message = pool[static_cast<size_t>(i) % pool.size()];
                message->mutable_meterdata(0)->set_timestamp(first_round_ms +
                                                             round * kReportIntervalMs);
                return *message;
              },
              coalesce);
        };
      });

  // Every message is acknowledged unless there were errors; then the average message counts.
  const int64_t sent = load.acknowledged == messages
                           ? rounds * pool_samples
                           : load.acknowledged * pool_samples / static_cast<int64_t>(pool.size());
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
