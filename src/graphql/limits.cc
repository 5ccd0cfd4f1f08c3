#include "graphql/limits.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace stackhouse::graphql {
namespace {

// Depth and field count of a selection set, with fragments expanded (saturating).
struct Measure {
  size_t depth = 0;
  size_t fields = 0;
};

size_t SaturatingAdd(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

class LimitChecker {
 public:
  LimitChecker(const ast::Document& document, size_t max_nesting) : max_nesting_(max_nesting) {
    for (const ast::FragmentDefinition& fragment : document.fragments) {
      fragments_.emplace(fragment.name, &fragment);
    }
  }

  // True when selection sets and fragment spreads nest deeper than `max_nesting`; measuring
  // then stopped there, which bounds the recursion (and that of later passes).
  bool too_deep() const { return too_deep_; }

  Measure MeasureSet(const std::vector<ast::Selection>& selections) {
    Measure total;
    if (selections.empty()) return total;
    if (nesting_ >= max_nesting_) {
      too_deep_ = true;
      return total;
    }
    ++nesting_;
    for (const ast::Selection& selection : selections) {
      Measure m;
      switch (selection.kind) {
        case ast::Selection::Kind::kField:
          m = MeasureSet(selection.selection_set);
          m.depth += 1;
          m.fields = SaturatingAdd(m.fields, 1);
          break;
        case ast::Selection::Kind::kInlineFragment:
          m = MeasureSet(selection.selection_set);
          break;
        case ast::Selection::Kind::kFragmentSpread:
          m = MeasureFragment(selection.name);
          break;
      }
      total.depth = std::max(total.depth, m.depth);
      total.fields = SaturatingAdd(total.fields, m.fields);
    }
    --nesting_;
    return total;
  }

  Measure MeasureFragment(const std::string& name) {
    auto memo = memo_.find(name);
    if (memo != memo_.end()) return memo->second;
    auto it = fragments_.find(name);
    if (it == fragments_.end()) return Measure();
    memo_[name] = Measure();  // in progress: a cycle counts as nothing
    Measure m = MeasureSet(it->second->selection_set);
    memo_[name] = m;
    return m;
  }

 private:
  const size_t max_nesting_;
  size_t nesting_ = 0;
  bool too_deep_ = false;
  absl::flat_hash_map<std::string, const ast::FragmentDefinition*> fragments_;
  absl::flat_hash_map<std::string, Measure> memo_;
};

}  // namespace

absl::Status CheckDocumentLimits(const ast::Document& document, const Limits& limits) {
  // Fragment spreads add nesting without adding depth; allow a generous number of them.
  const size_t max_nesting = 2 * limits.max_query_depth + 8;
  LimitChecker checker(document, max_nesting);
  Measure worst;
  for (const ast::OperationDefinition& operation : document.operations) {
    Measure m = checker.MeasureSet(operation.selection_set);
    worst.depth = std::max(worst.depth, m.depth);
    worst.fields = std::max(worst.fields, m.fields);
  }
  for (const ast::FragmentDefinition& fragment : document.fragments) {
    Measure m = checker.MeasureFragment(fragment.name);
    worst.depth = std::max(worst.depth, m.depth);
    worst.fields = std::max(worst.fields, m.fields);
  }
  if (checker.too_deep()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("maximum query depth exceeded: selections and fragment spreads nest deeper "
                     "than ",
                     max_nesting, " (limit max_query_depth)"));
  }
  if (worst.depth > limits.max_query_depth) {
    return absl::ResourceExhaustedError(absl::StrCat("maximum query depth exceeded ", worst.depth,
                                                     " > ", limits.max_query_depth,
                                                     " (limit max_query_depth)"));
  }
  if (worst.fields > limits.max_fields) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "maximum query complexity exceeded ",
        worst.fields == SIZE_MAX ? std::string("too many") : absl::StrCat(worst.fields), " > ",
        limits.max_fields, " (limit max_fields)"));
  }
  return absl::OkStatus();
}

}  // namespace stackhouse::graphql
