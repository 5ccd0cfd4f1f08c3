#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"

namespace stackhouse::sim {

// What DriveStreams measured.
struct StreamLoad {
  int64_t acknowledged = 0;  // messages of calls that succeeded
  int64_t errors = 0;        // failed calls
  double seconds = 0;        // wall time from the start signal to the last stream's end
  double cpu_seconds = 0;    // this process's CPU time over the same span
};

// Sends one call of `count` messages of stream `k`: the messages numbered
// k + (first + j) * streams for j in [0, count).
using StreamCall = std::function<absl::Status(int64_t first, int64_t count)>;

// The load modes' engine: `messages` messages over `streams` concurrent streams (threads),
// stream k sending messages k, k + streams, k + 2 * streams, ... in calls of at most `batch`
// messages (0: one call for its whole share). `open(k)` runs on stream k's thread before the
// clock starts (connect, copy a message pool) and returns the stream's call. A failed call is
// counted and logged, naming `method`; the stream goes on with its next call.
StreamLoad DriveStreams(int64_t messages, int64_t streams, int64_t batch, const std::string& method,
                        const std::function<StreamCall(int64_t k)>& open);

}  // namespace stackhouse::sim
