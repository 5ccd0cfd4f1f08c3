#include "storage/rocks_segment_store.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/test_dir.h"

namespace stackhouse::storage {
namespace {

constexpr int64_t kStart = 1700000000000;

model::Segment MakeSegment(const std::string& id, const std::string& trace) {
  model::Segment segment;
  segment.segment_id = id;
  segment.trace_id = trace;
  segment.service = "svc";
  segment.service_instance = "inst";
  model::Span span;
  span.span_id = 0;
  span.parent_span_id = -1;
  span.start_time_ms = kStart;
  span.end_time_ms = kStart + 50;
  span.operation_name = "GET:/a";
  span.type = model::SpanType::kEntry;
  span.layer = model::SpanLayer::kHttp;
  span.component_id = 1;
  span.tags = {{"http.method", "GET"}};
  model::SegmentRef ref;
  ref.type = model::RefType::kCrossThread;
  ref.parent_segment_id = "parent";
  ref.parent_span_id = 3;
  span.refs.push_back(ref);
  span.logs.push_back({kStart + 1, {{"event", "error"}}});
  segment.spans.push_back(span);
  return segment;
}

model::SegmentSummary Summary(const model::Segment& segment, const std::string& instance) {
  model::SegmentSummary s;
  s.segment_id = segment.segment_id;
  s.trace_id = segment.trace_id;
  s.service_id = "c3Zj.1";
  s.instance_id = instance;
  s.endpoint_name = "GET:/a";
  s.start_time_ms = kStart;
  s.latency_ms = 50;
  return s;
}

TEST(RocksSegmentStoreTest, StoresAndFindsSegments) {
  testing::TestDir dir;
  SimulatedClock clock(kStart);
  DatabaseOptions options;
  options.data_dir = dir.path();
  auto db = Database::Open(options, &clock);
  ASSERT_TRUE(db.ok());
  RocksSegmentStore store(db->get());
  auto a = MakeSegment("seg-a", "trace-1");
  auto b = MakeSegment("seg-b", "trace-1");
  auto c = MakeSegment("seg-c", "trace-2");
  ASSERT_TRUE(
      store.AddSegments({a, b, c}, {Summary(a, "i1"), Summary(b, "i2"), Summary(c, "i1")}).ok());

  auto got = store.GetSegment("seg-a");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  const model::Segment& segment = (*got)->segment;
  EXPECT_EQ((*got)->summary.latency_ms, 50);
  EXPECT_EQ((*got)->summary.instance_id, "i1");
  ASSERT_EQ(segment.spans.size(), 1u);
  EXPECT_EQ(segment.spans[0].operation_name, "GET:/a");
  EXPECT_EQ(segment.spans[0].layer, model::SpanLayer::kHttp);
  ASSERT_EQ(segment.spans[0].refs.size(), 1u);
  EXPECT_EQ(segment.spans[0].refs[0].type, model::RefType::kCrossThread);
  EXPECT_EQ(segment.spans[0].refs[0].parent_segment_id, "parent");
  ASSERT_EQ(segment.spans[0].logs.size(), 1u);
  EXPECT_EQ(segment.spans[0].logs[0].data[0].second, "error");

  auto same_trace = store.ListByTraceAndInstance("trace-1", "i1");
  ASSERT_TRUE(same_trace.ok());
  ASSERT_EQ(same_trace->size(), 1u);
  EXPECT_EQ((*same_trace)[0].summary.segment_id, "seg-a");
  EXPECT_TRUE(store.ListByTraceAndInstance("trace-3", "i1")->empty());
  EXPECT_FALSE(store.GetSegment("nope")->has_value());
  EXPECT_FALSE(store.AddSegments({a}, {}).ok());
}

}  // namespace
}  // namespace stackhouse::storage
