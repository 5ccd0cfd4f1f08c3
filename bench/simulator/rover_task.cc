#include "simulator/rover_task.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/uuid.h"

namespace stackhouse::sim {
namespace {

constexpr absl::string_view kCommandName = "EBPFProfilingTaskQuery";
constexpr absl::string_view kFixedTime = "FIXED_TIME";
// encoding/json's nesting limit.
constexpr int kMaxJsonDepth = 10000;

// Rover's getCommandStringValue: the first arg with that key.
absl::StatusOr<std::string> StringArg(const skywalking::v3::Command& command,
                                      absl::string_view key) {
  for (const auto& arg : command.args()) {
    if (arg.key() == key) return arg.value();
  }
  return absl::InvalidArgumentError(absl::StrCat("could not found key: ", key));
}

// Rover's getCommandIntValue: strconv.ParseInt(value, 10, 64).
absl::StatusOr<int64_t> IntArg(const skywalking::v3::Command& command, absl::string_view key) {
  absl::StatusOr<std::string> value = StringArg(command, key);
  if (!value.ok()) return value.status();
  absl::string_view digits = *value;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) {
    digits.remove_prefix(1);
  }
  int64_t out = 0;
  bool plain = !digits.empty() && std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit);
  if (!plain || !absl::SimpleAtoi(*value, &out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("strconv.ParseInt: parsing \"", *value, "\": invalid syntax (", key, ")"));
  }
  return out;
}

// A strict RFC 8259 recognizer.
class JsonChecker {
 public:
  explicit JsonChecker(absl::string_view text) : text_(text) {}

  bool Check() {
    SkipSpace();
    if (!Value(0)) return false;
    SkipSpace();
    return pos_ == text_.size();
  }

 private:
  bool Value(int depth) {
    if (depth > kMaxJsonDepth || pos_ >= text_.size()) return false;
    switch (text_[pos_]) {
      case '{':
        return Object(depth + 1);
      case '[':
        return Array(depth + 1);
      case '"':
        return String();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        return Number();
    }
  }

  bool Object(int depth) {
    ++pos_;  // '{'
    SkipSpace();
    if (Peek('}')) return ++pos_, true;
    while (true) {
      SkipSpace();
      if (!Peek('"') || !String()) return false;
      SkipSpace();
      if (!Peek(':')) return false;
      ++pos_;
      SkipSpace();
      if (!Value(depth)) return false;
      SkipSpace();
      if (Peek('}')) return ++pos_, true;
      if (!Peek(',')) return false;
      ++pos_;
    }
  }

  bool Array(int depth) {
    ++pos_;  // '['
    SkipSpace();
    if (Peek(']')) return ++pos_, true;
    while (true) {
      SkipSpace();
      if (!Value(depth)) return false;
      SkipSpace();
      if (Peek(']')) return ++pos_, true;
      if (!Peek(',')) return false;
      ++pos_;
    }
  }

