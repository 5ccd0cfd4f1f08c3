#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/Command.pb.h"
#include "common/clock.h"
#include "grpcpp/channel.h"
#include "language-agent/Tracing.pb.h"
#include "profile/Profile.pb.h"
#include "simulator/grpc_util.h"
#include "simulator/java_agent_client.h"
#include "simulator/java_app_model.h"
#include "simulator/java_wire.h"
#include "simulator/profile_task.h"
#include "simulator/sim_stats.h"

namespace stackhouse::sim {

struct JavaAgentOptions {
  std::string service = "demo-svc";
  std::string token;                       // `authentication` metadata; empty = none
  int64_t poll_interval_ms = 20'000;       // getProfileTaskCommands period
  int64_t heartbeat_interval_ms = 30'000;  // keepAlive period
  double primary_rate = 5;                 // requests/s to the primary endpoint
  double other_rate = 2.5;                 // requests/s to the other endpoints together
  int64_t call_timeout_ms = 10'000;        // deadline of every call
  // Play the Go agent instead (grpc-protocol.md §4.3): language "golang", and a task's dumps
  // are not streamed but uploaded at the task's end as one labelled pprof CPU profile
  // (goProfileReport, 1 MiB chunks) before reportTaskFinish. The stacks stay the Java app's.
  bool go = false;
};

// One simulated JVM with a SkyWalking Java agent (grpc-protocol.md §4.1), on two threads:
//
// * traffic: requests arrive as a Poisson process and run in real time following a
//   RequestPlan. While a profiling task is active, requests to its endpoint take one of at most
//   5 slots; once they have run MinDurationThreshold ms (and while the task has profiled fewer
//   than MaxSamplingCount segments) their thread is dumped every DumpPeriod ms, sequence from 0.
//   A finished request's segment and every dump are queued (queues of 1,500 segments and 500
//   snapshots, as the agent's buffers; overflow is dropped and counted).
// * reporter: reportInstanceProperties then keepAlive every heartbeat (properties again every
//   10th, or after a failure), getProfileTaskCommands every poll interval with lastCommandTime
//   from -1, snapshot flushes every 500 ms (one collectSnapshot stream each), segment flushes
//   every 100 ms, and reportTaskFinish when a task's duration ends. Failed calls are counted,
//   logged and retried at the next period; UNIMPLEMENTED on polling turns profiling off.
//
// Thread-safe: Start, InjectCommand, BeginStop and Join may be called from any thread.
class JavaAgent {
 public:
  // `app`, `clock` and `stats` must outlive the agent. `index` numbers the agent in the run.
  JavaAgent(const JavaAgentOptions& options, const JavaAppModel* app, int index, uint64_t seed,
            std::shared_ptr<grpc::Channel> channel, const Clock* clock, SimStats* stats);
  ~JavaAgent();

  JavaAgent(const JavaAgent&) = delete;
  JavaAgent& operator=(const JavaAgent&) = delete;

  const JavaIdentity& identity() const { return identity_; }

  void Start();

  // Handles `command` as if a poll had returned it (the --fake-task test aid).
  void InjectCommand(const skywalking::v3::Command& command);

  // Stops new requests; requests in flight end now and their segments are queued. Returns at
  // once.
  void BeginStop() ABSL_LOCKS_EXCLUDED(mu_);

  // After BeginStop: waits for the traffic thread, sends what is queued, reports every task
  // not finished yet with reportTaskFinish, and joins the reporter. Idempotent.
  void Join() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // A request in flight, owned by the traffic thread.
  struct Request {
    RequestPlan plan;
    int64_t start_ms = 0;
    int64_t end_ms = 0;
    std::string trace_id;
    std::string segment_id;
    std::optional<ProfileTaskSpec> task;  // set while the request holds a profiling slot
    bool dumping = false;                 // past the threshold, counted as a sampled segment
    int64_t next_dump_ms = 0;
    int32_t sequence = 0;
  };
  // Per task, owned by the traffic thread.
  struct TaskProfiling {
    int64_t sampled = 0;   // segments that started dumping
    int64_t parallel = 0;  // slots held
  };

  void TrafficLoop();
  Request StartRequest(int64_t now_ms);
  // Dumps the request's thread if due; gives its slot back when its task has ended. Returns the
  // time it needs attention again.
  int64_t ProfileTick(Request& request, int64_t now_ms);
  void ReleaseSlot(Request& request);
  void FinishRequest(Request& request, int64_t now_ms);
  void Enqueue(skywalking::v3::ThreadSnapshot snapshot) ABSL_LOCKS_EXCLUDED(mu_);
  void Enqueue(skywalking::v3::SegmentObject segment) ABSL_LOCKS_EXCLUDED(mu_);

  void ReporterLoop();
  void Heartbeat(int64_t now_ms);
  void Poll(int64_t now_ms);
  void HandleCommand(const skywalking::v3::Command& command);
  void FlushSnapshots(int64_t now_ms) ABSL_LOCKS_EXCLUDED(mu_);
  void FlushSegments(int64_t now_ms) ABSL_LOCKS_EXCLUDED(mu_);
  void ReportFinished(const std::vector<ProfileTaskSpec>& tasks, int64_t now_ms);
  void CountFailure(absl::string_view method, const absl::Status& status, int64_t now_ms);

  // Sleeps until `deadline_ms` on clock_ or until `*flag` becomes true.
  void WaitUntil(int64_t deadline_ms, const bool* flag) ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  const JavaAgentOptions options_;
  const JavaAppModel* const app_;
  const int index_;
  const std::string name_;  // "agent-<index>", for logs
  const Clock* const clock_;
  SimStats* const stats_;
  std::shared_ptr<grpc::Channel> channel_;
  JavaIdentity identity_;
  TaskBoard tasks_;  // thread-safe

  // Owned by the traffic thread.
  Rng traffic_rng_;
  JavaIdGenerator ids_;
  absl::flat_hash_map<std::string, TaskProfiling> profiling_;

  // Owned by the reporter thread.
  std::unique_ptr<JavaAgentClient> client_;
  // Go agent: each task's dumps, until its profile is uploaded.
  absl::flat_hash_map<std::string, std::vector<skywalking::v3::ThreadSnapshot>> go_dumps_;
  CallFailureLog failures_;
  int64_t heartbeats_ = 0;
  bool properties_reported_ = false;
  bool profiling_enabled_ = true;

  // Shared between the threads.
  absl::Mutex mu_;
  std::vector<skywalking::v3::ThreadSnapshot> snapshot_queue_ ABSL_GUARDED_BY(mu_);
  std::vector<skywalking::v3::SegmentObject> segment_queue_ ABSL_GUARDED_BY(mu_);
  bool traffic_stop_ ABSL_GUARDED_BY(mu_) = false;
  bool reporter_stop_ ABSL_GUARDED_BY(mu_) = false;

  // Start and Join, serialized by join_mu_.
  absl::Mutex join_mu_;
  std::thread traffic_thread_ ABSL_GUARDED_BY(join_mu_);
  std::thread reporter_thread_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace stackhouse::sim
