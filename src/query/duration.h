#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "graphql/value.h"

namespace stackhouse::query {

// A coerced `Duration` input as a half-open interval of epoch milliseconds: the start string
// parsed in the server's time zone, the end string parsed and advanced by one step
// (graphql-protocol.md §0.2).
struct TimeRange {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

// Parses a `Duration` input object {start, end, step}. Formats per step: SECOND
// `yyyy-MM-dd HHmmss`, MINUTE `yyyy-MM-dd HHmm`, HOUR `yyyy-MM-dd HH`, DAY `yyyy-MM-dd`.
// Errors: InvalidArgument naming the field and the expected format.
absl::StatusOr<TimeRange> ParseDuration(const graphql::Value& duration);

// The server's UTC offset now as "+HHMM"/"-HHMM" (getTimeInfo.timezone).
std::string TimezoneOffset(int64_t now_ms);

// Floors to the minute: OAP compares entities by minute time buckets.
inline int64_t MinuteFloor(int64_t ms) { return ms - ((ms % 60000) + 60000) % 60000; }

}  // namespace stackhouse::query
