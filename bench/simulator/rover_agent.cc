#include "simulator/rover_agent.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/logging.h"
#include "simulator/modes.h"
#include "simulator/stop_signal.h"

namespace stackhouse::sim {
namespace {

// Rover's ON_CPU dump period (profiling.task.on_cpu.dump_period): one sample per busy core.
constexpr double kOnCpuSamplesPerCoreSecond = 1000.0 / 9;
constexpr int64_t kMaxSleepMs = 50;
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// The next time of a periodic action that was due at `due`: one interval later, or one interval
// from now after a stall.
int64_t Advance(int64_t due, int64_t interval, int64_t now) {
  int64_t next = due + interval;
  return next <= now ? now + interval : next;
}

}  // namespace

RoverAgent::RoverAgent(const RoverAgentOptions& options, RoverProcessRegistry registry,
                       uint64_t seed, std::shared_ptr<grpc::Channel> channel, const Clock* clock)
    : options_(options),
      clock_(clock),
      name_(absl::StrCat("rover ", registry.agent_id().substr(0, 8))),
      registry_(std::move(registry)),
      client_(channel, options.token, options.call_timeout_ms),
      rng_(seed),
      seed_(seed),
      meters_(DeriveSeed(seed, ~1ull), options.meter_interval_ms),
      load_(DeriveSeed(seed, ~2ull), options.burst_every_ms, options.burst_ms),
      checker_({options.continuous_task_duration_s, options.continuous_silence_ms},
               [this](const ContinuousProcess& p, MonitorType type, absl::string_view uri,
                      int64_t second) { return load_.Value(p.key, type, uri, second); }),
      network_model_(DeriveSeed(seed, ~3ull), options.network_interval_ms, options.network_shape),
      network_client_(channel, options.token, options.call_timeout_ms),
      failures_(name_),
      fake_task_pending_(!options.fake_task.empty()) {}

void RoverAgent::Run(int64_t run_for_ms) {
  int64_t now = clock_->NowMillis();
  const int64_t deadline = run_for_ms > 0 ? now + run_for_ms : kNever;
  int64_t next_heartbeat = now;
  int64_t next_check = now;
  int64_t next_flush = now + options_.flush_interval_ms;
  int64_t next_meters = options_.meter_interval_ms > 0 ? now + options_.meter_interval_ms : kNever;
  int64_t next_continuous =
      options_.continuous ? now + options_.continuous_check_interval_ms : kNever;
  int64_t next_network =
      options_.network_interval_ms > 0 ? now + options_.network_interval_ms : kNever;
  while (!StopRequested() && now < deadline) {
    if (now >= next_heartbeat) {
      Heartbeat(now);
      next_heartbeat = Advance(next_heartbeat, options_.heartbeat_interval_ms, now);
    }
    if (fake_task_pending_) InjectFakeTask(now);
    if (now >= next_check) {
      CheckTasks(now);
      if (options_.continuous) CheckPolicies(now);
      next_check = Advance(next_check, options_.check_interval_ms, now);
    }
    if (int started = board_.StartDue(now); started > 0) {
      GetLogger("sim")->info("{}: {} profiling task(s) started", name_, started);
    }
    if (now >= next_flush) {
      Flush(now);
      next_flush = Advance(next_flush, options_.flush_interval_ms, now);
    }
    if (now >= next_meters) {
      ReportMeters(now);
      next_meters = Advance(next_meters, options_.meter_interval_ms, now);
    }
    if (now >= next_continuous) {
      CheckContinuous(now);
      next_continuous = Advance(next_continuous, options_.continuous_check_interval_ms, now);
    }
    if (now >= next_network) {
      ReportNetwork(now);
      next_network = Advance(next_network, options_.network_interval_ms, now);
    }
    int64_t wake = std::min({next_heartbeat, next_check, next_flush, next_meters, next_continuous,
                             next_network, deadline});
    if (int64_t start = board_.NextStartMs(); start >= 0) wake = std::min(wake, start);
    absl::SleepFor(absl::Milliseconds(std::clamp<int64_t>(wake - now, 0, kMaxSleepMs)));
    now = clock_->NowMillis();
  }
  if (!board_.empty()) Flush(clock_->NowMillis());
}

void RoverAgent::Heartbeat(int64_t now_ms) {
  auto log = GetLogger("sim");
  RoverProcessRegistry::Round round = registry_.NextRound();
  if (!round.report.empty()) {
    absl::StatusOr<skywalking::v3::EBPFReportProcessDownstream> reply =
        client_.ReportProcesses(round.report_list);
    if (!reply.ok()) {
      CountFailure("EBPFProcessService/reportProcesses", reply.status(), now_ms);
    } else {
      int before = registry_.registered();
      registry_.ApplyReport(round, *reply);
      for (size_t i : round.report) {
        const auto& entry = registry_.entries()[i];
        const RoverProcess& p = registry_.processes()[entry.process];
        const RoverEntity& e = p.entities[entry.entity];
        if (entry.status == RoverProcessRegistry::Status::kIgnored) {
          log->warn(
              "{}: could not find the process id from upstream, pid: {}, entity: {} {} {} "
              "{} [{}]: ignored from now on",
              name_, p.pid, e.layer, e.service, e.instance, e.process,
              absl::StrJoin(e.labels, " "));
        } else {
          log->debug("{}: process pid {} {} ({}) has id {}", name_, p.pid, e.process, e.layer,
                     entry.id);
        }
      }
      if (registry_.registered() != before) {
        log->info("{}: {} of {} process entities registered", name_, registry_.registered(),
                  registry_.entries().size());
      }
    }
  }
  if (round.ping_list.processes_size() > 0) {
    if (absl::Status s = client_.KeepAlive(round.ping_list); !s.ok()) {
      CountFailure("EBPFProcessService/keepAlive", s, now_ms);
    }
  }
}

void RoverAgent::CheckTasks(int64_t now_ms) {
  skywalking::v3::EBPFProfilingTaskQuery query;
  query.set_roverinstanceid(registry_.agent_id());
  query.set_latestupdatetime(board_.latest_update_time());
  ++stats_.polls;
  absl::StatusOr<skywalking::v3::Commands> reply = client_.QueryTasks(query);
  if (!reply.ok()) {
    CountFailure("EBPFProfilingService/queryTasks", reply.status(), now_ms);
    return;
  }
  for (const auto& command : reply->commands()) HandleCommand(command, now_ms);
}

void RoverAgent::HandleCommand(const skywalking::v3::Command& command, int64_t now_ms) {
  auto log = GetLogger("sim");
  RoverTaskBoard::OfferResult result = board_.Offer(
      command, [this](const std::string& id) { return registry_.Find(id) != nullptr; }, now_ms);
  const EbpfTaskSpec& spec = result.spec;
  switch (result.outcome) {
    case RoverTaskBoard::Outcome::kStarted:
    case RoverTaskBoard::Outcome::kReplaced:
      stats_.tasks.insert(spec.task_id);
      log->info("{}: received {} profiling task {} for process {} (start {}, {} s){}", name_,
                EbpfTargetName(spec.target), spec.task_id, spec.process_ids.front(),
                spec.start_time_ms, spec.duration_s,
                result.outcome == RoverTaskBoard::Outcome::kReplaced
                    ? ", replacing the task running on that process"
                    : "");
      break;
    case RoverTaskBoard::Outcome::kExtended:
      log->info("{}: received the same task {} again, duration now {} s", name_, spec.task_id,
                spec.duration_s);
      break;
    case RoverTaskBoard::Outcome::kNetwork:
      stats_.tasks.insert(spec.task_id);
      log->info("{}: NETWORK task {} {} for {} process(es) (start {}, {} s)", name_, spec.task_id,
                network_.Offer(spec), spec.process_ids.size(), spec.start_time_ms, spec.duration_s);
      break;
    case RoverTaskBoard::Outcome::kExpired:
      log->info("{}: {}", name_, result.reason);
      break;
    case RoverTaskBoard::Outcome::kRejected:
      log->warn("{}: could not execute task, ignored: {}", name_, result.reason);
      break;
  }
}

void RoverAgent::InjectFakeTask(int64_t now_ms) {
  const RoverProcessRegistry::Entry* first = nullptr;
  for (const auto& entry : registry_.entries()) {
    if (entry.status == RoverProcessRegistry::Status::kRegistered) {
      first = &entry;
      break;
    }
  }
  if (first == nullptr) return;
  fake_task_pending_ = false;
  EbpfTaskSpec spec;
  spec.task_id = absl::StrCat("sim-fake-task-", now_ms);
  spec.process_ids = {first->id};
  spec.update_time_ms = 0;  // keeps latestUpdateTime where the server put it
  spec.target = options_.fake_task == "OFF_CPU" ? EbpfTarget::kOffCpu : EbpfTarget::kOnCpu;
  spec.start_time_ms = now_ms;
  spec.duration_s = options_.fake_task_duration_s;
  HandleCommand(MakeEbpfTaskCommand(spec), now_ms);
}

const StackModel& RoverAgent::ModelFor(size_t process, EbpfTarget target) {
  auto& model = models_[{process, target}];
  if (model == nullptr) {
    uint64_t seed = DeriveSeed(seed_, process * 2 + (target == EbpfTarget::kOffCpu ? 1 : 0));
    model = std::make_unique<StackModel>(registry_.processes()[process].kind, target,
                                         options_.distinct_stacks, seed);
  }
  return *model;
}

void RoverAgent::Flush(int64_t now_ms) {
  if (board_.empty()) return;
  std::vector<skywalking::v3::EBPFProfilingData> data;
  int64_t events = 0;
  for (RoverTaskBoard::Task* task : board_.TakeFlushable(now_ms)) {
    const EbpfTaskSpec& spec = task->spec;
    int64_t until = std::min(now_ms, task->StopMs());
    int64_t elapsed_ms = until - task->sampled_until_ms;
    const RoverProcessRegistry::Entry* entry = registry_.Find(spec.process_ids.front());
    if (elapsed_ms <= 0 || entry == nullptr) continue;
    task->sampled_until_ms = until;
    const RoverProcess& process = registry_.processes()[entry->process];
    double rate = spec.target == EbpfTarget::kOnCpu ? process.cpu_cores * kOnCpuSamplesPerCoreSecond
                                                    : process.switches_per_s;
    double mean = rate * static_cast<double>(elapsed_ms) / 1000.0;
    int64_t draws = mean > 0 ? std::poisson_distribution<int64_t>(mean)(rng_) : 0;
    size_t first = data.size();
    events += ModelFor(entry->process, spec.target).Sample(draws, rng_, &data);
    if (data.size() == first) continue;
    auto* meta = data[first].mutable_task();
    meta->set_taskid(spec.task_id);
    meta->set_processid(spec.process_ids.front());
    meta->set_profilingstarttime(task->started_ms);
    meta->set_currenttime(now_ms);
  }
  // Rover opens the stream whenever it holds tasks, even with nothing to send.
  if (absl::Status s = client_.CollectProfilingData(data); !s.ok()) {
    CountFailure("EBPFProfilingService/collectProfilingData", s, now_ms);
  } else if (!data.empty()) {
    ++stats_.uploads;
    stats_.messages += static_cast<int64_t>(data.size());
    stats_.samples += events;
    GetLogger("sim")->debug("{}: sent {} stacks ({} samples)", name_, data.size(), events);
  }
  for (const RoverTaskBoard::Task& task : board_.FinishFlush()) {
    GetLogger("sim")->info("{}: profiling task {} finished after {} s", name_, task.spec.task_id,
                           (task.sampled_until_ms - task.started_ms) / 1000);
  }
}

std::vector<MeterProcess> RoverAgent::RegisteredProcesses() const {
  std::vector<MeterProcess> processes;
  std::vector<bool> seen(registry_.processes().size(), false);
  for (const auto& entry : registry_.entries()) {
    if (entry.status != RoverProcessRegistry::Status::kRegistered || seen[entry.process]) continue;
    seen[entry.process] = true;
    const RoverEntity& e = registry_.processes()[entry.process].entities[entry.entity];
    processes.push_back({entry.process, entry.id, e.service, e.instance, e.process, e.layer});
  }
  return processes;
}

void RoverAgent::ReportMeters(int64_t now_ms) {
  // The meter interval carries the continuous-profiling meters only; with `continuous`, the
  // ContinuousChecker reports those it watches at its own interval instead.
  if (options_.continuous) return;
  std::vector<MeterProcess> processes = RegisteredProcesses();
  if (processes.empty()) return;
  const int64_t round = meter_round_++;
  std::vector<skywalking::v3::MeterDataCollection> reports;
  int64_t samples = 0;
  for (size_t i = 0; i < processes.size(); ++i) {
    reports.push_back(meters_.Report(processes, i, round, now_ms));
    KeepMeters(&reports.back(), false);  // network meters follow a NETWORK task
    samples += reports.back().meterdata_size();
  }
  absl::Status s =
      client_.CollectMeterBatch(static_cast<int64_t>(reports.size()),
                                [&](int64_t i) -> const skywalking::v3::MeterDataCollection& {
                                  return reports[static_cast<size_t>(i)];
                                });
  if (!s.ok()) {
    CountFailure("MeterReportService/collectBatch", s, now_ms);
    return;
  }
  ++stats_.meter_reports;
  stats_.meter_samples += samples;
  GetLogger("sim")->debug("{}: sent {} meters of {} processes", name_, samples, processes.size());
}

void RoverAgent::CheckPolicies(int64_t now_ms) {
  std::vector<std::string> services;
  for (const MeterProcess& p : RegisteredProcesses()) services.push_back(p.service);
  if (services.empty()) return;
  ++stats_.policy_polls;
  absl::StatusOr<skywalking::v3::Commands> reply = client_.QueryPolicies(policies_.Query(services));
  if (!reply.ok()) {
    CountFailure("ContinuousProfilingService/queryPolicies", reply.status(), now_ms);
    return;
  }
  absl::StatusOr<std::vector<std::string>> changed = policies_.Apply(*reply);
  if (!changed.ok()) {
    ++stats_.errors;
    GetLogger("sim")->warn("{}: bad continuous profiling policies: {}", name_,
                           changed.status().message());
    return;
  }
  for (const std::string& service : *changed) {
    ++stats_.policy_changes;
    const ContinuousPolicy* policy = policies_.Find(service);
    size_t items = 0;
    if (policy != nullptr) {
      for (const ContinuousTarget& t : policy->targets) items += t.items.size();
    }
    GetLogger("sim")->info("{}: continuous profiling policy of {} {}", name_, service,
                           policy == nullptr ? std::string("removed")
                                             : absl::StrCat("now ", policy->uuid.substr(0, 12),
                                                            "…: ", policy->targets.size(),
                                                            " target(s), ", items, " item(s)"));
  }
}

void RoverAgent::CheckContinuous(int64_t now_ms) {
  std::vector<ContinuousProcess> processes;
  for (const MeterProcess& p : RegisteredProcesses()) {
    processes.push_back({p.key, p.id, p.service, p.instance, p.process_name, p.layer});
  }
  ContinuousChecker::Result result = checker_.Check(processes, policies_, now_ms);
  if (!result.meters.empty()) {
    int64_t samples = 0;
    for (const auto& set : result.meters) samples += set.meterdata_size();
    absl::Status s =
        client_.CollectMeterBatch(static_cast<int64_t>(result.meters.size()),
                                  [&](int64_t i) -> const skywalking::v3::MeterDataCollection& {
                                    return result.meters[static_cast<size_t>(i)];
                                  });
    if (!s.ok()) {
      CountFailure("MeterReportService/collectBatch", s, now_ms);
    } else {
      ++stats_.meter_reports;
      stats_.meter_samples += samples;
    }
  }
  for (const ContinuousChecker::Trigger& trigger : result.triggers) StartTriggered(trigger, now_ms);
}

void RoverAgent::StartTriggered(const ContinuousChecker::Trigger& trigger, int64_t now_ms) {
  auto log = GetLogger("sim");
  absl::StatusOr<skywalking::v3::Commands> reply = client_.ReportProfilingTask(trigger.report);
  if (!reply.ok()) {
    CountFailure("ContinuousProfilingService/reportProfilingTask", reply.status(), now_ms);
    return;
  }
  std::string task_id;
  if (reply->commands_size() == 1 &&
      reply->commands(0).command() == "ContinuousProfilingReportTask") {
    for (const auto& arg : reply->commands(0).args()) {
      if (arg.key() == "TaskId") task_id = arg.value();
    }
  }
  if (task_id.empty()) {
    ++stats_.errors;
    log->warn("{}: reportProfilingTask answered {} command(s) without a TaskId", name_,
              reply->commands_size());
    return;
  }
  ++stats_.triggers;
  std::vector<std::string> causes;
  for (const auto& cause : trigger.report.causes()) {
    const bool uri = cause.has_uri();
    causes.push_back(
        absl::StrCat(skywalking::v3::ContinuousProfilingTriggeredMonitorType_Name(cause.type()),
                     " ", uri ? cause.uri().current() : cause.singlevalue().current(),
                     " >= ", uri ? cause.uri().threshold() : cause.singlevalue().threshold()));
  }
  log->info("{}: continuous profiling triggered {} task {} on {} ({})", name_,
            EbpfTargetName(trigger.target), task_id, trigger.report.processname(),
            absl::StrJoin(causes, ", "));
  EbpfTaskSpec spec;
  spec.task_id = task_id;
  spec.process_ids = {trigger.process_id};
  if (trigger.target == EbpfTarget::kNetwork) {
    // Rover's network profiling watches every process of the triggering process's instance.
    const RoverEntity* main_entity = nullptr;
    for (const auto& entry : registry_.entries()) {
      if (entry.status == RoverProcessRegistry::Status::kRegistered &&
          entry.id == trigger.process_id) {
        main_entity = &registry_.processes()[entry.process].entities[entry.entity];
      }
    }
    if (main_entity != nullptr) {
      for (const auto& entry : registry_.entries()) {
        if (entry.status != RoverProcessRegistry::Status::kRegistered ||
            entry.id == trigger.process_id) {
          continue;
        }
        const RoverEntity& e = registry_.processes()[entry.process].entities[entry.entity];
        if (e.service == main_entity->service && e.instance == main_entity->instance) {
          spec.process_ids.push_back(entry.id);
        }
      }
    }
  }
  spec.update_time_ms = 0;  // keeps latestUpdateTime where the server put it
  spec.target = trigger.target;
  spec.start_time_ms = now_ms;
  spec.duration_s = trigger.report.duration();
  HandleCommand(MakeEbpfTaskCommand(spec), now_ms);
}

void RoverAgent::ReportNetwork(int64_t now_ms) {
  if (!network_.Running(now_ms)) return;
  const std::vector<std::string> watched = network_.ProcessIds(now_ms);
  std::vector<MeterProcess> processes;
  std::vector<bool> seen(registry_.processes().size(), false);
  for (const auto& entry : registry_.entries()) {
    if (entry.status != RoverProcessRegistry::Status::kRegistered || seen[entry.process]) continue;
    if (std::find(watched.begin(), watched.end(), entry.id) == watched.end()) {
      continue;
    }
    seen[entry.process] = true;
    const RoverEntity& e = registry_.processes()[entry.process].entities[entry.entity];
    processes.push_back({entry.process, entry.id, e.service, e.instance, e.process, e.layer});
  }
  if (processes.empty()) return;
  NetworkReport report = network_model_.Report(processes, network_.NextRound(), now_ms);
  if (absl::Status s = network_client_.Send(report); !s.ok()) {
    CountFailure("network profiling report", s, now_ms);
    return;
  }
  ++stats_.network_reports;
  stats_.sampled_requests += static_cast<int64_t>(report.logs.size());
  GetLogger("sim")->debug("{}: network report of {} processes: {} sampled requests", name_,
                          processes.size(), report.logs.size());
}

void RoverAgent::CountFailure(absl::string_view method, const absl::Status& status,
                              int64_t now_ms) {
  ++stats_.errors;
  failures_.Failed(method, status, now_ms);
}

}  // namespace stackhouse::sim
