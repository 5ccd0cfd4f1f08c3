#pragma once

#include "language-agent/Tracing.pb.h"
#include "model/trace.h"

// Translation between the skywalking.v3 wire messages of trace segments and the domain
// structs. The receivers use it on the way in; storage uses it because it keeps segments in
// their wire encoding. Pure functions, thread-safe.
namespace stackhouse::wire {

model::Segment SegmentFromProto(const skywalking::v3::SegmentObject& proto);
void SegmentToProto(const model::Segment& segment, skywalking::v3::SegmentObject* proto);

}  // namespace stackhouse::wire
