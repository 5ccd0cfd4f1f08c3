#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "analysis/go_profile_tree.h"
#include "analysis/thread_dump.h"
#include "model/profile.h"

// The Go agent's trace profiles: pprof (perftools.profiles.Profile) uploads split per segment
// for storage (grpc-protocol.md §5.4 goProfileReport) and read back for analysis
// (graphql-protocol.md §4.6).
namespace perftools::profiles {
class Profile;
}  // namespace perftools::profiles

namespace stackhouse::wire {

// Uploads and their decompressed form are refused beyond this size.
inline constexpr size_t kMaxGoProfileBytes = 64 << 20;
// Profiles whose decoded form would take more memory than this are refused (a scan estimates
// it before decoding: 64 MiB of tiny messages could otherwise take gigabytes).
inline constexpr size_t kMaxDecodedGoProfileBytes = 256 << 20;
// Uploads labelled with more segments than this are refused (the Go agent labels only the
// sampled segments of one task).
inline constexpr size_t kMaxSegmentsPerGoProfile = 100'000;

// `bytes` gunzipped if they start with the gzip magic (1F 8B), else as they are.
// InvalidArgument if the gzip data is corrupt or inflates beyond `max_size` bytes.
absl::StatusOr<std::string> MaybeGunzip(absl::string_view bytes,
                                        size_t max_size = kMaxGoProfileBytes);

// Reads one uploaded profile (possibly gzip-compressed): its uncompressed bytes, the segments
// its samples are labelled with (label keys segment_id, trace_segment_id, segmentId,
// traceSegmentId, traceSegmentID; in order of first appearance) and its dump time (the
// profile's time_nanos in ms, or `now_ms` if 0). The profile is stored once for all its
// segments; ReadGoSegmentSamples picks a segment's samples. InvalidArgument if the bytes are
// not a pprof profile.
absl::StatusOr<model::GoProfile> ReadGoProfileUpload(absl::string_view payload,
                                                     const std::string& task_id, int64_t now_ms);

// A stored profile decoded once, read segment by segment for analysis (spec §4.6 step 3).
class GoProfileReader {
 public:
  // InvalidArgument if the bytes are not a pprof profile or too large to decode.
  static absl::StatusOr<GoProfileReader> Parse(absl::string_view pprof);
  ~GoProfileReader();
  GoProfileReader(GoProfileReader&&) noexcept;
  GoProfileReader& operator=(GoProfileReader&&) noexcept;

  // The sampling period in ms (analysis::GoPeriodMillis).
  int64_t period_ms() const;

  // The samples labelled with `segment_id`, frames interned in `frames`. A frame is a
  // location's lines, each "function:line", joined by ';' (locations without lines are
  // skipped; location id 0 is "root"); ids index the profile's tables from 1, and ids out of
  // range count as no lines.
  std::vector<analysis::GoSample> Samples(absl::string_view segment_id,
                                          analysis::FrameTable* frames) const;

 private:
  explicit GoProfileReader(std::unique_ptr<perftools::profiles::Profile> profile);
  std::unique_ptr<perftools::profiles::Profile> profile_;
};

// A segment's part of a stored profile: its samples and the profile's period in ms.
struct GoSegmentSamples {
  int64_t period_ms = 10;
  std::vector<analysis::GoSample> samples;
};

// GoProfileReader::Parse, then its samples of `segment_id`.
absl::StatusOr<GoSegmentSamples> ReadGoSegmentSamples(absl::string_view pprof,
                                                      absl::string_view segment_id,
                                                      analysis::FrameTable* frames);

}  // namespace stackhouse::wire
