#pragma once

#include <algorithm>
#include <utility>
#include <vector>

namespace stackhouse::service {

// What a node stored while a reload of one of its caches read the store: that read may have
// missed those records, so the reload merges them into what it read before it replaces the
// cache. A reload calls Start before its read and Finish after it; the node's writes call
// Note. Not thread-safe: guard it with the mutex of the cache it serves.
template <typename Record>
class ReloadJournal {
 public:
  // A reload begins to read the store.
  void Start() { reading_ = true; }

  // This node stored `record` (kept only while a reload reads).
  void Note(const Record& record) {
    if (reading_) noted_.push_back(record);
  }

  // The reload's read ended: appends to `*stored` (null when the read failed) each record
  // noted meanwhile for which `same(record, stored_record)` holds for none of its records.
  template <typename Same>
  void Finish(std::vector<Record>* stored, Same same) {
    reading_ = false;
    std::vector<Record> noted = std::exchange(noted_, {});
    if (stored == nullptr) return;
    for (Record& record : noted) {
      const bool found = std::any_of(stored->begin(), stored->end(),
                                     [&](const Record& s) { return same(record, s); });
      if (!found) stored->push_back(std::move(record));
    }
  }

 private:
  bool reading_ = false;
  std::vector<Record> noted_;
};

}  // namespace stackhouse::service
