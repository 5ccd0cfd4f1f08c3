#include "query/trace_view.h"

#include <algorithm>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace stackhouse::query {
namespace {

bool HasTag(const model::SpanAttachedEvent& e, absl::string_view key, absl::string_view value) {
  return std::any_of(e.tags.begin(), e.tags.end(),
                     [&](const auto& tag) { return tag.first == key && tag.second == value; });
}

// Whether the event's data went into the span's peer: the request it received, or the
// response it sent (then it belongs to the entry span on the other side).
bool CrossesToTheCallee(const model::SpanAttachedEvent& e) {
  return (HasTag(e, "data_type", "request") && HasTag(e, "data_direction", "inbound")) ||
         (HasTag(e, "data_type", "response") && HasTag(e, "data_direction", "outbound"));
}

bool AllDigits(absl::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isdigit(c); });
}

void AppendSubtree(std::vector<TraceSpan>* all, size_t index,
                   const absl::flat_hash_map<std::string, std::vector<size_t>>& children,
                   std::vector<bool>* placed, std::vector<size_t>* order) {
  // Iterative depth-first walk (a trace may be deep), children in input order.
  std::vector<size_t> stack = {index};
  while (!stack.empty()) {
    const size_t i = stack.back();
    stack.pop_back();
    if ((*placed)[i]) continue;
    (*placed)[i] = true;
    order->push_back(i);
    auto it = children.find((*all)[i].segment_span_id);
    if (it == children.end()) continue;
    for (auto child = it->second.rbegin(); child != it->second.rend(); ++child) {
      if (!(*placed)[*child]) stack.push_back(*child);
    }
  }
}

}  // namespace

std::vector<TraceSpan> BuildTraceView(const std::vector<model::Segment>& segments,
                                      const std::vector<model::SpanAttachedEvent>& events) {
  std::vector<TraceSpan> spans;
  for (const model::Segment& segment : segments) {
    for (const model::Span& span : segment.spans) {
      TraceSpan& s = spans.emplace_back();
      s.segment = &segment;
      s.span = &span;
      s.segment_span_id = absl::StrCat(segment.segment_id, "S", span.span_id);
      if (span.parent_span_id > -1) {
        s.segment_parent_span_id = absl::StrCat(segment.segment_id, "S", span.parent_span_id);
      } else if (!span.refs.empty()) {
        const model::SegmentRef& ref = span.refs.back();
        s.segment_parent_span_id = absl::StrCat(ref.parent_segment_id, "S", ref.parent_span_id);
      }
    }
  }

  // Events, by start time; the span chosen for a (segment, span id) is kept for its later events.
  std::vector<const model::SpanAttachedEvent*> sorted;
  for (const model::SpanAttachedEvent& e : events) sorted.push_back(&e);
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
    return std::tie(a->start_seconds, a->start_nanos) < std::tie(b->start_seconds, b->start_nanos);
  });
  absl::flat_hash_map<std::string, size_t> chosen;
  for (const model::SpanAttachedEvent* e : sorted) {
    int32_t span_id = 0;
    if (e->zipkin || !AllDigits(e->span_id) || !absl::SimpleAtoi(e->span_id, &span_id)) continue;
    const std::string key = absl::StrCat(e->segment_id, "_", e->span_id);
    auto it = chosen.find(key);
    if (it == chosen.end()) {
      auto named = std::find_if(spans.begin(), spans.end(), [&](const TraceSpan& s) {
        return s.segment->segment_id == e->segment_id && s.span->span_id == span_id;
      });
      if (named == spans.end()) continue;
      size_t index = static_cast<size_t>(named - spans.begin());
      if (CrossesToTheCallee(*e)) {
        auto callee = std::find_if(spans.begin(), spans.end(), [&](const TraceSpan& s) {
          return s.span->type == model::SpanType::kEntry &&
                 s.segment_parent_span_id == named->segment_span_id;
        });
        if (callee != spans.end()) index = static_cast<size_t>(callee - spans.begin());
      }
      it = chosen.emplace(key, index).first;
    }
    spans[it->second].events.push_back(e);
  }

  // Tree order: roots (no parent in the trace) in input order, each with its subtree.
  absl::flat_hash_map<std::string, size_t> by_id;
  for (size_t i = 0; i < spans.size(); ++i) by_id.emplace(spans[i].segment_span_id, i);
  absl::flat_hash_map<std::string, std::vector<size_t>> children;
  std::vector<size_t> roots;
  for (size_t i = 0; i < spans.size(); ++i) {
    const std::string& parent = spans[i].segment_parent_span_id;
    if (parent.empty() || !by_id.contains(parent) || parent == spans[i].segment_span_id) {
      spans[i].root = true;
      roots.push_back(i);
    } else {
      children[parent].push_back(i);
    }
  }
  std::vector<bool> placed(spans.size(), false);
  std::vector<size_t> order;
  for (size_t root : roots) AppendSubtree(&spans, root, children, &placed, &order);
  // Spans on a cycle of parents (malformed references) reach no root: listed last.
  for (size_t i = 0; i < spans.size(); ++i) {
    if (!placed[i]) AppendSubtree(&spans, i, children, &placed, &order);
  }
  std::vector<TraceSpan> out;
  out.reserve(spans.size());
  for (size_t i : order) out.push_back(std::move(spans[i]));
  return out;
}

}  // namespace stackhouse::query
