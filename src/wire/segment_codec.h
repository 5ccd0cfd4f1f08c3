#pragma once

#include "language-agent/Tracing.pb.h"
#include "model/trace.h"

// The agents' skywalking.v3 trace segment as the domain struct (the receivers' way in; enum
// values outside the protocol's range fall back to Local / Unknown / CrossProcess). Pure,
// thread-safe.
namespace stackhouse::wire {

model::Segment SegmentFromProto(const skywalking::v3::SegmentObject& proto);

}  // namespace stackhouse::wire
