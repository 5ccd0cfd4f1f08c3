// Metrics query expressions (addendum §1.4-1.8) and sampled records (§3.2),
// schema/metrics.graphqls: adapts GraphQL's Entity and Duration to metrics::EvaluateExpression
// and its result to ExpressionResult. Every problem with an expression, its entity or its
// duration comes back in ExpressionResult.error with no GraphQL error, because booster-ui blanks
// every widget of a request on one GraphQL error.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "metrics/metric_catalog.h"
#include "metrics/mqe.h"
#include "query/duration.h"
#include "query/query_service.h"
#include "query/resolver_util.h"

namespace stackhouse::query {
namespace {

using Context = graphql::ResolverContext;

std::optional<std::string> OptionalStringField(const graphql::Value& object,
                                               absl::string_view name) {
  const graphql::Value* v = object.Find(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  return v->string_value();
}

std::optional<bool> OptionalBoolField(const graphql::Value& object, absl::string_view name) {
  const graphql::Value* v = object.Find(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  return v->bool_value();
}

metrics::MqeEntity EntityFromValue(const graphql::Value& entity) {
  metrics::MqeEntity e;
  e.service_name = OptionalStringField(entity, "serviceName");
  e.normal = OptionalBoolField(entity, "normal");
  e.service_instance_name = OptionalStringField(entity, "serviceInstanceName");
  e.process_name = OptionalStringField(entity, "processName");
  e.dest_service_name = OptionalStringField(entity, "destServiceName");
  e.dest_normal = OptionalBoolField(entity, "destNormal");
  e.dest_service_instance_name = OptionalStringField(entity, "destServiceInstanceName");
  e.dest_process_name = OptionalStringField(entity, "destProcessName");
  return e;
}

// Every step bucket from the duration's start to its end inclusive, as bucket starts in the
// server's zone. SECOND has no buckets of its own (metrics are kept per minute at the finest):
// it reads the minutes that hold the range. Errors: InvalidArgument for a malformed or reversed
// duration, or more than `max_buckets` buckets.
absl::StatusOr<metrics::TimeBuckets> BucketsOf(const graphql::Value& duration, size_t max_buckets) {
  SH_ASSIGN_OR_RETURN(TimeRange range, ParseDuration(duration));
  const std::string step = duration.Find("step")->string_value();
  if (range.end_ms <= range.start_ms) {
    return absl::InvalidArgumentError("duration.end is before duration.start");
  }
  const absl::TimeZone zone = absl::LocalTimeZone();
  metrics::TimeBuckets buckets;
  auto too_many = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("duration has more than ", max_buckets, " ", step,
                     " buckets (query.maxMetricsQueryBuckets): choose a shorter range or a "
                     "coarser step"));
  };
  // Adds `start_ms` unless it repeats the last start (an hour that a DST change repeats).
  auto add = [&](int64_t start_ms) -> bool {
    if (!buckets.starts_ms.empty() && start_ms <= buckets.starts_ms.back()) return true;
    if (buckets.starts_ms.size() == max_buckets) return false;
    buckets.starts_ms.push_back(start_ms);
    return true;
  };
  const absl::Time first = absl::FromUnixMillis(range.start_ms);
  const absl::Time last = absl::FromUnixMillis(range.end_ms - 1);
  if (step == "DAY") {
    buckets.step = metrics::Step::kDay;
    for (absl::CivilDay d = absl::ToCivilDay(first, zone); d <= absl::ToCivilDay(last, zone); ++d) {
      if (!add(absl::ToUnixMillis(absl::FromCivil(d, zone)))) return too_many();
    }
  } else if (step == "HOUR") {
    buckets.step = metrics::Step::kHour;
    for (absl::CivilHour h = absl::ToCivilHour(first, zone); h <= absl::ToCivilHour(last, zone);
         ++h) {
      if (!add(absl::ToUnixMillis(absl::FromCivil(h, zone)))) return too_many();
    }
  } else {
    buckets.step = metrics::Step::kMinute;
    for (int64_t m = MinuteFloor(range.start_ms); m <= MinuteFloor(range.end_ms - 1); m += 60000) {
      if (!add(m)) return too_many();
    }
  }
  return buckets;
}

Result OptionalString(const std::optional<std::string>& s) {
  return s ? Result::String(*s) : Result::Null();
}

// A value as the OAP writes it (addendum §1.7), null for a bucket without data.
Result FormattedValue(const std::optional<double>& value) {
  return value ? Result::String(metrics::FormatMqeValue(*value)) : Result::Null();
}

Result ExpressionResultOf(const metrics::ExpressionResult& r) {
  std::vector<Result> results;
  results.reserve(r.results.size());
  for (const metrics::MqeSeries& series : r.results) {
    std::vector<Result> values;
    values.reserve(series.values.size());
    for (const metrics::MqeValue& v : series.values) {
      values.push_back(Result::Map({
          {"id", OptionalString(v.id)},
          {"owner", Result::Null()},
          {"value", FormattedValue(v.value)},
          {"traceID", OptionalString(v.trace_id)},
      }));
    }
    results.push_back(Result::Map({{"metric", Result::Map({{"labels", KeyValues(series.labels)}})},
                                   {"values", Result::List(std::move(values))}}));
  }
  return Result::Map({{"type", Result::String(metrics::ResultTypeName(r.type))},
                      {"results", Result::List(std::move(results))},
                      {"error", OptionalString(r.error)},
                      {"debuggingTrace", Result::Null()}});
}

Result ErrorResult(std::string error) {
  metrics::ExpressionResult r;
  r.error = std::move(error);
  return ExpressionResultOf(r);
}

}  // namespace

void BindMetricsResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder) {
  metrics::MetricSource* source = deps.metric_source;
  const size_t max_buckets =
      static_cast<size_t>(deps.config != nullptr ? deps.config->query.max_metric_buckets
                                                 : config::QueryConfig().max_metric_buckets);
  builder->BindResolver(
      "Query.execExpression", [source, max_buckets](const Context& c) -> absl::StatusOr<Result> {
        absl::StatusOr<metrics::TimeBuckets> buckets =
            BucketsOf(c.args().Get("duration"), max_buckets);
        if (!buckets.ok()) return ErrorResult(std::string(buckets.status().message()));
        return ExpressionResultOf(
            metrics::EvaluateExpression(c.args().Get("expression").string_value(),
                                        EntityFromValue(c.args().Get("entity")), *buckets, source));
      });
  // swctl `records list`: the top_n of the record, as Records. Unlike execExpression its
  // problems are GraphQL errors (swctl prints them).
  builder->BindResolver(
      "Query.readRecords", [source, max_buckets](const Context& c) -> absl::StatusOr<Result> {
        const graphql::Value& condition = c.args().Get("condition");
        const std::string name = OptionalStringField(condition, "name").value_or("");
        if (!metrics::IsSampledRecord(name)) {
          return absl::InvalidArgumentError(
              absl::StrCat("condition.name \"", name,
                           "\" is not a sampled record (sampled_slow_trace_record, "
                           "sampled_status_4xx_trace_record, "
                           "sampled_status_5xx_trace_record)"));
        }
        const graphql::Value* top_n = condition.Find("topN");
        const graphql::Value* order = condition.Find("order");
        const graphql::Value* parent = condition.Find("parentEntity");
        SH_ASSIGN_OR_RETURN(metrics::TimeBuckets buckets,
                            BucketsOf(c.args().Get("duration"), max_buckets));
        metrics::ExpressionResult r = metrics::EvaluateExpression(
            absl::StrCat("top_n(", name, ",", top_n ? top_n->int_value() : 0, ",",
                         order ? order->string_value() : "DES", ")"),
            EntityFromValue(parent ? *parent : graphql::Value()), buckets, source);
        if (r.error) return absl::InvalidArgumentError(*r.error);
        std::vector<Result> records;
        for (const metrics::MqeSeries& series : r.results) {
          for (const metrics::MqeValue& v : series.values) {
            records.push_back(Result::Map({
                {"name", Result::String(v.id.value_or(""))},
                {"id", Result::String(v.trace_id.value_or(""))},
                {"value", FormattedValue(v.value)},
                {"refId", OptionalString(v.trace_id)},
            }));
          }
        }
        return Result::List(std::move(records));
      });
}

}  // namespace stackhouse::query
