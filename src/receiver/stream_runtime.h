#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "grpcpp/support/status.h"

namespace stackhouse::receiver {

// What the agent-facing client streams share now that none holds a thread (gRPC's callback
// API): where their handlers (parsing, checks, storage writes) run, the cap on open streams,
// and the sweeper that ends streams idle for longer than the idle timeout. A stream is a
// reactor that handles each message it read and asks for the next one only when done, so a
// stream's messages are handled one at a time, in order, and a slow store slows the agents
// (HTTP/2 flow control) instead of queueing their messages in memory. The handlers run inline
// on the gRPC callback thread that read the message (no thread hand-off: a hand-off per
// message cost ten times the CPU, see performance.md), or, with `workers` > 0, on a bounded
// pool of worker threads (for slow storage, e.g. an fsync per write). Thread-safe.
class StreamRuntime {
 public:
  struct Options {
    // Worker threads that run the streams' steps; 0 = none, each step runs on the thread that
    // scheduled it (gRPC's callback thread, or the sweeper).
    int workers = 0;
    // Streams open at once at most (further ones are refused); 0 = no limit.
    int max_streams = 10000;
    // A stream that waits this long for its next message is ended; 0 = never.
    int64_t idle_timeout_ms = 0;
  };

  // One open stream, as the runtime sees it. Implemented by the reactors.
  class Stream {
   public:
    virtual ~Stream() = default;
    // Does the work the stream was scheduled for; called once per Schedule, on a worker thread
    // or inline.
    virtual void Run() = 0;
    // The sweeper's question, called with the runtime's registry locked (so the stream is not
    // destroyed meanwhile): if the stream has been waiting for a message since before
    // `since_ms`, marks it to end as idle and returns true (the runtime then schedules it).
    virtual bool ExpireIfWaitingSince(int64_t since_ms) = 0;
  };

  // `clock` (the idle timeout's time) and `metrics` must outlive the runtime. Starts the
  // workers, and the sweeper when there is an idle timeout.
  StreamRuntime(const Options& options, const Clock* clock, MetricsRegistry* metrics);
  // Stop()s.
  ~StreamRuntime();

  StreamRuntime(const StreamRuntime&) = delete;
  StreamRuntime& operator=(const StreamRuntime&) = delete;

  // Admits a new stream of `rpc` (the method's name, for the status): OK and registered, or
  // RESOURCE_EXHAUSTED naming core.gRPCMaxConcurrentStreams when that many streams are open
  // (counted in `stackhouse_grpc_streams_refused_total`).
  grpc::Status Admit(Stream* stream, absl::string_view rpc);
  // Forgets an admitted stream; called once, when its call is done.
  void Release(Stream* stream);
  // Runs `stream` on a worker (FIFO queue), or at once on this thread when there are no
  // workers. A stream is scheduled at most once at a time.
  void Schedule(Stream* stream);
  // Counts a stream ended by the idle timeout (`stackhouse_grpc_streams_idle_ended_total`).
  void CountIdleEnd() { idle_ended_->Increment(); }

  // Ends the workers (after the work queued) and the sweeper. Call once no stream is open (the
  // gRPC server has stopped). Idempotent.
  void Stop();

  int64_t NowMillis() const { return clock_->NowMillis(); }
  int64_t idle_timeout_ms() const { return options_.idle_timeout_ms; }
  size_t open_streams() const { return open_.load(std::memory_order_relaxed); }

 private:
  void WorkerLoop();
  void SweeperLoop();

  // Constant after construction.
  const Options options_;
  const Clock* const clock_;
  Counter* const refused_;
  Counter* const idle_ended_;

  std::atomic<size_t> open_{0};

  mutable absl::Mutex registry_mu_;
  absl::flat_hash_set<Stream*> streams_ ABSL_GUARDED_BY(registry_mu_);

  absl::Mutex queue_mu_;
  std::deque<Stream*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;

  std::vector<std::thread> workers_;
  std::thread sweeper_;
};

}  // namespace stackhouse::receiver
