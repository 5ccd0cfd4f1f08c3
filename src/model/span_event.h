#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace stackhouse::model {

// An event Rover attached to a span (grpc-protocol.md §2.4 SpanAttachedEvent), e.g. the raw
// HTTP request it sampled or a syscall that carried it. Times are epoch seconds + nanos.
struct SpanAttachedEvent {
  int64_t start_seconds = 0;
  int32_t start_nanos = 0;
  std::string event;
  int64_t end_seconds = 0;
  int32_t end_nanos = 0;
  std::vector<std::pair<std::string, std::string>> tags;
  std::vector<std::pair<std::string, int64_t>> summary;
  bool zipkin = false;  // the span reference is a Zipkin one (else SkyWalking)
  std::string trace_id;
  std::string segment_id;
  std::string span_id;  // decimal for SkyWalking, hex for Zipkin
};

}  // namespace stackhouse::model