  bool String() {
    ++pos_;  // '"'
    while (pos_ < text_.size()) {
      unsigned char c = static_cast<unsigned char>(text_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (pos_ >= text_.size()) return false;
      char e = text_[pos_++];
      if (e == 'u') {
        for (int i = 0; i < 4; ++i) {
          if (pos_ >= text_.size() || !absl::ascii_isxdigit(text_[pos_])) return false;
          ++pos_;
        }
      } else if (absl::string_view("\"\\/bfnrt").find(e) == absl::string_view::npos) {
        return false;
      }
    }
    return false;
  }

  bool Number() {
    if (Peek('-')) ++pos_;
    if (Peek('0')) {
      ++pos_;
    } else if (!Digits()) {
      return false;
    }
    if (Peek('.')) {
      ++pos_;
      if (!Digits()) return false;
    }
    if (Peek('e') || Peek('E')) {
      ++pos_;
      if (Peek('+') || Peek('-')) ++pos_;
      if (!Digits()) return false;
    }
    return true;
  }

  bool Digits() {
    size_t start = pos_;
    while (pos_ < text_.size() && absl::ascii_isdigit(text_[pos_])) ++pos_;
    return pos_ > start;
  }

  bool Literal(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool Peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

void AddArg(skywalking::v3::Command* command, absl::string_view key, std::string value) {
  auto* arg = command->add_args();
  arg->set_key(std::string(key));
  arg->set_value(std::move(value));
}

std::vector<std::string> Sorted(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

absl::string_view EbpfTargetName(EbpfTarget target) {
  switch (target) {
    case EbpfTarget::kOnCpu:
      return "ON_CPU";
    case EbpfTarget::kOffCpu:
      return "OFF_CPU";
    case EbpfTarget::kNetwork:
      return "NETWORK";
  }
  return "UNKNOWN";
}

std::string EbpfTaskSpec::Identity() const {
  return absl::StrCat("[", absl::StrJoin(Sorted(process_ids), " "), "]_", EbpfTargetName(target),
                      "_", kFixedTime);
}

bool EbpfTaskSpec::SameTaskAs(const EbpfTaskSpec& other) const {
  return task_id == other.task_id && Sorted(process_ids) == Sorted(other.process_ids) &&
         start_time_ms == other.start_time_ms && target == other.target;
}

bool IsValidJson(absl::string_view text) { return JsonChecker(text).Check(); }

absl::StatusOr<EbpfTaskSpec> ParseEbpfTaskCommand(const skywalking::v3::Command& command) {
  if (command.command() != kCommandName) {
    return absl::InvalidArgumentError(absl::StrCat("not support command: ", command.command()));
  }
  EbpfTaskSpec spec;
  absl::StatusOr<std::string> task_id = StringArg(command, "TaskId");
  if (!task_id.ok()) return task_id.status();
  spec.task_id = *task_id;
  absl::StatusOr<std::string> process_ids = StringArg(command, "ProcessId");
  if (!process_ids.ok()) return process_ids.status();
  absl::StatusOr<int64_t> update_time = IntArg(command, "TaskUpdateTime");
  if (!update_time.ok()) return update_time.status();
  spec.update_time_ms = *update_time;
  absl::StatusOr<std::string> trigger = StringArg(command, "TriggerType");
  if (!trigger.ok()) return trigger.status();
  if (*trigger != kFixedTime) {
    return absl::InvalidArgumentError(absl::StrCat("could not found trigger type: ", *trigger));
  }
  absl::StatusOr<std::string> target = StringArg(command, "TargetType");
  if (!target.ok()) return target.status();
  if (*target == "ON_CPU") {
    spec.target = EbpfTarget::kOnCpu;
  } else if (*target == "OFF_CPU") {
    spec.target = EbpfTarget::kOffCpu;
  } else if (*target == "NETWORK") {
    spec.target = EbpfTarget::kNetwork;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("could not found target type: ", *target));
  }
  absl::StatusOr<int64_t> start = IntArg(command, "TaskStartTime");
  if (!start.ok()) return start.status();
  spec.start_time_ms = *start;
  absl::StatusOr<std::string> extension = StringArg(command, "ExtensionConfigJSON");
  if (!extension.ok()) return extension.status();
  // json.Unmarshal into a struct: valid JSON whose top level is an object or null.
  absl::string_view top = absl::StripLeadingAsciiWhitespace(*extension);
  if (!IsValidJson(*extension) || !(absl::StartsWith(top, "{") || absl::StartsWith(top, "null"))) {
    return absl::InvalidArgumentError(
        absl::StrCat("ExtensionConfigJSON is not a JSON object or null: '", *extension, "'"));
  }
  spec.extension_config_json = *extension;
  // The trigger type's InitTask.
  absl::StatusOr<int64_t> duration = IntArg(command, "FixedTriggerDuration");
  if (!duration.ok()) return duration.status();
  spec.duration_s = *duration;
  spec.process_ids = absl::StrSplit(*process_ids, ',');
  return spec;
}

skywalking::v3::Command MakeEbpfTaskCommand(const EbpfTaskSpec& spec) {
  skywalking::v3::Command command;
  command.set_command(std::string(kCommandName));
  AddArg(&command, "SerialNumber", NewUuid());
  AddArg(&command, "TaskId", spec.task_id);
  AddArg(&command, "ProcessId", absl::StrJoin(spec.process_ids, ","));
  AddArg(&command, "TaskUpdateTime", absl::StrCat(spec.update_time_ms));
  AddArg(&command, "TriggerType", std::string(kFixedTime));
  AddArg(&command, "TargetType", std::string(EbpfTargetName(spec.target)));
  AddArg(&command, "TaskStartTime", absl::StrCat(spec.start_time_ms));
  AddArg(&command, "ExtensionConfigJSON",
         spec.extension_config_json.empty() ? "null" : spec.extension_config_json);
  AddArg(&command, "FixedTriggerDuration", absl::StrCat(spec.duration_s));
  return command;
}

RoverTaskBoard::OfferResult RoverTaskBoard::Offer(
    const skywalking::v3::Command& command,
    const std::function<bool(const std::string&)>& known_process, int64_t now_ms) {
  OfferResult result;
  absl::StatusOr<EbpfTaskSpec> spec = ParseEbpfTaskCommand(command);
  if (!spec.ok()) {
    result.reason = std::string(spec.status().message());
    return result;
  }
  result.spec = *spec;
  for (const std::string& id : spec->process_ids) {
    if (!known_process(id)) {
      result.reason = absl::StrCat("could not found ", spec->task_id, " processes [",
                                   absl::StrJoin(spec->process_ids, " "), "]");
      return result;
    }
  }
  auto held = std::find_if(tasks_.begin(), tasks_.end(), [&](const Task& task) {
    return task.spec.Identity() == spec->Identity();
  });
  bool same = held != tasks_.end() && held->spec.SameTaskAs(*spec);
  // A new ON_CPU/OFF_CPU runner profiles exactly one process (its Init fails otherwise).
  if (!same && spec->target != EbpfTarget::kNetwork && spec->process_ids.size() != 1) {
    result.reason =
        absl::StrCat("could not init runner for task: ", spec->task_id,
                     ": the processes count must be 1, current is: ", spec->process_ids.size());
    return result;
  }
  latest_update_time_ = std::max(latest_update_time_, spec->update_time_ms);
  if (now_ms > spec->EndTimeMs()) {
    result.outcome = Outcome::kExpired;
    result.reason = absl::StrCat("out of task executing time range. task id: ", spec->task_id);
    return result;
  }
  if (spec->target == EbpfTarget::kNetwork) {
    result.outcome = Outcome::kNetwork;
    return result;
  }
  if (same) {
    held->spec = *spec;  // the stop time follows the new duration
    result.outcome = Outcome::kExtended;
    return result;
  }
  if (held != tasks_.end()) {
    *held = Task{*spec};
    result.outcome = Outcome::kReplaced;
  } else {
    tasks_.push_back(Task{*spec});
    result.outcome = Outcome::kStarted;
  }
  return result;
}

int RoverTaskBoard::StartDue(int64_t now_ms) {
  int started = 0;
  for (Task& task : tasks_) {
    if (task.state == State::kWaiting && task.spec.start_time_ms <= now_ms) {
      task.state = State::kRunning;
      task.started_ms = now_ms;
      task.sampled_until_ms = now_ms;
      ++started;
    }
  }
  return started;
}

int64_t RoverTaskBoard::NextStartMs() const {
  int64_t next = -1;
  for (const Task& task : tasks_) {
    if (task.state != State::kWaiting) continue;
    if (next < 0 || task.spec.start_time_ms < next) next = task.spec.start_time_ms;
  }
  return next;
}

std::vector<RoverTaskBoard::Task*> RoverTaskBoard::TakeFlushable(int64_t now_ms) {
  std::vector<Task*> out;
  for (Task& task : tasks_) {
    if (task.state == State::kWaiting) continue;
    if (task.state == State::kRunning && now_ms >= task.StopMs()) task.state = State::kStopped;
    out.push_back(&task);
  }
  return out;
}

std::vector<RoverTaskBoard::Task> RoverTaskBoard::FinishFlush() {
  std::vector<Task> stopped;
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    if (it->state == State::kStopped) {
      stopped.push_back(std::move(*it));
      it = tasks_.erase(it);
    } else {
      ++it;
    }
  }
  return stopped;
}

}  // namespace stackhouse::sim
