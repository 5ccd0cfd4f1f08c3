// What only RocksSegmentStore does (its record format); the SegmentStore contract is tested for
// every backend in store_conformance_test.cc.
#include "storage/rocks_segment_store.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "language-agent/Tracing.pb.h"
#include "stackhouse/records.pb.h"
#include "storage/key_codec.h"
#include "storage/store_test_data.h"
#include "storage/test_dir.h"

namespace stackhouse::storage {
namespace {

using testing::kStart;
using testing::MakeSegment;
using testing::Summary;

// Every field of a segment survives a round trip, including values outside the enums' ranges
// (clamped as the receivers clamp them).
TEST(RocksSegmentStoreTest, KeepsEveryField) {
  testing::TestDir dir;
  SimulatedClock clock(kStart);
  DatabaseOptions options;
  options.data_dir = dir.path();
  auto db = Database::Open(options, &clock);
  ASSERT_TRUE(db.ok());
  RocksSegmentStore store(db->get());
  model::Segment segment = MakeSegment("seg-full", "trace-full");
  segment.is_size_limited = true;
  model::Span exit;
  exit.span_id = 1;
  exit.parent_span_id = 0;
  exit.start_time_ms = kStart + 2;
  exit.end_time_ms = kStart + 9;
  exit.operation_name = "SELECT";
  exit.peer = "db:5432";
  exit.type = model::SpanType::kExit;
  exit.layer = model::SpanLayer::kDatabase;
  exit.component_id = 22;
  exit.is_error = true;
  exit.skip_analysis = true;
  exit.tags = {{"db.type", "sql"}, {"db.statement", "SELECT 1"}};
  exit.logs = {{kStart + 3, {{"event", "error"}, {"message", "boom"}}}, {kStart + 4, {}}};
  model::SegmentRef ref{model::RefType::kCrossProcess,
                        "trace-up",
                        "seg-up",
                        7,
                        "up-svc",
                        "up-inst",
                        "/up",
                        "10.0.0.1:80"};
  exit.refs = {ref};
  segment.spans.push_back(exit);
  ASSERT_TRUE(store.AddSegments({segment}, {Summary(segment, "i1")}).ok());

  auto got = store.GetSegment("seg-full");
  ASSERT_TRUE(got.ok() && got->has_value());
  const model::Segment& back = (*got)->segment;
  EXPECT_EQ(back.segment_id, "seg-full");
  EXPECT_EQ(back.trace_id, "trace-full");
  EXPECT_EQ(back.service, "svc");
  EXPECT_EQ(back.service_instance, "inst");
  EXPECT_TRUE(back.is_size_limited);
  ASSERT_EQ(back.spans.size(), 2u);
  const model::Span& s = back.spans[1];
  EXPECT_EQ(s.span_id, 1);
  EXPECT_EQ(s.parent_span_id, 0);
  EXPECT_EQ(s.start_time_ms, kStart + 2);
  EXPECT_EQ(s.end_time_ms, kStart + 9);
  EXPECT_EQ(s.operation_name, "SELECT");
  EXPECT_EQ(s.peer, "db:5432");
  EXPECT_EQ(s.type, model::SpanType::kExit);
  EXPECT_EQ(s.layer, model::SpanLayer::kDatabase);
  EXPECT_EQ(s.component_id, 22);
  EXPECT_TRUE(s.is_error);
  EXPECT_TRUE(s.skip_analysis);
  EXPECT_EQ(s.tags, exit.tags);
  ASSERT_EQ(s.logs.size(), 2u);
  EXPECT_EQ(s.logs[0].time_ms, kStart + 3);
  EXPECT_EQ(s.logs[0].data, exit.logs[0].data);
  EXPECT_TRUE(s.logs[1].data.empty());
  ASSERT_EQ(s.refs.size(), 1u);
  EXPECT_EQ(s.refs[0].type, model::RefType::kCrossProcess);
  EXPECT_EQ(s.refs[0].trace_id, "trace-up");
  EXPECT_EQ(s.refs[0].parent_segment_id, "seg-up");
  EXPECT_EQ(s.refs[0].parent_span_id, 7);
  EXPECT_EQ(s.refs[0].parent_service, "up-svc");
  EXPECT_EQ(s.refs[0].parent_instance, "up-inst");
  EXPECT_EQ(s.refs[0].parent_endpoint, "/up");
  EXPECT_EQ(s.refs[0].network_address, "10.0.0.1:80");
}

// Earlier versions stored the agent's SegmentObject bytes in SegmentRecord's field 9; such
// records still read, with every field.
TEST(RocksSegmentStoreTest, ReadsSegmentsStoredAsTheAgentsMessage) {
  testing::TestDir dir;
  SimulatedClock clock(kStart);
  DatabaseOptions options;
  options.data_dir = dir.path();
  auto db = Database::Open(options, &clock);
  ASSERT_TRUE(db.ok());

  skywalking::v3::SegmentObject object;
  object.set_traceid("trace-old");
  object.set_tracesegmentid("seg-old");
  object.set_service("svc");
  object.set_serviceinstance("inst");
  object.set_issizelimited(true);
  auto* span = object.add_spans();
  span->set_spanid(0);
  span->set_parentspanid(-1);
  span->set_starttime(kStart);
  span->set_endtime(kStart + 5);
  span->set_operationname("GET:/old");
  span->set_peer("peer:1");
  span->set_spantype(skywalking::v3::Exit);
  span->set_spanlayer(skywalking::v3::MQ);
  span->set_componentid(9);
  span->set_iserror(true);
  span->set_skipanalysis(true);
  auto* tag = span->add_tags();
  tag->set_key("k");
  tag->set_value("v");
  auto* log = span->add_logs();
  log->set_time(kStart + 1);
  auto* data = log->add_data();
  data->set_key("event");
  data->set_value("x");
  auto* r = span->add_refs();
  r->set_reftype(skywalking::v3::CrossThread);
  r->set_traceid("trace-old");
  r->set_parenttracesegmentid("seg-parent");
  r->set_parentspanid(4);
  r->set_parentservice("ps");
  r->set_parentserviceinstance("pi");
  r->set_parentendpoint("pe");
  r->set_networkaddressusedatpeer("na");

  records::SegmentRecord summary;
  summary.set_trace_id("trace-old");
  summary.set_instance_id("i1");
  summary.set_latency_ms(5);
  summary.set_start_time_ms(kStart);
  std::string value = summary.SerializeAsString();
  // Field 9, length-delimited: the bytes field `segment_object` of earlier versions.
  std::string old_object = object.SerializeAsString();
  value.push_back(static_cast<char>(9 << 3 | 2));
  for (size_t n = old_object.size();; n >>= 7) {
    if (n < 0x80) {
      value.push_back(static_cast<char>(n));
      break;
    }
    value.push_back(static_cast<char>(0x80 | (n & 0x7f)));
  }
  value += old_object;
  std::string key = "g";
  AppendString(&key, "seg-old");
  WriteBatch batch;
  batch.Put(Family::kSegment, key, kStart, value);
  ASSERT_TRUE((*db)->Write(std::move(batch)).ok());

  RocksSegmentStore store(db->get());
  auto got = store.GetSegment("seg-old");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status();
  EXPECT_EQ((*got)->summary.latency_ms, 5);
  EXPECT_EQ((*got)->summary.instance_id, "i1");
  const model::Segment& segment = (*got)->segment;
  EXPECT_EQ(segment.segment_id, "seg-old");
  EXPECT_EQ(segment.trace_id, "trace-old");
  EXPECT_EQ(segment.service_instance, "inst");
  EXPECT_TRUE(segment.is_size_limited);
  ASSERT_EQ(segment.spans.size(), 1u);
  const model::Span& s = segment.spans[0];
  EXPECT_EQ(s.parent_span_id, -1);
  EXPECT_EQ(s.end_time_ms, kStart + 5);
  EXPECT_EQ(s.operation_name, "GET:/old");
  EXPECT_EQ(s.peer, "peer:1");
  EXPECT_EQ(s.type, model::SpanType::kExit);
  EXPECT_EQ(s.layer, model::SpanLayer::kMq);
  EXPECT_EQ(s.component_id, 9);
  EXPECT_TRUE(s.is_error);
  EXPECT_TRUE(s.skip_analysis);
  ASSERT_EQ(s.tags.size(), 1u);
  EXPECT_EQ(s.tags[0].second, "v");
  ASSERT_EQ(s.logs.size(), 1u);
  EXPECT_EQ(s.logs[0].time_ms, kStart + 1);
  EXPECT_EQ(s.logs[0].data[0].second, "x");
  ASSERT_EQ(s.refs.size(), 1u);
  EXPECT_EQ(s.refs[0].type, model::RefType::kCrossThread);
  EXPECT_EQ(s.refs[0].parent_segment_id, "seg-parent");
  EXPECT_EQ(s.refs[0].parent_span_id, 4);
  EXPECT_EQ(s.refs[0].parent_service, "ps");
  EXPECT_EQ(s.refs[0].parent_instance, "pi");
  EXPECT_EQ(s.refs[0].parent_endpoint, "pe");
  EXPECT_EQ(s.refs[0].network_address, "na");
}

}  // namespace
}  // namespace stackhouse::storage
