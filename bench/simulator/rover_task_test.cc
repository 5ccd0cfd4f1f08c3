#include "simulator/rover_task.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"

namespace stackhouse::sim {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;
const char kProcess[] = "59a6a9ff97c729a2ae83821976fb43308959ce0a5daf1f0d710317a0151f14e8";

EbpfTaskSpec ValidSpec() {
  EbpfTaskSpec spec;
  spec.task_id = "8648df7411d26b5ab0bf5a882966aa36e3e4e0cc3ec45e27297256050372ae8f";
  spec.process_ids = {kProcess};
  spec.update_time_ms = kStart;
  spec.target = EbpfTarget::kOnCpu;
  spec.start_time_ms = kStart;
  spec.duration_s = 60;
  return spec;
}

skywalking::v3::Command WithArg(skywalking::v3::Command command, const std::string& key,
                                const std::string& value) {
  for (auto& arg : *command.mutable_args()) {
    if (arg.key() == key) arg.set_value(value);
  }
  return command;
}

skywalking::v3::Command WithoutArg(skywalking::v3::Command command, const std::string& key) {
  auto* args = command.mutable_args();
  for (int i = 0; i < args->size(); ++i) {
    if (args->Get(i).key() == key) {
      args->DeleteSubrange(i, 1);
      break;
    }
  }
  return command;
}

bool Known(const std::string& id) { return id == kProcess || id == "other-process"; }

TEST(EbpfTaskCommandTest, ParsesOapCommand) {
  // The spec's example command (§3.3), in OAP's arg order.
  absl::StatusOr<EbpfTaskSpec> spec = ParseEbpfTaskCommand(MakeEbpfTaskCommand(ValidSpec()));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->task_id, ValidSpec().task_id);
  EXPECT_EQ(spec->process_ids, std::vector<std::string>{kProcess});
  EXPECT_EQ(spec->update_time_ms, kStart);
  EXPECT_EQ(spec->target, EbpfTarget::kOnCpu);
  EXPECT_EQ(spec->start_time_ms, kStart);
  EXPECT_EQ(spec->duration_s, 60);
  EXPECT_EQ(spec->extension_config_json, "null");
  EXPECT_EQ(spec->EndTimeMs(), kStart + 60'000);
}

TEST(EbpfTaskCommandTest, RejectsWhatRoverRejects) {
  const skywalking::v3::Command good = MakeEbpfTaskCommand(ValidSpec());
  ASSERT_TRUE(ParseEbpfTaskCommand(good).ok());
  for (const char* key : {"TaskId", "ProcessId", "TaskUpdateTime", "TriggerType", "TargetType",
                          "TaskStartTime", "ExtensionConfigJSON", "FixedTriggerDuration"}) {
    EXPECT_FALSE(ParseEbpfTaskCommand(WithoutArg(good, key)).ok()) << "without " << key;
  }
  // SerialNumber is not required.
  EXPECT_TRUE(ParseEbpfTaskCommand(WithoutArg(good, "SerialNumber")).ok());

  skywalking::v3::Command other = good;
  other.set_command("ProfileTaskQuery");
  EXPECT_FALSE(ParseEbpfTaskCommand(other).ok());
  EXPECT_FALSE(ParseEbpfTaskCommand(WithArg(good, "TriggerType", "CONTINUOUS_PROFILING")).ok());
  EXPECT_FALSE(ParseEbpfTaskCommand(WithArg(good, "TriggerType", "fixed_time")).ok());
  EXPECT_FALSE(ParseEbpfTaskCommand(WithArg(good, "TargetType", "CPU")).ok());
  EXPECT_FALSE(ParseEbpfTaskCommand(WithArg(good, "ExtensionConfigJSON", "")).ok());
  EXPECT_FALSE(ParseEbpfTaskCommand(WithArg(good, "ExtensionConfigJSON", "{")).ok());
  EXPECT_FALSE(ParseEbpfTaskCommand(WithArg(good, "ExtensionConfigJSON", "[]")).ok());
  EXPECT_FALSE(ParseEbpfTaskCommand(WithArg(good, "ExtensionConfigJSON", "\"x\"")).ok());
  EXPECT_FALSE(ParseEbpfTaskCommand(WithArg(good, "TaskUpdateTime", "")).ok());
  EXPECT_FALSE(ParseEbpfTaskCommand(WithArg(good, "TaskUpdateTime", " 1")).ok());
  EXPECT_FALSE(ParseEbpfTaskCommand(WithArg(good, "TaskStartTime", "1.5")).ok());
  EXPECT_FALSE(ParseEbpfTaskCommand(WithArg(good, "TaskStartTime", "0x10")).ok());
  EXPECT_FALSE(ParseEbpfTaskCommand(WithArg(good, "FixedTriggerDuration", "60s")).ok());
  EXPECT_FALSE(
      ParseEbpfTaskCommand(WithArg(good, "FixedTriggerDuration", "9223372036854775808")).ok());
}

TEST(EbpfTaskCommandTest, AcceptsWhatGoAccepts) {
  const skywalking::v3::Command good = MakeEbpfTaskCommand(ValidSpec());
  auto duration = [&](const std::string& value) {
    absl::StatusOr<EbpfTaskSpec> spec =
        ParseEbpfTaskCommand(WithArg(good, "FixedTriggerDuration", value));
    return spec.ok() ? spec->duration_s : -999;
  };
  EXPECT_EQ(duration("+60"), 60);
  EXPECT_EQ(duration("-5"), -5);
  EXPECT_EQ(duration("007"), 7);
  for (const char* json : {"null", " null ", "{}",
                           "{\"NetworkSamplings\":[{\"URIRegex\":null,\"MinDuration\":0,"
                           "\"When4xx\":true,\"When5xx\":true,\"Settings\":{"
                           "\"RequireCompleteRequest\":true,\"RequireCompleteResponse\":false,"
                           "\"MaxResponseSize\":2048}}]}"}) {
    EXPECT_TRUE(ParseEbpfTaskCommand(WithArg(good, "ExtensionConfigJSON", json)).ok()) << json;
  }
  EXPECT_TRUE(ParseEbpfTaskCommand(WithArg(good, "TargetType", "OFF_CPU")).ok());
  EXPECT_TRUE(ParseEbpfTaskCommand(WithArg(good, "TargetType", "NETWORK")).ok());
  // Split on ',' as Go does: nothing trimmed, empty parts kept.
  absl::StatusOr<EbpfTaskSpec> spec = ParseEbpfTaskCommand(WithArg(good, "ProcessId", "a, b,"));
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->process_ids, (std::vector<std::string>{"a", " b", ""}));
}

