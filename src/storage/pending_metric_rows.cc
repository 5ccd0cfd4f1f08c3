#include "storage/pending_metric_rows.h"

#include <algorithm>

#include "storage/key_codec.h"
#include "storage/metric_codec.h"

namespace stackhouse::storage {

int64_t BucketStart(metrics::Step step, int64_t minute_ms, absl::TimeZone zone) {
  const absl::Time t = absl::FromUnixMillis(minute_ms);
  switch (step) {
    case metrics::Step::kMinute:
      return minute_ms;
    case metrics::Step::kHour:
      return absl::ToUnixMillis(absl::FromCivil(absl::ToCivilHour(t, zone), zone));
    case metrics::Step::kDay:
      return absl::ToUnixMillis(absl::FromCivil(absl::ToCivilDay(t, zone), zone));
  }
  return minute_ms;
}

uint32_t PendingMinute::EntityNumber(absl::string_view entity) {
  auto found = entity_numbers_.find(entity);
  if (found != entity_numbers_.end()) return found->second;
  const auto number = static_cast<uint32_t>(entities_.size());
  entity_numbers_.emplace(entities_.emplace_back(entity), number);
  return number;
}

const PendingMinute::LabelRows* PendingMinute::Find(const metrics::MetricDefinition* metric,
                                                    absl::string_view entity) const {
  auto number = entity_numbers_.find(entity);
  if (number == entity_numbers_.end()) return nullptr;
  auto found = series_.find(SeriesKey(metric, number->second));
  return found == series_.end() ? nullptr : &found->second;
}

size_t PendingMinute::Add(const metrics::MetricUpdate* const* updates, size_t count,
                          uint64_t record) {
  log_records_.push_back(record);
  const size_t rows_before = rows_;
  // entity_ref - 1 → 1 + the entity's number here (0: not looked up yet). Refs are the
  // analyzer's hint that updates share an entity; an update without one is looked up by id.
  constexpr uint32_t kMaxRefs = 4096;
  std::vector<uint32_t> number_of_ref;
  for (size_t i = 0; i < count; ++i) {
    const metrics::MetricUpdate& u = *updates[i];
    uint32_t number;
    if (u.entity_ref > 0 && u.entity_ref <= kMaxRefs) {
      if (number_of_ref.size() < u.entity_ref) number_of_ref.resize(u.entity_ref, 0);
      uint32_t& cached = number_of_ref[u.entity_ref - 1];
      if (cached == 0) cached = EntityNumber(u.entity_id) + 1;
      number = cached - 1;
    } else {
      number = EntityNumber(u.entity_id);
    }
    LabelRows& labels = series_[SeriesKey(u.metric, number)];
    auto [row, inserted] = labels.try_emplace(u.label_value);
    if (inserted) {
      row->second = u.delta;
      ++rows_;
    } else {
      row->second.Merge(u.delta);
    }
  }
  return rows_ - rows_before;
}

size_t PendingMinute::Merge(const PendingMinute& other) {
  const size_t rows_before = rows_;
  log_records_.insert(log_records_.end(), other.log_records_.begin(), other.log_records_.end());
  for (const auto& [series, labels] : other.series_) {
    LabelRows& rows =
        series_[SeriesKey(series.first, EntityNumber(other.entities_[series.second]))];
    for (const auto& [label, row] : labels) {
      auto [it, inserted] = rows.try_emplace(label, row);
      if (inserted) {
        ++rows_;
      } else {
        it->second.Merge(row);
      }
    }
  }
  return rows_ - rows_before;
}

std::string RecentRelations::Key(const metrics::RelationRow& row) {
  std::string key;
  for (absl::string_view part :
       {absl::string_view(row.instance_id), absl::string_view(row.client_process_id),
        absl::string_view(row.server_process_id)}) {
    AppendString(&key, part);
  }
  AppendInt64(&key, row.minute_ms);
  key.push_back(row.server_side ? 's' : 'c');
  return key;
}

std::vector<const metrics::RelationRow*> RecentRelations::ToWrite(
    const std::vector<metrics::RelationRow>& rows) const {
  std::vector<const metrics::RelationRow*> out;
  absl::MutexLock lock(&mu_);
  for (const metrics::RelationRow& row : rows) {
    auto written = written_.find(Key(row));
    if (written != written_.end() &&
        ComponentPriority(written->second.second) >= ComponentPriority(row.component_id)) {
      continue;
    }
    out.push_back(&row);
  }
  return out;
}

void RecentRelations::Remember(const std::vector<const metrics::RelationRow*>& written) {
  constexpr int64_t kMinuteMs = 60'000;
  absl::MutexLock lock(&mu_);
  int64_t newest = newest_minute_;
  for (const metrics::RelationRow* row : written) {
    newest = std::max(newest, row->minute_ms);
    auto [it, inserted] = written_.try_emplace(Key(*row), row->minute_ms, row->component_id);
    if (!inserted && ComponentPriority(row->component_id) > ComponentPriority(it->second.second)) {
      it->second.second = row->component_id;
    }
  }
  // Remembers the rows of the last two minutes only (older ones are rarely written again, and
  // writing one again changes nothing).
  if (written_.size() > kMaxRemembered) {
    written_.clear();
  } else if (newest > newest_minute_) {
    newest_minute_ = newest;
    absl::erase_if(written_,
                   [&](const auto& entry) { return entry.second.first < newest - kMinuteMs; });
  }
}

}  // namespace stackhouse::storage
