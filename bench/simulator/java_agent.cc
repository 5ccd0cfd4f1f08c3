#include "simulator/java_agent.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/logging.h"
#include "simulator/go_pprof.h"

namespace stackhouse::sim {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
// The Java agent's buffers: profile.snapshot_transport_buffer_size and
// buffer.channel_size * buffer.buffer_size.
constexpr size_t kSnapshotQueueLimit = 500;
constexpr size_t kSegmentQueueLimit = 1500;
constexpr int64_t kSnapshotFlushMs = 500;
constexpr int64_t kSegmentFlushMs = 100;
// reportInstanceProperties every this many heartbeats (collector.properties_report_period_factor).
constexpr int64_t kPropertiesPeriodFactor = 10;

}  // namespace

JavaAgent::JavaAgent(const JavaAgentOptions& options, const JavaAppModel* app, int index,
                     uint64_t seed, std::shared_ptr<grpc::Channel> channel, const Clock* clock,
                     SimStats* stats)
    : options_(options),
      app_(app),
      index_(index),
      name_(absl::StrCat("agent-", index)),
      clock_(clock),
      stats_(stats),
      channel_(std::move(channel)),
      traffic_rng_(seed),
      ids_(""),
      failures_(name_) {
  identity_ = MakeJavaIdentity(options_.service, index_, clock_->NowMillis(), traffic_rng_);
  if (options_.go) identity_.language = "golang";
  ids_ = JavaIdGenerator(identity_.process_id);
  client_ = std::make_unique<JavaAgentClient>(channel_, options_.token, options_.call_timeout_ms);
}

JavaAgent::~JavaAgent() {
  BeginStop();
  Join();
}

void JavaAgent::Start() {
  absl::MutexLock lock(&join_mu_);
  if (traffic_thread_.joinable()) return;
  GetLogger("sim")->info("{}: service {} instance {}", name_, identity_.service,
                         identity_.instance);
  traffic_thread_ = std::thread([this] { TrafficLoop(); });
  reporter_thread_ = std::thread([this] { ReporterLoop(); });
}

void JavaAgent::BeginStop() {
  absl::MutexLock lock(&mu_);
  traffic_stop_ = true;
}

void JavaAgent::Join() {
  absl::MutexLock join_lock(&join_mu_);
  if (traffic_thread_.joinable()) traffic_thread_.join();
  {
    absl::MutexLock lock(&mu_);
    reporter_stop_ = true;
  }
  if (reporter_thread_.joinable()) reporter_thread_.join();
}

void JavaAgent::WaitUntil(int64_t deadline_ms, const bool* flag) {
  absl::Time deadline = deadline_ms == kNever
                            ? absl::InfiniteFuture()
                            : absl::Now() + absl::Milliseconds(deadline_ms - clock_->NowMillis());
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithDeadline(absl::Condition(flag), deadline);
}

// Traffic thread.

void JavaAgent::TrafficLoop() {
  const double rate_per_ms = (options_.primary_rate + options_.other_rate) / 1000.0;
  std::exponential_distribution<double> gap(rate_per_ms > 0 ? rate_per_ms : 1.0);
  auto next_gap = [&] { return std::max<int64_t>(1, std::llround(gap(traffic_rng_))); };

  int64_t next_arrival = rate_per_ms > 0 ? clock_->NowMillis() + next_gap() : kNever;
  std::vector<Request> in_flight;
  while (true) {
    int64_t now = clock_->NowMillis();
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      stopping = traffic_stop_;
    }
    if (stopping) break;
    // After a stall (e.g. a suspended process) restart arrivals instead of bursting.
    if (next_arrival != kNever && now - next_arrival > 1000) next_arrival = now;
    while (next_arrival <= now) {
      in_flight.push_back(StartRequest(now));
      next_arrival += next_gap();
    }
    int64_t wake = next_arrival;
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      int64_t attention = ProfileTick(*it, now);
      if (it->end_ms <= now) {
        FinishRequest(*it, now);
        it = in_flight.erase(it);
        continue;
      }
      wake = std::min({wake, it->end_ms, attention});
      ++it;
    }
    WaitUntil(wake, &traffic_stop_);
  }
  int64_t now = clock_->NowMillis();
  for (Request& request : in_flight) {
    ProfileTick(request, now);
    FinishRequest(request, now);
  }
}