TEST(JsonTest, Grammar) {
  for (const char* valid : {"0", "-0.5e+10", "\"\\u00e9\\n\"", "[]", "[1, [2, {}]]",
                            "{\"a\": {\"b\": [true, false, null]}}", " \t\r\n{}\n"}) {
    EXPECT_TRUE(IsValidJson(valid)) << valid;
  }
  for (const char* invalid : {"", " ", "01", "1.", ".5", "+1", "[1,]", "{\"a\":1,}", "{a:1}", "'a'",
                              "\"\\x\"", "\"tab\there\"", "nul", "[1] [2]", "{\"a\"}", "\"open"}) {
    EXPECT_FALSE(IsValidJson(invalid)) << invalid;
  }
}

TEST(EbpfTaskSpecTest, IdentityIgnoresProcessOrder) {
  EbpfTaskSpec a = ValidSpec();
  a.process_ids = {"p2", "p1"};
  EbpfTaskSpec b = a;
  b.process_ids = {"p1", "p2"};
  EXPECT_EQ(a.Identity(), b.Identity());
  EXPECT_TRUE(a.SameTaskAs(b));
  b.target = EbpfTarget::kOffCpu;
  EXPECT_NE(a.Identity(), b.Identity());
  EbpfTaskSpec c = a;
  c.start_time_ms += 1;
  EXPECT_EQ(a.Identity(), c.Identity());
  EXPECT_FALSE(a.SameTaskAs(c));
}

TEST(RoverTaskBoardTest, LatestUpdateTimeOnlyFromUsableCommands) {
  RoverTaskBoard board;
  EXPECT_EQ(board.latest_update_time(), 0);
  const int64_t now = kStart + 1000;

  EbpfTaskSpec unknown = ValidSpec();
  unknown.process_ids = {"not-mine"};
  unknown.update_time_ms = kStart + 50;
  EXPECT_EQ(board.Offer(MakeEbpfTaskCommand(unknown), Known, now).outcome,
            RoverTaskBoard::Outcome::kRejected);
  EXPECT_EQ(board.latest_update_time(), 0);

  // Rover's ON/OFF-CPU runners profile exactly one process.
  EbpfTaskSpec two = ValidSpec();
  two.process_ids = {kProcess, "other-process"};
  two.update_time_ms = kStart + 60;
  EXPECT_EQ(board.Offer(MakeEbpfTaskCommand(two), Known, now).outcome,
            RoverTaskBoard::Outcome::kRejected);
  EXPECT_EQ(board.latest_update_time(), 0);

  skywalking::v3::Command bad = WithArg(MakeEbpfTaskCommand(ValidSpec()), "TargetType", "X");
  EXPECT_EQ(board.Offer(bad, Known, now).outcome, RoverTaskBoard::Outcome::kRejected);
  EXPECT_EQ(board.latest_update_time(), 0);

  EXPECT_EQ(board.Offer(MakeEbpfTaskCommand(ValidSpec()), Known, now).outcome,
            RoverTaskBoard::Outcome::kStarted);
  EXPECT_EQ(board.latest_update_time(), kStart);

  // NETWORK (several processes allowed) and expired tasks still move latestUpdateTime.
  EbpfTaskSpec network = two;
  network.task_id = "net";
  network.target = EbpfTarget::kNetwork;
  network.update_time_ms = kStart + 70;
  EXPECT_EQ(board.Offer(MakeEbpfTaskCommand(network), Known, now).outcome,
            RoverTaskBoard::Outcome::kNetwork);
  EXPECT_EQ(board.latest_update_time(), kStart + 70);
  EbpfTaskSpec old = ValidSpec();
  old.task_id = "old";
  old.target = EbpfTarget::kOffCpu;
  old.start_time_ms = kStart - 120'000;
  old.update_time_ms = kStart + 80;
  EXPECT_EQ(board.Offer(MakeEbpfTaskCommand(old), Known, now).outcome,
            RoverTaskBoard::Outcome::kExpired);
  EXPECT_EQ(board.latest_update_time(), kStart + 80);
  // A smaller update time never moves it back.
  EbpfTaskSpec earlier = ValidSpec();
  earlier.update_time_ms = 5;
  board.Offer(MakeEbpfTaskCommand(earlier), Known, now);
  EXPECT_EQ(board.latest_update_time(), kStart + 80);
}

