#include "simulator/load_driver.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include "gtest/gtest.h"

namespace stackhouse::sim {
namespace {

// Every message is sent exactly once, by the stream it belongs to, in calls of at most `batch`.
TEST(LoadDriverTest, EachMessageIsSentOnceByItsStream) {
  constexpr int64_t kMessages = 103;
  constexpr int64_t kStreams = 4;
  std::mutex mu;
  std::vector<int> sent(kMessages, 0);
  int64_t largest_call = 0;
  StreamLoad load = DriveStreams(kMessages, kStreams, 10, "test", [&](int64_t k) -> StreamCall {
    return [&, k](int64_t first, int64_t count) {
      std::lock_guard<std::mutex> lock(mu);
      largest_call = std::max(largest_call, count);
      for (int64_t j = 0; j < count; ++j) {
        const int64_t i = k + (first + j) * kStreams;
        if (i < kMessages) ++sent[static_cast<size_t>(i)];
      }
      return absl::OkStatus();
    };
  });
  EXPECT_EQ(load.acknowledged, kMessages);
  EXPECT_EQ(load.errors, 0);
  EXPECT_EQ(largest_call, 10);
  EXPECT_TRUE(std::all_of(sent.begin(), sent.end(), [](int n) { return n == 1; }));
}

TEST(LoadDriverTest, FailedCallsAreCountedAndNotAcknowledged) {
  StreamLoad load = DriveStreams(20, 2, 0, "test", [](int64_t k) -> StreamCall {
    return [k](int64_t, int64_t) {
      return k == 0 ? absl::OkStatus() : absl::UnavailableError("down");
    };
  });
  EXPECT_EQ(load.acknowledged, 10);  // stream 0's whole share in one call
  EXPECT_EQ(load.errors, 1);
}

}  // namespace
}  // namespace stackhouse::sim
