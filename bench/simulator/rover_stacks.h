#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ebpf/profiling/Profile.pb.h"
#include "simulator/java_app_model.h"
#include "simulator/rover_task.h"

namespace stackhouse::sim {

// What runs in a process Rover profiles; decides the symbols of its stacks.
enum class ProcessKind {
  kJava,   // a HotSpot JVM: libjvm/libc symbols, JIT frames Rover cannot name (`[MISSING]`)
  kGo,     // a Go HTTP service: Go runtime, net/http, database/sql, encoding/json
  kEnvoy,  // the Istio sidecar: Envoy's dispatcher, filter chains, BoringSSL, libc
};

// "java", "go" or "envoy".
const char* ProcessKindName(ProcessKind kind);

// One distinct (kernel stack, user stack) pair of a process, as Rover's stack maps hold it.
struct SimStack {
  int32_t kernel_id = 0;            // stack-map id; 0 = no kernel stack
  int32_t user_id = 0;              // stack-map id of the user stack
  std::vector<std::string> kernel;  // innermost first, as Rover sends them; may be empty
  std::vector<std::string> user;    // innermost first
  double off_cpu_mean_ns = 0;       // OFF_CPU: mean time off CPU per switch
};

// The stacks one process shows under one profiling target (ON_CPU or OFF_CPU): `distinct`
// pairs composed from per-kind thread roots, code paths (with recursion or JIT frames of varying
// depth) and leaves, most user stacks 20-60 frames deep, a few with `[unknown]` or empty symbols.
// ON_CPU stacks carry a kernel stack (5-15 frames: syscalls, page faults) when their leaf is in
// the kernel; OFF_CPU stacks always do (the blocking syscall, or involuntary preemption), ending
// in `finish_task_switch`. Stacks are ranked: the i-th (from 0) is drawn with weight
// 1/(i+1)^zipf, so a few are hot and most are rare. Deterministic for a seed. Immutable after
// construction, so thread-safe.
class StackModel {
 public:
  StackModel(ProcessKind kind, EbpfTarget target, int distinct, uint64_t seed, double zipf = 1.1);

  const std::vector<SimStack>& stacks() const { return stacks_; }
  EbpfTarget target() const { return target_; }

  // Index of one stack drawn by rank.
  size_t Pick(Rng& rng) const;

  // Draws `events` ON_CPU samples or OFF_CPU switches and returns one message per distinct stack
  // hit (deltas: `dumpCount`, or `switchCount` and `duration` in ns), hottest first, without
  // `task`. Appends to `out`; returns the number of events.
  int64_t Sample(int64_t events, Rng& rng,
                 std::vector<skywalking::v3::EBPFProfilingData>* out) const;

  // The message for stack `index` with the given deltas (ON_CPU: `count` samples; OFF_CPU:
  // `count` switches lasting `duration_ns`), kernel stack first as Rover sends it.
  skywalking::v3::EBPFProfilingData Message(size_t index, int32_t count, int64_t duration_ns) const;

 private:
  EbpfTarget target_;
  std::vector<SimStack> stacks_;
  std::vector<double> cumulative_;  // running sum of the rank weights
};

}  // namespace stackhouse::sim