TEST(RoverTaskBoardTest, ExpiryIsStrictlyAfterTheEnd) {
  RoverTaskBoard board;
  EbpfTaskSpec spec = ValidSpec();
  EXPECT_EQ(board.Offer(MakeEbpfTaskCommand(spec), Known, spec.EndTimeMs() + 1).outcome,
            RoverTaskBoard::Outcome::kExpired);
  EXPECT_EQ(board.Offer(MakeEbpfTaskCommand(spec), Known, spec.EndTimeMs()).outcome,
            RoverTaskBoard::Outcome::kStarted);
}

TEST(RoverTaskBoardTest, SameTaskExtendsAndDifferentTaskReplaces) {
  RoverTaskBoard board;
  const int64_t now = kStart;
  ASSERT_EQ(board.Offer(MakeEbpfTaskCommand(ValidSpec()), Known, now).outcome,
            RoverTaskBoard::Outcome::kStarted);
  ASSERT_EQ(board.StartDue(now), 1);

  EbpfTaskSpec longer = ValidSpec();
  longer.duration_s = 120;
  EXPECT_EQ(board.Offer(MakeEbpfTaskCommand(longer), Known, now + 10).outcome,
            RoverTaskBoard::Outcome::kExtended);
  std::vector<RoverTaskBoard::Task*> tasks = board.TakeFlushable(now + 61'000);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]->state, RoverTaskBoard::State::kRunning);  // now runs 120 s
  EXPECT_EQ(tasks[0]->StopMs(), now + 120'000);

  EbpfTaskSpec other = ValidSpec();
  other.task_id = "another-task";
  EXPECT_EQ(board.Offer(MakeEbpfTaskCommand(other), Known, now + 20).outcome,
            RoverTaskBoard::Outcome::kReplaced);
  tasks = board.TakeFlushable(now + 20);
  ASSERT_EQ(tasks.size(), 0u);  // the replacement waits for StartDue
  EXPECT_EQ(board.StartDue(now + 20), 1);
  tasks = board.TakeFlushable(now + 20);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]->spec.task_id, "another-task");

  // Another target on the same process is another identity: both run.
  EbpfTaskSpec off = ValidSpec();
  off.target = EbpfTarget::kOffCpu;
  EXPECT_EQ(board.Offer(MakeEbpfTaskCommand(off), Known, now + 30).outcome,
            RoverTaskBoard::Outcome::kStarted);
}

TEST(RoverTaskBoardTest, WaitsForStartThenStopsAfterDurationAndIsRemovedAfterFlush) {
  RoverTaskBoard board;
  EbpfTaskSpec spec = ValidSpec();
  spec.start_time_ms = kStart + 5'000;
  ASSERT_EQ(board.Offer(MakeEbpfTaskCommand(spec), Known, kStart).outcome,
            RoverTaskBoard::Outcome::kStarted);
  EXPECT_FALSE(board.empty());
  EXPECT_EQ(board.NextStartMs(), kStart + 5'000);
  EXPECT_EQ(board.StartDue(kStart + 4'999), 0);
  EXPECT_TRUE(board.TakeFlushable(kStart + 4'999).empty());
  EXPECT_EQ(board.StartDue(kStart + 5'010), 1);
  EXPECT_EQ(board.NextStartMs(), -1);

  std::vector<RoverTaskBoard::Task*> tasks = board.TakeFlushable(kStart + 10'000);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]->started_ms, kStart + 5'010);
  EXPECT_EQ(tasks[0]->state, RoverTaskBoard::State::kRunning);
  EXPECT_TRUE(board.FinishFlush().empty());

  // 60 s after it actually started (not after TaskStartTime), it stops; that flush is its last.
  tasks = board.TakeFlushable(kStart + 65'009);
  ASSERT_EQ(tasks[0]->state, RoverTaskBoard::State::kRunning);
  tasks = board.TakeFlushable(kStart + 65'010);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]->state, RoverTaskBoard::State::kStopped);
  EXPECT_EQ(board.FinishFlush().size(), 1u);
  EXPECT_TRUE(board.empty());
}

}  // namespace
}  // namespace stackhouse::sim
