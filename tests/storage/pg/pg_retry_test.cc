// RetryWhileUnavailable on a simulated clock: backoff doubling to its cap, the total window,
// and which failures end it at once.
#include "storage/pg/pg_retry.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::storage::pg {
namespace {

using ::testing::ElementsAre;

struct RetryRun {
  SimulatedClock clock{1'000'000};
  std::vector<int64_t> waits;      // what on_retry was told
  std::vector<int> attempts_seen;  // its attempt numbers
  int attempts = 0;

  absl::Status Retry(const RetryOptions& options, int succeed_on,
                     absl::Status failure = absl::UnavailableError("no server")) {
    return RetryWhileUnavailable(
        options, clock, [this](int64_t ms) { clock.AdvanceMillis(ms); },
        [&]() { return ++attempts == succeed_on ? absl::OkStatus() : failure; },
        [this](int n, const absl::Status& status, int64_t delay) {
          EXPECT_TRUE(absl::IsUnavailable(status));
          attempts_seen.push_back(n);
          waits.push_back(delay);
        });
  }
};

TEST(RetryWhileUnavailableTest, BacksOffDoublingToTheCapUntilAnAttemptSucceeds) {
  RetryRun run;
  RetryOptions options{60'000, 500, 4'000};
  EXPECT_TRUE(run.Retry(options, 7).ok());
  EXPECT_EQ(run.attempts, 7);
  EXPECT_THAT(run.waits, ElementsAre(500, 1000, 2000, 4000, 4000, 4000));
  EXPECT_THAT(run.attempts_seen, ElementsAre(1, 2, 3, 4, 5, 6));
}

TEST(RetryWhileUnavailableTest, GivesUpWithTheLastFailureOnceTheWindowHasPassed) {
  RetryRun run;
  RetryOptions options{3'000, 500, 10'000};
  absl::Status status = run.Retry(options, -1);
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  // 500 + 1000 + 1500 (the rest of the window): the last attempt starts at its end.
  EXPECT_THAT(run.waits, ElementsAre(500, 1000, 1500));
  EXPECT_EQ(run.attempts, 4);
}

TEST(RetryWhileUnavailableTest, AZeroWindowMakesOneAttempt) {
  RetryRun run;
  EXPECT_TRUE(absl::IsUnavailable(run.Retry(RetryOptions{0, 500, 10'000}, -1)));
  EXPECT_EQ(run.attempts, 1);
  EXPECT_TRUE(run.waits.empty());
}

TEST(RetryWhileUnavailableTest, OtherFailuresAreNotRetried) {
  RetryRun run;
  absl::Status status =
      run.Retry(RetryOptions{60'000, 500, 10'000}, -1, absl::FailedPreconditionError("newer"));
  EXPECT_TRUE(absl::IsFailedPrecondition(status));
  EXPECT_EQ(run.attempts, 1);
}

}  // namespace
}  // namespace stackhouse::storage::pg
