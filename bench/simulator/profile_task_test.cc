#include "simulator/profile_task.h"

#include "gtest/gtest.h"

namespace stackhouse::sim {
namespace {

ProfileTaskSpec ValidTask() {
  ProfileTaskSpec task;
  task.serial_number = "5b6c0f3e-0000-4000-8000-000000000001";
  task.task_id = "1700000000000_ZGVtby1zdmM=.1";
  task.endpoint_name = "GET:/orders";
  task.duration_minutes = 5;
  task.min_duration_threshold_ms = 0;
  task.dump_period_ms = 10;
  task.max_sampling_count = 5;
  task.start_time_ms = 1'700'000'000'000;
  task.create_time_ms = 1'700'000'000'000;
  return task;
}

TEST(ProfileTaskTest, CommandRoundTrips) {
  absl::StatusOr<ProfileTaskSpec> parsed =
      ParseProfileTaskCommand(MakeProfileTaskCommand(ValidTask()));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->task_id, ValidTask().task_id);
  EXPECT_EQ(parsed->endpoint_name, "GET:/orders");
  EXPECT_EQ(parsed->duration_minutes, 5);
  EXPECT_EQ(parsed->create_time_ms, 1'700'000'000'000);
  EXPECT_EQ(parsed->EndTimeMs(), 1'700'000'000'000 + 5 * 60'000);
}

TEST(ProfileTaskTest, CommandArgsInOapOrder) {
  skywalking::v3::Command command = MakeProfileTaskCommand(ValidTask());
  EXPECT_EQ(command.command(), "ProfileTaskQuery");
  ASSERT_EQ(command.args_size(), 9);
  EXPECT_EQ(command.args(0).key(), "SerialNumber");
  EXPECT_EQ(command.args(8).key(), "CreateTime");
}

TEST(ProfileTaskTest, RejectsNonIntegerAndMissingArgs) {
  skywalking::v3::Command command = MakeProfileTaskCommand(ValidTask());
  command.mutable_args(3)->set_value("5.0");  // Duration
  EXPECT_FALSE(ParseProfileTaskCommand(command).ok());
  command.mutable_args(3)->set_value("");
  EXPECT_FALSE(ParseProfileTaskCommand(command).ok());
  command.mutable_args()->DeleteSubrange(3, 1);
  EXPECT_FALSE(ParseProfileTaskCommand(command).ok());

  skywalking::v3::Command other = MakeProfileTaskCommand(ValidTask());
  other.set_command("EBPFProfilingTaskQuery");
  EXPECT_FALSE(ParseProfileTaskCommand(other).ok());
}

TEST(ProfileTaskTest, AgentValidationBounds) {
  auto check = [](auto mutate) {
    ProfileTaskSpec task = ValidTask();
    mutate(task);
    return CheckProfileTask(task, {}).ok();
  };
  EXPECT_TRUE(check([](ProfileTaskSpec&) {}));
  EXPECT_FALSE(check([](ProfileTaskSpec& t) { t.endpoint_name.clear(); }));
  EXPECT_FALSE(check([](ProfileTaskSpec& t) { t.duration_minutes = 0; }));
  EXPECT_TRUE(check([](ProfileTaskSpec& t) { t.duration_minutes = 15; }));
  EXPECT_FALSE(check([](ProfileTaskSpec& t) { t.duration_minutes = 16; }));
  EXPECT_FALSE(check([](ProfileTaskSpec& t) { t.min_duration_threshold_ms = -1; }));
  EXPECT_FALSE(check([](ProfileTaskSpec& t) { t.dump_period_ms = 9; }));
  EXPECT_TRUE(check([](ProfileTaskSpec& t) { t.dump_period_ms = 10; }));
  EXPECT_FALSE(check([](ProfileTaskSpec& t) { t.max_sampling_count = 0; }));
  EXPECT_TRUE(check([](ProfileTaskSpec& t) { t.max_sampling_count = 9; }));
  EXPECT_FALSE(check([](ProfileTaskSpec& t) { t.max_sampling_count = 10; }));
}

TEST(ProfileTaskTest, RejectsTaskEndingInsideAcceptedOne) {
  ProfileTaskSpec first = ValidTask();
  ProfileTaskSpec second = ValidTask();
  second.start_time_ms = first.start_time_ms + 60'000;  // ends after the first: accepted
  EXPECT_TRUE(CheckProfileTask(second, {first}).ok());
  second.start_time_ms = first.start_time_ms - 60'000;  // ends inside the first
  EXPECT_FALSE(CheckProfileTask(second, {first}).ok());
}

TEST(TaskBoardTest, DeduplicatesBySerialAndAdvancesLastCommandTime) {
  TaskBoard board;
  EXPECT_EQ(board.last_command_time(), -1);
  std::string reason;
  ProfileTaskSpec task = ValidTask();
  EXPECT_EQ(board.Offer(task, &reason), TaskBoard::Outcome::kAccepted);
  EXPECT_EQ(board.last_command_time(), task.create_time_ms);
  EXPECT_EQ(board.Offer(task, &reason), TaskBoard::Outcome::kDuplicate);

  ProfileTaskSpec invalid = ValidTask();
  invalid.serial_number = "other";
  invalid.create_time_ms += 1000;
  invalid.dump_period_ms = 1;
  EXPECT_EQ(board.Offer(invalid, &reason), TaskBoard::Outcome::kRejected);
  EXPECT_NE(reason.find("dump period"), std::string::npos);
  // Like the Java agent, a rejected task still moves lastCommandTime.
  EXPECT_EQ(board.last_command_time(), invalid.create_time_ms);
}

TEST(TaskBoardTest, ActiveWindowAndFinishReportedOnce) {
  TaskBoard board;
  std::string reason;
  ProfileTaskSpec task = ValidTask();
  ASSERT_EQ(board.Offer(task, &reason), TaskBoard::Outcome::kAccepted);
  EXPECT_FALSE(board.ActiveTask(task.start_time_ms - 1).has_value());
  EXPECT_TRUE(board.ActiveTask(task.start_time_ms).has_value());
  EXPECT_FALSE(board.ActiveTask(task.EndTimeMs()).has_value());

  EXPECT_TRUE(board.TakeEnded(task.EndTimeMs() - 1).empty());
  EXPECT_EQ(board.TakeEnded(task.EndTimeMs()).size(), 1u);
  EXPECT_TRUE(board.TakeEnded(task.EndTimeMs()).empty());
  EXPECT_TRUE(board.TakeAllUnfinished().empty());
  EXPECT_FALSE(board.ActiveTask(task.start_time_ms).has_value());
}

TEST(TaskBoardTest, UnfinishedTasksAreReportedAtShutdown) {
  TaskBoard board;
  std::string reason;
  ASSERT_EQ(board.Offer(ValidTask(), &reason), TaskBoard::Outcome::kAccepted);
  EXPECT_EQ(board.TakeAllUnfinished().size(), 1u);
  EXPECT_TRUE(board.TakeEnded(ValidTask().EndTimeMs()).empty());
}

}  // namespace
}  // namespace stackhouse::sim
