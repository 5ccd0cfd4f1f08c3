#include "metrics/mqe.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "model/ids.h"

namespace stackhouse::metrics {
namespace {

constexpr int kMaxDepth = 32;
constexpr int kMaxTopN = 1000;

// ---- syntax ----------------------------------------------------------------------------------

struct Node {
  enum class Kind { kNumber, kMetric, kCall, kBinary };
  Kind kind = Kind::kNumber;
  double number = 0;
  std::string name;  // metric or function name
  std::vector<std::pair<std::string, std::vector<std::string>>> selectors;  // metric{k='a,b'}
  char op = 0;                                                              // kBinary
  std::vector<std::unique_ptr<Node>> args;
};

class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}

  // The whole expression, or nullptr with error() set.
  std::unique_ptr<Node> Parse() {
    auto node = Expr(0);
    if (node != nullptr) {
      SkipSpace();
      if (pos_ < text_.size())
        return Fail(absl::StrCat("unexpected '", text_.substr(pos_, 1), "'"));
    }
    return node;
  }
  const std::string& error() const { return error_; }

 private:
  std::unique_ptr<Node> Fail(absl::string_view what) {
    if (error_.empty()) error_ = absl::StrCat(what, " at position ", pos_);
    return nullptr;
  }
  void SkipSpace() {
    while (pos_ < text_.size() && absl::ascii_isspace(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
  }
  bool Eat(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  static bool IsNameChar(char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  }

  std::string Name() {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < text_.size() && IsNameChar(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  std::unique_ptr<Node> Expr(int depth) {
    if (depth > kMaxDepth) return Fail(absl::StrCat("nested deeper than ", kMaxDepth));
    return LeftAssociative("+-", depth, &Parser::Term);
  }
  std::unique_ptr<Node> Term(int depth) { return LeftAssociative("*/", depth, &Parser::Primary); }
  // operand (op operand)*, for the operators in `ops`, folded to the left.
  std::unique_ptr<Node> LeftAssociative(absl::string_view ops, int depth,
                                        std::unique_ptr<Node> (Parser::*operand)(int)) {
    auto left = (this->*operand)(depth);
    while (left != nullptr) {
      SkipSpace();
      if (pos_ >= text_.size() || !absl::StrContains(ops, text_[pos_])) break;
      const char op = text_[pos_++];
      auto right = (this->*operand)(depth);
      if (right == nullptr) return nullptr;
      left = Binary(op, std::move(left), std::move(right));
    }
    return left;
  }
  static std::unique_ptr<Node> Binary(char op, std::unique_ptr<Node> l, std::unique_ptr<Node> r) {
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kBinary;
    node->op = op;
    node->args.push_back(std::move(l));
    node->args.push_back(std::move(r));
    return node;
  }

  std::unique_ptr<Node> Primary(int depth) {
    SkipSpace();
    if (pos_ >= text_.size()) return Fail("unexpected end of expression");
    const char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      auto inner = Expr(depth + 1);
      if (inner == nullptr) return nullptr;
      if (!Eat(')')) return Fail("expected ')'");
      return inner;
    }
    if (absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '.') return Number();
    if (!IsNameChar(c)) return Fail(absl::StrCat("unexpected '", text_.substr(pos_, 1), "'"));
    std::string name = Name();
    auto node = std::make_unique<Node>();
    node->name = std::move(name);
    if (Eat('(')) {
      node->kind = Node::Kind::kCall;
      if (!Eat(')')) {
        do {
          // A named argument (relabels(m, label='a', relabel='b')) is kept as a selector.
          const size_t before = pos_;
          std::string key = Name();
          SkipSpace();
          if (!key.empty() && pos_ < text_.size() && text_[pos_] == '=') {
            ++pos_;
            std::string value;
            if (!QuotedString(&value)) return nullptr;
            node->selectors.push_back({std::move(key), {std::move(value)}});
            continue;
          }
          pos_ = before;
          auto arg = Expr(depth + 1);
          if (arg == nullptr) return nullptr;
          node->args.push_back(std::move(arg));
        } while (Eat(','));
        if (!Eat(')')) return Fail("expected ')' or ','");
      }
      return node;
    }
    node->kind = Node::Kind::kMetric;
    if (Eat('{')) {
      do {
        std::string key = Name();
        if (key.empty()) return Fail("expected a label name");
        if (!Eat('=')) return Fail("expected '='");
        std::string quoted;
        if (!QuotedString(&quoted)) return nullptr;
        std::vector<std::string> values = absl::StrSplit(quoted, ',', absl::SkipWhitespace());
        for (auto& v : values) v = std::string(absl::StripAsciiWhitespace(v));
        node->selectors.emplace_back(std::move(key), std::move(values));
      } while (Eat(','));
      if (!Eat('}')) return Fail("expected '}'");
    }
    return node;
  }
  // A 'single' or "double" quoted string (no escapes), or false with error() set.
  bool QuotedString(std::string* out) {
    SkipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      Fail("expected a quoted label value");
      return false;
    }
    const char quote = text_[pos_++];
    size_t end = text_.find(quote, pos_);
    if (end == absl::string_view::npos) {
      Fail("unterminated label value");
      return false;
    }
    *out = std::string(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return true;
  }

  std::unique_ptr<Node> Number() {
    size_t start = pos_;
    while (pos_ < text_.size() &&
           (absl::ascii_isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.')) {
      ++pos_;
    }
    double value = 0;
    if (!absl::SimpleAtod(text_.substr(start, pos_ - start), &value)) {
      pos_ = start;
      return Fail("malformed number");
    }
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kNumber;
    node->number = value;
    return node;
  }

  const absl::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

// ---- evaluation ------------------------------------------------------------------------------

// A value while evaluating: a result, or a plain number (which has no result type of its own).
struct Value {
  ExpressionResult result;
  std::optional<double> scalar;
};

Value Error(std::string text) {
  Value v;
  v.result.error = std::move(text);
  return v;
}

bool IsNumeric(absl::string_view s) {
  double unused;
  return !s.empty() && absl::SimpleAtod(s, &unused);
}

// Series sorted by their labels: numerically when every first label value is a number.
void SortSeries(std::vector<MqeSeries>* series) {
  bool numeric = true;
  for (const auto& s : *series) {
    if (s.labels.empty() || !IsNumeric(s.labels.front().second)) numeric = false;
  }
  std::stable_sort(series->begin(), series->end(),
                   [numeric](const MqeSeries& a, const MqeSeries& b) {
                     if (numeric) {
                       double x = 0, y = 0;
                       (void)absl::SimpleAtod(a.labels.front().second, &x);
                       (void)absl::SimpleAtod(b.labels.front().second, &y);
                       return x < y;
                     }
                     return a.labels < b.labels;
                   });
}

class Evaluator {
 public:
  Evaluator(const MqeEntity& entity, const TimeBuckets& buckets, MetricSource* source)
      : entity_(entity), buckets_(buckets), source_(source) {}

  Value Eval(const Node& node) {
    switch (node.kind) {
      case Node::Kind::kNumber: {
        Value v;
        v.scalar = node.number;
        return v;
      }
      case Node::Kind::kMetric:
        return Metric(node);
      case Node::Kind::kCall:
        return Call(node);
      case Node::Kind::kBinary:
        return BinaryOp(node);
    }
    return Error("internal: unknown expression node");
  }

 private:
  static Value NoSource() {
    return Error("Metrics are not available: the server has no metric store");
  }

  std::string BucketId(size_t i) const { return absl::StrCat(buckets_.starts_ms[i]); }

  Value Metric(const Node& node) {
    if (IsSampledRecord(node.name)) {
      return Error(
          absl::StrCat("Metric: [", node.name, "] is topN record, need top_n function for query."));
    }
    const MetricDefinition* metric = FindMetric(node.name);
    if (metric == nullptr) return Error(absl::StrCat("Metric: [", node.name, "] does not exist."));
    if (source_ == nullptr) return NoSource();
    Value v;
    std::optional<std::string> entity_id = EntityId(entity_, metric->scope);
    if (!entity_id) {
      v.result.type = metric->labeled() ? ResultType::kTimeSeriesValues : ResultType::kUnknown;
      return v;
    }
    auto rows = source_->ReadRows(*metric, *entity_id, buckets_);
    if (!rows.ok())
      return Error(absl::StrCat("Reading ", node.name, ": ", rows.status().message()));
    v.result.type = ResultType::kTimeSeriesValues;
    const int minutes = MinutesOf(buckets_.step);
    const size_t n = buckets_.starts_ms.size();
    auto& out = v.result.results;
    if (metric->function == MetricFunction::kHistogramPercentile) {
      for (const LabeledRows& labeled : *rows) {
        std::vector<MqeSeries> ranks(std::size(kPercentileRanks));
        for (size_t r = 0; r < ranks.size(); ++r) {
          ranks[r].labels = {{"p", absl::StrCat(kPercentileRanks[r])}};
          ranks[r].values.resize(n);
          for (size_t i = 0; i < n; ++i) ranks[r].values[i].id = BucketId(i);
        }
        for (size_t i = 0; i < n && i < labeled.rows.size(); ++i) {
          if (!labeled.rows[i]) continue;
          auto values = RowPercentiles(*labeled.rows[i]);
          for (size_t r = 0; r < ranks.size(); ++r) {
            ranks[r].values[i].value = static_cast<double>(values[r].second);
          }
        }
        for (auto& s : ranks) out.push_back(std::move(s));
      }
    } else {
      if (!metric->labeled() && rows->empty()) rows->push_back(LabeledRows{});
      for (const LabeledRows& labeled : *rows) {
        MqeSeries series;
        if (metric->labeled()) series.labels = {{metric->label, labeled.label_value}};
        series.values.resize(n);
        for (size_t i = 0; i < n; ++i) {
          series.values[i].id = BucketId(i);
          if (i < labeled.rows.size() && labeled.rows[i]) {
            series.values[i].value =
                static_cast<double>(RowValue(metric->function, *labeled.rows[i], minutes));
          }
        }
        out.push_back(std::move(series));
      }
    }
    for (const auto& [key, allowed] : node.selectors) {
      std::set<std::string> keep(allowed.begin(), allowed.end());
      std::erase_if(out, [&](const MqeSeries& s) {
        for (const auto& [k, value] : s.labels) {
          if (k == key) return keep.count(value) == 0;
        }
        return true;
      });
    }
    SortSeries(&out);
    return v;
  }

  Value Call(const Node& node) {
    const std::string function = absl::AsciiStrToLower(node.name);
    if (function == "top_n") return TopN(node);
    if (function == "avg" || function == "sum" || function == "max" || function == "min" ||
        function == "latest") {
      if (node.args.size() != 1) {
        return Error(
            absl::StrCat("Function ", node.name, " takes one expression, not ", node.args.size()));
      }
      return Aggregate(function, Eval(*node.args[0]));
    }
    return Error(absl::StrCat("Unsupported function: ", node.name,
                              " (Stackhouse supports top_n, avg, sum, max, min and latest)"));
  }

  Value TopN(const Node& node) {
    if (node.args.size() != 3 || node.args[0]->kind != Node::Kind::kMetric ||
        node.args[1]->kind != Node::Kind::kNumber || node.args[2]->kind != Node::Kind::kMetric) {
      return Error("top_n takes (metric, N, ASC|DES)");
    }
    const std::string& name = node.args[0]->name;
    const double n = node.args[1]->number;
    const std::string order = absl::AsciiStrToLower(node.args[2]->name);
    if (order != "asc" && order != "des") {
      return Error(absl::StrCat("top_n order must be ASC or DES, not ", node.args[2]->name));
    }
    if (n < 1 || n != std::floor(n)) return Error("top_n needs a whole N of at least 1");
    if (!IsSampledRecord(name)) {
      if (FindMetric(name) == nullptr)
        return Error(absl::StrCat("Metric: [", name, "] does not exist."));
      return Error(absl::StrCat("Unsupported: top_n of metric [", name,
                                "] over entities (Stackhouse answers top_n of sampled records)"));
    }
    if (source_ == nullptr) return NoSource();
    Value v;
    v.result.type = ResultType::kRecordList;
    std::optional<std::string> entity_id = EntityId(entity_, MetricScope::kProcessRelation);
    if (!entity_id || buckets_.starts_ms.empty()) return v;
    const int64_t start = buckets_.starts_ms.front();
    const int64_t end = buckets_.starts_ms.back() + int64_t{MinutesOf(buckets_.step)} * 60000;
    auto records =
        source_->TopRecords(name, *entity_id, start, end,
                            static_cast<int>(std::min<double>(n, kMaxTopN)), order == "asc");
    if (!records.ok())
      return Error(absl::StrCat("Reading ", name, ": ", records.status().message()));
    MqeSeries series;
    for (const SampledRecord& r : *records) {
      series.values.push_back({r.uri, static_cast<double>(r.latency_ms), r.trace_id});
    }
    v.result.results.push_back(std::move(series));
    return v;
  }

  static Value Aggregate(const std::string& function, Value inner) {
    if (inner.result.error) return inner;
    if (inner.scalar) return inner;
    if (inner.result.type != ResultType::kTimeSeriesValues &&
        inner.result.type != ResultType::kSingleValue) {
      return Error(absl::StrCat("Unsupported aggregation: ", function, " of a ",
                                ResultTypeName(inner.result.type), " result"));
    }
    Value v;
    v.result.type = ResultType::kSingleValue;
    for (MqeSeries& series : inner.result.results) {
      std::optional<double> acc;
      int64_t n = 0;
      for (const MqeValue& value : series.values) {
        if (!value.value) continue;
        const double x = *value.value;
        ++n;
        if (!acc) {
          acc = x;
        } else if (function == "max") {
          acc = std::max(*acc, x);
        } else if (function == "min") {
          acc = std::min(*acc, x);
        } else if (function == "latest") {
          acc = x;
        } else {
          *acc += x;
        }
      }
      if (acc && function == "avg") *acc /= static_cast<double>(n);
      MqeSeries out;
      out.labels = std::move(series.labels);
      out.values.push_back({std::nullopt, acc, std::nullopt});
      v.result.results.push_back(std::move(out));
    }
    return v;
  }

  static std::optional<double> Apply(char op, std::optional<double> a, std::optional<double> b) {
    if (!a || !b) return std::nullopt;
    double r = 0;
    switch (op) {
      case '+':
        r = *a + *b;
        break;
      case '-':
        r = *a - *b;
        break;
      case '*':
        r = *a * *b;
        break;
      default:
        r = *a / *b;
        break;
    }
    if (!std::isfinite(r)) return std::nullopt;  // x / 0: no value
    return r;
  }

  Value BinaryOp(const Node& node) {
    Value l = Eval(*node.args[0]);
    if (l.result.error) return l;
    Value r = Eval(*node.args[1]);
    if (r.result.error) return r;
    const char op = node.op;
    if (l.scalar && r.scalar) {
      Value v;
      v.result.type = ResultType::kSingleValue;
      v.result.results.push_back(
          {{}, {{std::nullopt, Apply(op, l.scalar, r.scalar), std::nullopt}}});
      return v;
    }
    if ((!l.scalar && l.result.type == ResultType::kUnknown) ||
        (!r.scalar && r.result.type == ResultType::kUnknown)) {
      return Error("Unsupported binary operation: Unsupported operation.");
    }
    if (l.scalar || r.scalar) {
      Value v = l.scalar ? std::move(r) : std::move(l);
      const double k = l.scalar ? *l.scalar : *r.scalar;
      const bool scalar_left = l.scalar.has_value();
      for (MqeSeries& series : v.result.results) {
        for (MqeValue& value : series.values) {
          value.value = scalar_left ? Apply(op, k, value.value) : Apply(op, value.value, k);
        }
      }
      return v;
    }
    if (l.result.type != r.result.type || l.result.type == ResultType::kRecordList) {
      return Error("Unsupported binary operation: Unsupported operation.");
    }
    Value v;
    v.result.type = l.result.type;
    for (MqeSeries& a : l.result.results) {
      const MqeSeries* b = nullptr;
      if (l.result.results.size() == 1 && r.result.results.size() == 1) {
        b = &r.result.results[0];
      } else {
        for (const MqeSeries& candidate : r.result.results) {
          if (candidate.labels == a.labels) b = &candidate;
        }
      }
      if (b == nullptr || b->values.size() != a.values.size()) continue;
      for (size_t i = 0; i < a.values.size(); ++i) {
        a.values[i].value = Apply(op, a.values[i].value, b->values[i].value);
      }
      if (a.labels.empty()) a.labels = b->labels;
      v.result.results.push_back(std::move(a));
    }
    return v;
  }

  const MqeEntity& entity_;
  const TimeBuckets& buckets_;
  MetricSource* const source_;
};

}  // namespace

const char* ResultTypeName(ResultType type) {
  switch (type) {
    case ResultType::kUnknown:
      return "UNKNOWN";
    case ResultType::kSingleValue:
      return "SINGLE_VALUE";
    case ResultType::kTimeSeriesValues:
      return "TIME_SERIES_VALUES";
    case ResultType::kSortedList:
      return "SORTED_LIST";
    case ResultType::kRecordList:
      return "RECORD_LIST";
  }
  return "UNKNOWN";
}

int MinutesOf(Step step) {
  switch (step) {
    case Step::kMinute:
      return 1;
    case Step::kHour:
      return 60;
    case Step::kDay:
      return 1440;
  }
  return 1;
}

std::optional<std::string> EntityId(const MqeEntity& e, MetricScope scope) {
  auto process = [](const std::optional<std::string>& service, const std::optional<bool>& normal,
                    const std::optional<std::string>& instance,
                    const std::optional<std::string>& name) -> std::optional<std::string> {
    if (!service || !normal || !instance || !name) return std::nullopt;
    return model::ProcessId(*name,
                            model::InstanceId(model::ServiceId(*service, *normal), *instance));
  };
  std::optional<std::string> source =
      process(e.service_name, e.normal, e.service_instance_name, e.process_name);
  if (scope == MetricScope::kProcess) return source;
  std::optional<std::string> dest = process(e.dest_service_name, e.dest_normal,
                                            e.dest_service_instance_name, e.dest_process_name);
  if (!source || !dest) return std::nullopt;
  return model::ProcessRelationId(*source, *dest);
}

ExpressionResult EvaluateExpression(absl::string_view expression, const MqeEntity& entity,
                                    const TimeBuckets& buckets, MetricSource* source) {
  ExpressionResult failed;
  if (expression.size() > kMaxExpressionBytes) {
    failed.error = absl::StrCat("Expression is too long: ", expression.size(), " bytes, at most ",
                                kMaxExpressionBytes);
    return failed;
  }
  Parser parser(expression);
  std::unique_ptr<Node> root = parser.Parse();
  if (root == nullptr) {
    failed.error = absl::StrCat("Expression: [", expression, "] error: ", parser.error());
    return failed;
  }
  Value v = Evaluator(entity, buckets, source).Eval(*root);
  if (v.result.error) {
    v.result.type = ResultType::kUnknown;
    v.result.results.clear();
    return std::move(v.result);
  }
  if (v.scalar) {
    v.result.type = ResultType::kSingleValue;
    v.result.results.push_back({{}, {{std::nullopt, v.scalar, std::nullopt}}});
  }
  return std::move(v.result);
}

std::string FormatMqeValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "∞" : "-∞";
  // Java's DecimalFormat rounds the shortest decimal that reads back as the double.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, std::fabs(value), std::chars_format::fixed);
  if (ec != std::errc()) return "0";
  std::string digits(buf, end);
  std::string int_part = digits, frac;
  if (size_t dot = digits.find('.'); dot != std::string::npos) {
    int_part = digits.substr(0, dot);
    frac = digits.substr(dot + 1);
  }
  if (frac.size() > 3) {
    const char first_dropped = frac[3];
    const bool rest_nonzero = frac.find_first_not_of('0', 4) != std::string::npos;
    std::string kept = int_part + frac.substr(0, 3);
    // A dropped "5" alone is a tie only if the double is exactly that decimal; otherwise Java
    // (since JDK 8) rounds towards the side the binary value lies on: 0.0005 is 0.000500…0104
    // (→ 0.001), 0.8055 is 0.805499… (→ 0.805). Correctly rounded fixed notation at 3 digits
    // (half-even on exact ties) decides both.
    bool up = first_dropped > '5' || (first_dropped == '5' && rest_nonzero);
    if (first_dropped == '5' && !rest_nonzero) {
      char exact[64];
      auto [exact_end, exact_ec] =
          std::to_chars(exact, exact + sizeof exact, std::fabs(value), std::chars_format::fixed, 3);
      up = exact_ec == std::errc() &&
           std::string(exact, exact_end) != absl::StrCat(int_part, ".", frac.substr(0, 3));
    }
    if (up) {
      int i = static_cast<int>(kept.size()) - 1;
      while (i >= 0 && kept[i] == '9') kept[i--] = '0';
      if (i < 0) {
        kept.insert(kept.begin(), '1');
      } else {
        ++kept[i];
      }
    }
    int_part = kept.substr(0, kept.size() - 3);
    frac = kept.substr(kept.size() - 3);
  }
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  std::string out = value < 0 || std::signbit(value) ? "-" : "";
  out += int_part.empty() ? "0" : int_part;
  if (!frac.empty()) absl::StrAppend(&out, ".", frac);
  return out;
}

}  // namespace stackhouse::metrics
