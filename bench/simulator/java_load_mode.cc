// `stackhouse-sim java-load`: an ingest benchmark. Sends --snapshots ThreadSnapshots of exactly
// --depth frames for --segments segments of one task over --streams concurrent collectSnapshot
// streams (each on its own connection, like separate agents) as fast as the server takes them,
// then prints the rate. Snapshots count as sent only once the server has acknowledged their
// stream, i.e. once they are durable.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/logging.h"
#include "simulator/grpc_util.h"
#include "simulator/java_agent_client.h"
#include "simulator/java_app_model.h"
#include "simulator/java_wire.h"
#include "simulator/load_driver.h"
#include "simulator/modes.h"

namespace stackhouse::sim {
namespace {

// Stacks drawn per stream; messages cycle through them.
constexpr int kStackPool = 64;
constexpr int64_t kDumpPeriodMs = 10;
// A whole stream may carry millions of messages.
constexpr int64_t kStreamTimeoutMs = 30 * 60 * 1000;

// Filters a Spring application may add between Tomcat's valves and its servlet; used to make a
// stack deeper without making it implausible.
constexpr absl::string_view kFillerFilters[] = {
    "org.springframework.web.filter.FormContentFilter.doFilterInternal:93",
    "org.springframework.web.filter.ServerHttpObservationFilter.doFilterInternal:109",
    "org.springframework.boot.actuate.metrics.web.servlet.WebMvcMetricsFilter.doFilterInternal:96",
    "org.springframework.web.filter.ShallowEtagHeaderFilter.doFilterInternal:106",
    "org.springframework.web.filter.ForwardedHeaderFilter.doFilterInternal:156",
};
// Frames [0, kFilterAt) are Tomcat's thread and valves, kept whatever the depth.
constexpr size_t kFilterAt = 16;

// Makes `frames` exactly `depth` long: adds filter frames after Tomcat's valves, or removes
// frames there (from the leaf end when that is not enough).
void FitDepth(std::vector<std::string>* frames, size_t depth) {
  size_t k = 0;
  while (frames->size() < depth) {
    std::vector<std::string> group = {
        "org.apache.catalina.core.ApplicationFilterChain.doFilter:166",
        "org.apache.catalina.core.ApplicationFilterChain.internalDoFilter:206",
        "org.springframework.web.filter.OncePerRequestFilter.doFilter:116",
        std::string(kFillerFilters[k++ % std::size(kFillerFilters)])};
    size_t take = std::min(group.size(), depth - frames->size());
    frames->insert(frames->begin() + static_cast<std::ptrdiff_t>(kFilterAt), group.begin(),
                   group.begin() + static_cast<std::ptrdiff_t>(take));
  }
  size_t excess = frames->size() - depth;
  if (excess > 0 && kFilterAt + excess < frames->size()) {
    frames->erase(frames->begin() + static_cast<std::ptrdiff_t>(kFilterAt),
                  frames->begin() + static_cast<std::ptrdiff_t>(kFilterAt + excess));
  }
  frames->resize(depth);
}

}  // namespace

int RunJavaLoadMode(const std::vector<std::string>& args) {
  CommonFlags common;
  int64_t snapshots = 100'000;
  int64_t depth = 60;
  int64_t streams = 4;
  int64_t segments = 64;
  int64_t batch = 0;
  std::string task_id = "sim-load-task";
  std::string service = "load-svc";
  std::string endpoint = "GET:/orders";
  bool send_segments = true;
  bool coalesce = true;

  FlagSet flags(
      "stackhouse-sim java-load [flags]\n\n"
      "Sends ThreadSnapshots as fast as possible and prints one line on stdout:\n"
      "  snapshots=N streams=K depth=D bytes=B seconds=S rate=R msg/s task=T client_cpu=C "
      "errors=E");
  AddCommonFlags(&flags, &common);
  flags.AddInt("snapshots", &snapshots, "snapshots to send in total");
  flags.AddInt("depth", &depth, "frames per stack");
  flags.AddInt("streams", &streams, "concurrent streams, each on its own connection");
  flags.AddInt("segments", &segments, "distinct segments the snapshots belong to");
  flags.AddInt("batch", &batch,
               "snapshots per collectSnapshot call; 0 = one call per stream for all its share");
  flags.AddString("task-id", &task_id, "task id the snapshots carry");
  flags.AddString("service", &service, "service of the segments sent with --send-segments");
  flags.AddString("endpoint", &endpoint, "entry span of those segments");
  flags.AddBool("send-segments", &send_segments,
                "first report the segments (untimed) so that the snapshots can be analysed; "
                "--send-segments=false to skip");
  flags.AddBool("coalesce", &coalesce,
                "let gRPC batch consecutive messages into one write, as grpc-java's write queue "
                "does; --coalesce=false writes and flushes every message on its own");
  if (int code = ParseModeFlags(&flags, common, args); code >= 0) return code;
  if (snapshots < 0 || depth < 1 || streams < 1 || segments < 1 || batch < 0) {
    std::fputs(
        "stackhouse-sim java-load: --snapshots and --batch must be >= 0, --depth, "
        "--streams and --segments >= 1\n",
        stderr);
    return 2;
  }

  const Clock& clock = SystemClock::Instance();
  auto log = GetLogger("sim");
  Rng rng(EffectiveSeed(common.seed));
  JavaAppModel app(endpoint);
  JavaIdentity identity = MakeJavaIdentity(service, 0, clock.NowMillis(), rng);
  JavaIdGenerator ids(identity.process_id);
  const int64_t base_ms = clock.NowMillis();
  const int64_t per_segment = (snapshots + segments - 1) / segments;

  std::vector<std::string> segment_ids;
  std::vector<skywalking::v3::SegmentObject> segment_objects;
  for (int64_t s = 0; s < segments; ++s) {
    int thread_id = 31 + static_cast<int>(s % 200);
    std::string trace_id = ids.Next(thread_id, base_ms);
    segment_ids.push_back(ids.Next(thread_id, base_ms));
    RequestPlan plan = app.Plan(app.routes()[0], rng);
    plan.duration_ms = per_segment * kDumpPeriodMs + 10;
    segment_objects.push_back(MakeSegment(identity, plan, trace_id, segment_ids.back(), base_ms - 5,
                                          base_ms + plan.duration_ms - 5, rng));
  }
  if (send_segments) {
    JavaAgentClient client(MakeAgentChannel(common.target), common.token, kStreamTimeoutMs);
    if (absl::Status s = client.CollectSegments(segment_objects); !s.ok()) {
      log->error("sending the segments failed: {}", s.ToString());
      return 1;
    }
  }

  // Each stream gets its own pool of stacks (messages are mutated before each write).
  std::vector<std::vector<skywalking::v3::ThreadSnapshot>> pools(static_cast<size_t>(streams));
  for (auto& pool : pools) {
    for (int i = 0; i < kStackPool; ++i) {
      RequestPlan plan = app.Plan(app.routes()[0], rng);
      std::uniform_int_distribution<int64_t> at(0, plan.duration_ms);
      std::vector<std::string> frames = app.Dump(plan, at(rng), rng);
      FitDepth(&frames, static_cast<size_t>(depth));
      skywalking::v3::ThreadSnapshot snapshot;
      snapshot.set_taskid(task_id);
      for (std::string& frame : frames) {
        snapshot.mutable_stack()->add_codesignatures(std::move(frame));
      }
      pool.push_back(std::move(snapshot));
    }
  }

  // Stream k sends messages k, k + streams, ...: message i is sequence i / segments of
  // segment i % segments.
  const StreamLoad load =
      DriveStreams(snapshots, streams, batch, "collectSnapshot", [&](int64_t k) -> StreamCall {
        auto client = std::make_shared<JavaAgentClient>(MakeAgentChannel(common.target),
                                                        common.token, kStreamTimeoutMs);
        return [&, k, client](int64_t done, int64_t count) {
          auto& pool = pools[static_cast<size_t>(k)];
          return client->CollectSnapshots(
              count,
              [&](int64_t j) -> const skywalking::v3::ThreadSnapshot& {
                const int64_t i = k + (done + j) * streams;
                auto& message = pool[static_cast<size_t>(i % kStackPool)];
                const int64_t sequence = i / segments;
                message.set_tracesegmentid(segment_ids[static_cast<size_t>(i % segments)]);
                message.set_sequence(static_cast<int32_t>(sequence));
                message.set_time(base_ms + sequence * kDumpPeriodMs);
                return message;
              },
              coalesce);
        };
      });

  size_t total_bytes = 0;
  for (const auto& pool : pools) {
    for (const auto& message : pool) total_bytes += message.ByteSizeLong();
  }
  const size_t pooled = pools.size() * kStackPool;
  std::printf("%s\n",
              absl::StrFormat("snapshots=%d streams=%d depth=%d bytes=%d seconds=%.3f "
                              "rate=%.0f msg/s task=%s client_cpu=%.2f errors=%d",
                              load.acknowledged, streams, depth, total_bytes / pooled, load.seconds,
                              load.seconds > 0 ? load.acknowledged / load.seconds : 0.0, task_id,
                              load.cpu_seconds, load.errors)
                  .c_str());
  std::fflush(stdout);
  return load.errors == 0 ? 0 : 1;
}

}  // namespace stackhouse::sim
