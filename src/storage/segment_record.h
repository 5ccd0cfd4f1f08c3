#pragma once

// The stored form of a trace segment (records::SegmentBody), shared by the storage backends.
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/trace.h"

namespace stackhouse::records {
class SegmentBody;
}

namespace stackhouse::storage {

// Fills `body` with `segment`.
void SegmentToRecord(const model::Segment& segment, records::SegmentBody* body);

// The segment in `body`; out-of-range enum values read as their defaults.
model::Segment SegmentFromRecord(const records::SegmentBody& body);

// `segment` as serialized records::SegmentBody bytes.
std::string EncodeSegment(const model::Segment& segment);

// The segment in serialized records::SegmentBody `bytes`; DataLoss when they do not parse.
absl::StatusOr<model::Segment> DecodeSegment(absl::string_view bytes);

}  // namespace stackhouse::storage
