#include "simulator/load_driver.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/logging.h"

namespace stackhouse::sim {
namespace {

double CpuSeconds() {
  struct rusage usage = {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

StreamLoad DriveStreams(int64_t messages, int64_t streams, int64_t batch, const std::string& method,
                        const std::function<StreamCall(int64_t k)>& open) {
  auto log = GetLogger("sim");
  std::atomic<int64_t> acknowledged{0};
  std::atomic<int64_t> errors{0};
  std::latch ready(streams + 1);
  std::vector<std::thread> workers;
  for (int64_t k = 0; k < streams; ++k) {
    workers.emplace_back([&, k] {
      const int64_t share = messages > k ? (messages - k + streams - 1) / streams : 0;
      const int64_t chunk = batch > 0 ? batch : std::max<int64_t>(share, 1);
      StreamCall call = open(k);
      ready.arrive_and_wait();
      for (int64_t done = 0; done < share;) {
        const int64_t count = std::min(chunk, share - done);
        if (absl::Status s = call(done, count); s.ok()) {
          acknowledged.fetch_add(count);
        } else {
          errors.fetch_add(1);
          log->error("stream {}: {} failed: {}", k, method, s.ToString());
        }
        done += count;
      }
    });
  }
  // Every stream is open: start the clock.
  const double cpu_start = CpuSeconds();
  const absl::Time start = absl::Now();
  ready.arrive_and_wait();
  for (std::thread& worker : workers) worker.join();
  StreamLoad load;
  load.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  load.cpu_seconds = CpuSeconds() - cpu_start;
  load.acknowledged = acknowledged.load();
  load.errors = errors.load();
  return load;
}

}  // namespace stackhouse::sim
