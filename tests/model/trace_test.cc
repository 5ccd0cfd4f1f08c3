#include "model/trace.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/ids.h"

namespace stackhouse::model {
namespace {

Span MakeSpan(int id, SpanType type, const std::string& name, int64_t start, int64_t end) {
  Span span;
  span.span_id = id;
  span.type = type;
  span.operation_name = name;
  span.start_time_ms = start;
  span.end_time_ms = end;
  return span;
}

TEST(TraceTest, SummarizesLikeOap) {
  Segment segment;
  segment.segment_id = "s";
  segment.trace_id = "t";
  segment.service = "order-svc";
  segment.service_instance = "pod-1";
  segment.spans.push_back(MakeSpan(1, SpanType::kExit, "db", 105, 120));
  segment.spans.push_back(MakeSpan(2, SpanType::kEntry, "inner", 101, 130));
  segment.spans.push_back(MakeSpan(0, SpanType::kLocal, "GET:/orders", 100, 150));
  segment.spans[0].is_error = true;
  SegmentSummary summary = Summarize(segment, NameLimits{});
  EXPECT_EQ(summary.service_id, "b3JkZXItc3Zj.1");
  EXPECT_EQ(summary.instance_id, "b3JkZXItc3Zj.1_cG9kLTE=");
  // The last span that is an entry span or has span id 0 names the endpoint.
  EXPECT_EQ(summary.endpoint_name, "GET:/orders");
  EXPECT_EQ(summary.endpoint_id, "b3JkZXItc3Zj.1_R0VUOi9vcmRlcnM=");
  EXPECT_EQ(summary.start_time_ms, 100);
  EXPECT_EQ(summary.latency_ms, 50);
  EXPECT_TRUE(summary.is_error);
  EXPECT_THAT(EntryEndpoints(segment, NameLimits{}), ::testing::ElementsAre("inner"));
}

TEST(TraceTest, NamesAreTruncatedAndLatencyCapped) {
  Segment segment;
  segment.service = std::string(100, 's');
  segment.service_instance = "i";
  segment.spans.push_back(
      MakeSpan(0, SpanType::kEntry, std::string(200, 'e'), 0, int64_t{1} << 40));
  SegmentSummary summary = Summarize(segment, NameLimits{70, 70, 150});
  EXPECT_EQ(summary.service_id, ServiceId(std::string(70, 's')));
  EXPECT_EQ(summary.endpoint_name, std::string(150, 'e'));
  EXPECT_EQ(summary.latency_ms, 2147483647);
  EXPECT_FALSE(summary.is_error);
}

TEST(TraceTest, EnumNames) {
  EXPECT_STREQ(SpanTypeName(SpanType::kExit), "Exit");
  EXPECT_STREQ(SpanLayerName(SpanLayer::kRpcFramework), "RPCFramework");
  EXPECT_STREQ(SpanLayerName(SpanLayer::kFaas), "FAAS");
}

}  // namespace
}  // namespace stackhouse::model