JavaAgent::Request JavaAgent::StartRequest(int64_t now_ms) {
  const double total = options_.primary_rate + options_.other_rate;
  const Route& route =
      app_->PickRoute(total > 0 ? options_.primary_rate / total : 1.0, traffic_rng_);
  Request request;
  request.plan = app_->Plan(route, traffic_rng_);
  request.start_ms = now_ms;
  request.end_ms = now_ms + request.plan.duration_ms;
  // Tomcat's http-nio-8080-exec-N threads have Java thread ids in this range.
  int thread_id = 31 + static_cast<int>(traffic_rng_() % 200);
  request.trace_id = ids_.Next(thread_id, now_ms);
  request.segment_id = ids_.Next(thread_id, now_ms);

  std::optional<ProfileTaskSpec> task = tasks_.ActiveTask(now_ms);
  if (task.has_value() && task->endpoint_name == route.endpoint) {
    TaskProfiling& p = profiling_[task->task_id];
    if (p.parallel < kMaxParallelProfiling && p.sampled < task->max_sampling_count) {
      ++p.parallel;
      // The agent's profiling thread checks its slots every DumpPeriod ms.
      std::uniform_int_distribution<int64_t> phase(0, task->dump_period_ms - 1);
      request.next_dump_ms = now_ms + task->min_duration_threshold_ms + phase(traffic_rng_);
      request.task = std::move(task);
    }
  }
  return request;
}

int64_t JavaAgent::ProfileTick(Request& request, int64_t now_ms) {
  if (!request.task.has_value()) return kNever;
  const ProfileTaskSpec& task = *request.task;
  if (now_ms >= task.EndTimeMs()) {
    ReleaseSlot(request);
    return kNever;
  }
  while (request.next_dump_ms <= now_ms && now_ms < request.end_ms) {
    if (!request.dumping) {
      TaskProfiling& p = profiling_[task.task_id];
      if (p.sampled >= task.max_sampling_count) {
        ReleaseSlot(request);
        return kNever;
      }
      ++p.sampled;
      request.dumping = true;
      GetLogger("sim")->debug("{}: profiling segment {} (trace {}) for task {}", name_,
                              request.segment_id, request.trace_id, task.task_id);
    }
    skywalking::v3::ThreadSnapshot snapshot;
    snapshot.set_taskid(task.task_id);
    snapshot.set_tracesegmentid(request.segment_id);
    snapshot.set_time(now_ms);
    snapshot.set_sequence(request.sequence++);
    for (std::string& frame : app_->Dump(request.plan, now_ms - request.start_ms, traffic_rng_)) {
      snapshot.mutable_stack()->add_codesignatures(std::move(frame));
    }
    Enqueue(std::move(snapshot));
    request.next_dump_ms += task.dump_period_ms;
    if (request.next_dump_ms <= now_ms) request.next_dump_ms = now_ms + task.dump_period_ms;
  }
  return std::min(request.next_dump_ms, task.EndTimeMs());
}

void JavaAgent::ReleaseSlot(Request& request) {
  if (!request.task.has_value()) return;
  --profiling_[request.task->task_id].parallel;
  request.task.reset();
}

void JavaAgent::FinishRequest(Request& request, int64_t now_ms) {
  ReleaseSlot(request);
  int64_t end_ms = std::min(now_ms, request.end_ms);
  Enqueue(MakeSegment(identity_, request.plan, request.trace_id, request.segment_id,
                      request.start_ms, end_ms, traffic_rng_));
  stats_->requests.fetch_add(1);
}

