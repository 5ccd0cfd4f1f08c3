#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/entities.h"

// Meters as agents report them (grpc-protocol.md §2.9), after the data-set rule of the addendum
// §2.1: one data set is one `collect` stream or one `MeterDataCollection`, and every sample of it
// carries the data set's service, instance and time (the last non-empty values seen). Plain
// values; copyable and thread-compatible.
namespace stackhouse::model {

// One bucket of a meter histogram: per-bucket (not cumulative) count, keyed by lower bound.
struct MeterBucket {
  double lower_bound = 0;
  bool negative_infinity = false;  // the lower bound is -inf
  int64_t count = 0;
};

// One meter value: a single value, or a histogram.
struct MeterSample {
  std::string name;
  KeyValueList labels;  // as reported
  bool histogram = false;
  double value = 0;                  // single value
  std::vector<MeterBucket> buckets;  // histogram
};

struct MeterDataSet {
  std::string service;
  std::string instance;
  int64_t timestamp_ms = 0;
  std::vector<MeterSample> samples;
};

}  // namespace stackhouse::model
