#include "simulator/profile_task.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace stackhouse::sim {
namespace {

constexpr absl::string_view kCommandName = "ProfileTaskQuery";

const std::string* FindArg(const skywalking::v3::Command& command, absl::string_view key) {
  for (const auto& arg : command.args()) {
    if (arg.key() == key) return &arg.value();
  }
  return nullptr;
}

absl::Status ReadInt(const skywalking::v3::Command& command, absl::string_view key, int64_t* out) {
  const std::string* value = FindArg(command, key);
  if (value == nullptr) return absl::InvalidArgumentError(absl::StrCat("missing arg ", key));
  // Java's Integer.parseInt/Long.parseLong: an optional sign and digits, nothing else.
  absl::string_view digits = *value;
  if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) digits.remove_prefix(1);
  bool plain = !digits.empty() && std::all_of(digits.begin(), digits.end(),
                                              [](char c) { return c >= '0' && c <= '9'; });
  if (!plain || !absl::SimpleAtoi(*value, out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("arg ", key, " is not an integer: '", *value, "'"));
  }
  return absl::OkStatus();
}

void AddArg(skywalking::v3::Command* command, absl::string_view key, std::string value) {
  auto* arg = command->add_args();
  arg->set_key(std::string(key));
  arg->set_value(std::move(value));
}

}  // namespace

absl::StatusOr<ProfileTaskSpec> ParseProfileTaskCommand(const skywalking::v3::Command& command) {
  if (command.command() != kCommandName) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a ", kCommandName, ": '", command.command(), "'"));
  }
  ProfileTaskSpec task;
  if (const std::string* v = FindArg(command, "SerialNumber")) task.serial_number = *v;
  if (const std::string* v = FindArg(command, "TaskId")) task.task_id = *v;
  if (const std::string* v = FindArg(command, "EndpointName")) task.endpoint_name = *v;
  for (auto [key, field] : {std::pair{"Duration", &task.duration_minutes},
                            std::pair{"MinDurationThreshold", &task.min_duration_threshold_ms},
                            std::pair{"DumpPeriod", &task.dump_period_ms},
                            std::pair{"MaxSamplingCount", &task.max_sampling_count},
                            std::pair{"StartTime", &task.start_time_ms},
                            std::pair{"CreateTime", &task.create_time_ms}}) {
    if (absl::Status s = ReadInt(command, key, field); !s.ok()) return s;
  }
  return task;
}

absl::Status CheckProfileTask(const ProfileTaskSpec& task,
                              const std::vector<ProfileTaskSpec>& accepted) {
  if (task.endpoint_name.empty()) {
    return absl::InvalidArgumentError("endpoint name cannot be empty");
  }
  if (task.duration_minutes < 1) {
    return absl::InvalidArgumentError("monitor duration must greater than 1 minutes");
  }
  if (task.duration_minutes > 15) {
    return absl::InvalidArgumentError(
        "The duration of the monitoring task cannot be greater than 15 minutes");
  }
  if (task.min_duration_threshold_ms < 0) {
    return absl::InvalidArgumentError("min duration threshold must greater than or equals zero");
  }
  if (task.dump_period_ms < 10) {
    return absl::InvalidArgumentError("dump period must be greater than or equals 10 milliseconds");
  }
  if (task.max_sampling_count <= 0) {
    return absl::InvalidArgumentError("max sampling count must greater than zero");
  }
  if (task.max_sampling_count >= 10) {
    return absl::InvalidArgumentError("max sampling count must less than 10");
  }
  int64_t end = task.EndTimeMs();
  for (const ProfileTaskSpec& other : accepted) {
    if (end >= other.start_time_ms && end <= other.EndTimeMs()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "there already have processing task in time range, could not add a new task again. "
          "processing task monitor endpoint name: ",
          other.endpoint_name));
    }
  }
  return absl::OkStatus();
}

skywalking::v3::Command MakeProfileTaskCommand(const ProfileTaskSpec& task) {
  skywalking::v3::Command command;
  command.set_command(std::string(kCommandName));
  AddArg(&command, "SerialNumber", task.serial_number);
  AddArg(&command, "TaskId", task.task_id);
  AddArg(&command, "EndpointName", task.endpoint_name);
  AddArg(&command, "Duration", absl::StrCat(task.duration_minutes));
  AddArg(&command, "MinDurationThreshold", absl::StrCat(task.min_duration_threshold_ms));
  AddArg(&command, "DumpPeriod", absl::StrCat(task.dump_period_ms));
  AddArg(&command, "MaxSamplingCount", absl::StrCat(task.max_sampling_count));
  AddArg(&command, "StartTime", absl::StrCat(task.start_time_ms));
  AddArg(&command, "CreateTime", absl::StrCat(task.create_time_ms));
  return command;
}

TaskBoard::Outcome TaskBoard::Offer(const ProfileTaskSpec& task, std::string* reason) {
  absl::MutexLock lock(&mu_);
  if (serials_.contains(task.serial_number)) return Outcome::kDuplicate;
  serials_.insert(task.serial_number);
  serial_order_.push_back(task.serial_number);
  if (serial_order_.size() > kSerialCacheSize) {
    serials_.erase(serial_order_.front());
    serial_order_.pop_front();
  }
  last_command_time_ = std::max(last_command_time_, task.create_time_ms);

  std::vector<ProfileTaskSpec> accepted;
  accepted.reserve(tasks_.size());
  for (const Entry& entry : tasks_) accepted.push_back(entry.spec);
  if (absl::Status s = CheckProfileTask(task, accepted); !s.ok()) {
    *reason = std::string(s.message());
    return Outcome::kRejected;
  }
  tasks_.push_back({task, false});
  return Outcome::kAccepted;
}

int64_t TaskBoard::last_command_time() const {
  absl::MutexLock lock(&mu_);
  return last_command_time_;
}

std::optional<ProfileTaskSpec> TaskBoard::ActiveTask(int64_t now_ms) const {
  absl::MutexLock lock(&mu_);
  const ProfileTaskSpec* best = nullptr;
  for (const Entry& entry : tasks_) {
    const ProfileTaskSpec& spec = entry.spec;
    if (entry.finished || now_ms < spec.start_time_ms || now_ms >= spec.EndTimeMs()) continue;
    if (best == nullptr || spec.start_time_ms > best->start_time_ms) best = &spec;
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

std::vector<ProfileTaskSpec> TaskBoard::TakeEnded(int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  std::vector<ProfileTaskSpec> ended;
  for (Entry& entry : tasks_) {
    if (!entry.finished && entry.spec.EndTimeMs() <= now_ms) {
      entry.finished = true;
      ended.push_back(entry.spec);
    }
  }
  return ended;
}

std::vector<ProfileTaskSpec> TaskBoard::TakeAllUnfinished() {
  absl::MutexLock lock(&mu_);
  std::vector<ProfileTaskSpec> rest;
  for (Entry& entry : tasks_) {
    if (!entry.finished) {
      entry.finished = true;
      rest.push_back(entry.spec);
    }
  }
  return rest;
}

}  // namespace stackhouse::sim
