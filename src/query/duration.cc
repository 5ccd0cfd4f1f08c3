#include "query/duration.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace stackhouse::query {
namespace {

struct StepFormat {
  const char* step;
  const char* format;  // absl::ParseTime format
  const char* shown;   // how the spec writes it
  int64_t step_ms;     // 0 for DAY (calendar day in the local zone)
};

constexpr StepFormat kSteps[] = {
    {"SECOND", "%Y-%m-%d %H%M%S", "yyyy-MM-dd HHmmss", 1000},
    {"MINUTE", "%Y-%m-%d %H%M", "yyyy-MM-dd HHmm", 60000},
    {"HOUR", "%Y-%m-%d %H", "yyyy-MM-dd HH", 3600000},
    {"DAY", "%Y-%m-%d", "yyyy-MM-dd", 0},
};

absl::StatusOr<absl::Time> ParseLocal(const StepFormat& step, const std::string& text,
                                      const char* field) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(step.format, text, absl::LocalTimeZone(), &t, &error)) {
    return absl::InvalidArgumentError(absl::StrCat("duration.", field, " \"", text,
                                                   "\" does not match ", step.shown, " (step ",
                                                   step.step, ")"));
  }
  return t;
}

}  // namespace

absl::StatusOr<TimeRange> ParseDuration(const graphql::Value& duration) {
  const graphql::Value* start = duration.Find("start");
  const graphql::Value* end = duration.Find("end");
  const graphql::Value* step = duration.Find("step");
  if (start == nullptr || end == nullptr || step == nullptr) {
    return absl::InvalidArgumentError("duration needs start, end and step");
  }
  for (const StepFormat& format : kSteps) {
    if (step->string_value() != format.step) continue;
    auto s = ParseLocal(format, start->string_value(), "start");
    if (!s.ok()) return s.status();
    auto e = ParseLocal(format, end->string_value(), "end");
    if (!e.ok()) return e.status();
    absl::Time end_exclusive;
    if (format.step_ms > 0) {
      end_exclusive = *e + absl::Milliseconds(format.step_ms);
    } else {
      absl::CivilDay day = absl::ToCivilDay(*e, absl::LocalTimeZone()) + 1;
      end_exclusive = absl::FromCivil(day, absl::LocalTimeZone());
    }
    return TimeRange{absl::ToUnixMillis(*s), absl::ToUnixMillis(end_exclusive)};
  }
  return absl::InvalidArgumentError(
      absl::StrCat("duration.step \"", step->string_value(), "\" is not a known step"));
}

std::string TimezoneOffset(int64_t now_ms) {
  absl::TimeZone::CivilInfo info = absl::LocalTimeZone().At(absl::FromUnixMillis(now_ms));
  int offset_minutes = info.offset / 60;
  char sign = offset_minutes < 0 ? '-' : '+';
  offset_minutes = std::abs(offset_minutes);
  return absl::StrFormat("%c%02d%02d", sign, offset_minutes / 60, offset_minutes % 60);
}

}  // namespace stackhouse::query