void JavaAgent::Enqueue(skywalking::v3::ThreadSnapshot snapshot) {
  absl::MutexLock lock(&mu_);
  if (snapshot_queue_.size() >= kSnapshotQueueLimit) {
    stats_->dropped.fetch_add(1);
    return;
  }
  snapshot_queue_.push_back(std::move(snapshot));
}

void JavaAgent::Enqueue(skywalking::v3::SegmentObject segment) {
  absl::MutexLock lock(&mu_);
  if (segment_queue_.size() >= kSegmentQueueLimit) {
    stats_->dropped.fetch_add(1);
    return;
  }
  segment_queue_.push_back(std::move(segment));
}

// Reporter thread.

void JavaAgent::ReporterLoop() {
  int64_t now = clock_->NowMillis();
  int64_t next_heartbeat = now;
  int64_t next_poll = now;
  int64_t next_snapshot_flush = now + kSnapshotFlushMs;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (reporter_stop_) break;
    }
    now = clock_->NowMillis();
    if (now >= next_heartbeat) {
      Heartbeat(now);
      next_heartbeat = now + options_.heartbeat_interval_ms;
    }
    if (profiling_enabled_ && now >= next_poll) {
      Poll(now);
      next_poll = now + options_.poll_interval_ms;
    }
    if (now >= next_snapshot_flush) {
      FlushSnapshots(now);
      next_snapshot_flush = now + kSnapshotFlushMs;
    }
    FlushSegments(now);
    std::vector<ProfileTaskSpec> ended = tasks_.TakeEnded(now);
    // A Go task's last samples belong in the profile uploaded now.
    if (options_.go && !ended.empty()) FlushSnapshots(now);
    ReportFinished(ended, now);
    int64_t wake = std::min({next_heartbeat, next_snapshot_flush, now + kSegmentFlushMs});
    if (profiling_enabled_) wake = std::min(wake, next_poll);
    WaitUntil(wake, &reporter_stop_);
  }
  // The traffic thread has ended: everything it produced is queued.
  now = clock_->NowMillis();
  FlushSnapshots(now);
  FlushSegments(now);
  ReportFinished(tasks_.TakeAllUnfinished(), now);
}

void JavaAgent::Heartbeat(int64_t now_ms) {
  bool report_properties = !properties_reported_ || heartbeats_ % kPropertiesPeriodFactor == 0;
  ++heartbeats_;
  if (report_properties) {
    absl::Status s = client_->ReportInstanceProperties(MakeInstanceProperties(identity_));
    properties_reported_ = s.ok();
    if (!s.ok()) CountFailure("ManagementService/reportInstanceProperties", s, now_ms);
    return;
  }
  skywalking::v3::InstancePingPkg ping;
  ping.set_service(identity_.service);
  ping.set_serviceinstance(identity_.instance);
  if (absl::Status s = client_->KeepAlive(ping); !s.ok()) {
    CountFailure("ManagementService/keepAlive", s, now_ms);
  }
}

void JavaAgent::Poll(int64_t now_ms) {
  skywalking::v3::ProfileTaskCommandQuery query;
  query.set_service(identity_.service);
  query.set_serviceinstance(identity_.instance);
  query.set_lastcommandtime(tasks_.last_command_time());
  stats_->polls.fetch_add(1);
  absl::StatusOr<skywalking::v3::Commands> commands = client_->GetProfileTaskCommands(query);
  if (!commands.ok()) {
    if (commands.status().code() == absl::StatusCode::kUnimplemented) {
      // The Java agent gives up on trace profiling for good.
      profiling_enabled_ = false;
      stats_->errors.fetch_add(1);
      GetLogger("sim")->warn("{}: the server does not implement ProfileTask; profiling disabled",
                             name_);
      return;
    }
    CountFailure("ProfileTask/getProfileTaskCommands", commands.status(), now_ms);
    return;
  }
  for (const skywalking::v3::Command& command : commands->commands()) HandleCommand(command);
}

void JavaAgent::InjectCommand(const skywalking::v3::Command& command) { HandleCommand(command); }

