#pragma once

#include <cstdint>
#include <string>

#include "language-agent/Tracing.pb.h"

namespace stackhouse::testing {

// The segment the integration tests' Java agents report for a traced request: a 200 ms
// GET:/orders entry span from `start`, calling MySQL (an exit span from start + 10 to + 150).
inline skywalking::v3::SegmentObject OrdersSegment(const std::string& service,
                                                   const std::string& instance,
                                                   const std::string& trace_id,
                                                   const std::string& segment_id, int64_t start) {
  skywalking::v3::SegmentObject segment;
  segment.set_traceid(trace_id);
  segment.set_tracesegmentid(segment_id);
  segment.set_service(service);
  segment.set_serviceinstance(instance);
  auto* entry = segment.add_spans();
  entry->set_spanid(0);
  entry->set_parentspanid(-1);
  entry->set_starttime(start);
  entry->set_endtime(start + 200);
  entry->set_operationname("GET:/orders");
  entry->set_spantype(skywalking::v3::Entry);
  entry->set_spanlayer(skywalking::v3::Http);
  entry->set_componentid(1);
  auto* exit = segment.add_spans();
  exit->set_spanid(1);
  exit->set_parentspanid(0);
  exit->set_starttime(start + 10);
  exit->set_endtime(start + 150);
  exit->set_operationname("Mysql/JDBC/PreparedStatement/executeQuery");
  exit->set_peer("db:3306");
  exit->set_spantype(skywalking::v3::Exit);
  exit->set_spanlayer(skywalking::v3::Database);
  exit->set_componentid(33);
  return segment;
}

}  // namespace stackhouse::testing
