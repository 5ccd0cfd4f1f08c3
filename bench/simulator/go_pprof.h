#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "profile/Profile.pb.h"

namespace stackhouse::sim {

// The Go agent's view of a trace-profiling task (grpc-protocol.md §4.3): the CPU profile of the
// task's duration, each sample labelled with the segment it ran for. Built here from the same
// thread dumps the Java agent would send (frames "name:line", root first): one sample per
// dump, value [1, period], label traceSegmentID, locations leaf first. Returns the profile
// gzip-compressed, as runtime/pprof writes it. Pure.
std::string BuildGoCpuProfile(const std::vector<skywalking::v3::ThreadSnapshot>& dumps,
                              int64_t period_ms, int64_t start_ms);

}  // namespace stackhouse::sim