void JavaAgent::HandleCommand(const skywalking::v3::Command& command) {
  auto log = GetLogger("sim");
  if (command.command() != "ProfileTaskQuery") {
    log->debug("{}: ignoring command {}", name_, command.command());
    return;
  }
  absl::StatusOr<ProfileTaskSpec> task = ParseProfileTaskCommand(command);
  if (!task.ok()) {
    log->warn("{}: ignoring malformed ProfileTaskQuery: {}", name_, task.status().message());
    return;
  }
  std::string reason;
  switch (tasks_.Offer(*task, &reason)) {
    case TaskBoard::Outcome::kAccepted:
      stats_->AddTask(task->task_id);
      log->info(
          "{}: accepted profiling task {} (endpoint {}, start {}, {} min, threshold {} ms, "
          "dump period {} ms, max {} segments)",
          name_, task->task_id, task->endpoint_name, task->start_time_ms, task->duration_minutes,
          task->min_duration_threshold_ms, task->dump_period_ms, task->max_sampling_count);
      break;
    case TaskBoard::Outcome::kRejected:
      log->warn("{}: rejected profiling task {}: {}", name_, task->task_id, reason);
      break;
    case TaskBoard::Outcome::kDuplicate:
      log->debug("{}: duplicate command {} ignored", name_, task->serial_number);
      break;
  }
}

void JavaAgent::FlushSnapshots(int64_t now_ms) {
  std::vector<skywalking::v3::ThreadSnapshot> batch;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(snapshot_queue_);
  }
  if (batch.empty()) return;
  if (options_.go) {  // kept for the task's profile
    for (auto& dump : batch) go_dumps_[dump.taskid()].push_back(std::move(dump));
    return;
  }
  if (absl::Status s = client_->CollectSnapshots(batch); !s.ok()) {
    CountFailure("ProfileTask/collectSnapshot", s, now_ms);
    return;
  }
  stats_->snapshots.fetch_add(static_cast<int64_t>(batch.size()));
}

void JavaAgent::FlushSegments(int64_t now_ms) {
  std::vector<skywalking::v3::SegmentObject> batch;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(segment_queue_);
  }
  if (batch.empty()) return;
  if (absl::Status s = client_->CollectSegments(batch); !s.ok()) {
    CountFailure("TraceSegmentReportService/collect", s, now_ms);
    return;
  }
  stats_->segments.fetch_add(static_cast<int64_t>(batch.size()));
}

void JavaAgent::ReportFinished(const std::vector<ProfileTaskSpec>& tasks, int64_t now_ms) {
  for (const ProfileTaskSpec& task : tasks) {
    if (auto dumps = go_dumps_.extract(task.task_id); !dumps.empty()) {
      const std::string pprof =
          BuildGoCpuProfile(dumps.mapped(), task.dump_period_ms, task.start_time_ms);
      if (absl::Status s = client_->GoProfileReport(task.task_id, pprof); !s.ok()) {
        CountFailure("ProfileTask/goProfileReport", s, now_ms);
      } else {
        stats_->snapshots.fetch_add(static_cast<int64_t>(dumps.mapped().size()));
        GetLogger("sim")->info("{}: uploaded a {}-byte Go profile of {} samples for task {}", name_,
                               pprof.size(), dumps.mapped().size(), task.task_id);
      }
    }
    skywalking::v3::ProfileTaskFinishReport report;
    report.set_service(identity_.service);
    report.set_serviceinstance(identity_.instance);
    report.set_taskid(task.task_id);
    if (absl::Status s = client_->ReportTaskFinish(report); !s.ok()) {
      CountFailure("ProfileTask/reportTaskFinish", s, now_ms);
      continue;
    }
    GetLogger("sim")->info("{}: reported task {} finished", name_, task.task_id);
  }
}

void JavaAgent::CountFailure(absl::string_view method, const absl::Status& status, int64_t now_ms) {
  stats_->errors.fetch_add(1);
  failures_.Failed(method, status, now_ms);
}

}  // namespace stackhouse::sim
