#include "query/trace_view.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::query {
namespace {

model::Span MakeSpan(int32_t id, int32_t parent, model::SpanType type) {
  model::Span span;
  span.span_id = id;
  span.parent_span_id = parent;
  span.type = type;
  return span;
}

model::Segment MakeSegment(std::string id, std::vector<model::Span> spans) {
  model::Segment segment;
  segment.segment_id = std::move(id);
  segment.trace_id = "t";
  segment.spans = std::move(spans);
  return segment;
}

model::SegmentRef RefTo(std::string segment, int32_t span) {
  model::SegmentRef ref;
  ref.parent_segment_id = std::move(segment);
  ref.parent_span_id = span;
  return ref;
}

model::SpanAttachedEvent Event(std::string name, int64_t seconds, std::string segment,
                               std::string span,
                               std::vector<std::pair<std::string, std::string>> tags = {}) {
  model::SpanAttachedEvent e;
  e.event = std::move(name);
  e.start_seconds = seconds;
  e.trace_id = "t";
  e.segment_id = std::move(segment);
  e.span_id = std::move(span);
  e.tags = std::move(tags);
  return e;
}

std::vector<std::string> Ids(const std::vector<TraceSpan>& spans) {
  std::vector<std::string> ids;
  for (const TraceSpan& s : spans) ids.push_back(s.segment_span_id);
  return ids;
}

std::vector<std::string> EventsOf(const TraceSpan& span) {
  std::vector<std::string> names;
  for (const model::SpanAttachedEvent* e : span.events) names.push_back(e->event);
  return names;
}

// Client segment c: entry 0 → exit 1; server segment s (listed first): entry 0 called by c/1,
// local 1 under it; a segment o whose parent is outside the trace.
std::vector<model::Segment> Trace() {
  model::Span server_entry = MakeSpan(0, -1, model::SpanType::kEntry);
  server_entry.refs = {RefTo("gone", 3), RefTo("c", 1)};  // the last reference counts
  model::Span orphan = MakeSpan(0, -1, model::SpanType::kEntry);
  orphan.refs = {RefTo("elsewhere", 0)};
  return {MakeSegment("s", {server_entry, MakeSpan(1, 0, model::SpanType::kLocal)}),
          MakeSegment("c", {MakeSpan(0, -1, model::SpanType::kEntry),
                            MakeSpan(1, 0, model::SpanType::kExit)}),
          MakeSegment("o", {orphan})};
}

TEST(TraceViewTest, SpansInTreeOrderWithTheirParents) {
  const std::vector<model::Segment> segments = Trace();
  std::vector<TraceSpan> view = BuildTraceView(segments, {});
  EXPECT_THAT(Ids(view), ::testing::ElementsAre("cS0", "cS1", "sS0", "sS1", "oS0"));
  EXPECT_EQ(view[0].segment_parent_span_id, "");
  EXPECT_EQ(view[1].segment_parent_span_id, "cS0");
  EXPECT_EQ(view[2].segment_parent_span_id, "cS1");
  EXPECT_EQ(view[4].segment_parent_span_id, "elsewhereS0");  // not in the trace: a root
  EXPECT_TRUE(view[0].root);
  EXPECT_FALSE(view[1].root);
  EXPECT_FALSE(view[2].root);
  EXPECT_TRUE(view[4].root);
  EXPECT_EQ(view[3].span, &segments[0].spans[1]);
}

TEST(TraceViewTest, EventsFollowOapsRules) {
  const std::vector<model::Segment> segments = Trace();
  model::SpanAttachedEvent zipkin = Event("zipkin", 1, "c", "1");
  zipkin.zipkin = true;
  const std::vector<model::SpanAttachedEvent> events = {
      Event("syscall after", 9, "c", "1"),
      Event("request in", 5, "c", "1", {{"data_type", "request"}, {"data_direction", "inbound"}}),
      Event("request out", 6, "c", "0", {{"data_type", "request"}, {"data_direction", "outbound"}}),
      Event("response out", 7, "s", "1",
            {{"data_type", "response"}, {"data_direction", "outbound"}}),  // no callee: stays
      Event("missing span", 1, "c", "5"),
      Event("hex id", 1, "c", "1a"),
      Event("empty id", 1, "c", ""),
      Event("too big", 1, "c", "99999999999"),
      zipkin,
  };
  std::vector<TraceSpan> view = BuildTraceView(segments, events);
  ASSERT_EQ(view.size(), 5u);
  EXPECT_THAT(EventsOf(view[0]), ::testing::ElementsAre("request out"));                  // cS0
  EXPECT_THAT(EventsOf(view[1]), ::testing::IsEmpty());                                   // cS1
  EXPECT_THAT(EventsOf(view[2]), ::testing::ElementsAre("request in", "syscall after"));  // sS0
  EXPECT_THAT(EventsOf(view[3]), ::testing::ElementsAre("response out"));                 // sS1
  EXPECT_THAT(EventsOf(view[4]), ::testing::IsEmpty());
}

TEST(TraceViewTest, ACycleOfParentsIsListedNotLost) {
  model::Span a = MakeSpan(0, -1, model::SpanType::kEntry);
  a.refs = {RefTo("b", 0)};
  model::Span b = MakeSpan(0, -1, model::SpanType::kEntry);
  b.refs = {RefTo("a", 0)};
  const std::vector<model::Segment> segments = {MakeSegment("a", {a}), MakeSegment("b", {b})};
  EXPECT_THAT(Ids(BuildTraceView(segments, {})), ::testing::ElementsAre("aS0", "bS0"));
}

}  // namespace
}  // namespace stackhouse::query
