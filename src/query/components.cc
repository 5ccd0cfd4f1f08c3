#include "query/components.h"

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/embedded_files.h"

namespace stackhouse::query {
namespace {

const absl::flat_hash_map<int, std::string>& Catalog() {
  static const auto* catalog = [] {
    auto* map = new absl::flat_hash_map<int, std::string>();
    for (const EmbeddedFile& file : EmbeddedFiles()) {
      if (std::string(file.name) != "components.tsv") continue;
      for (absl::string_view line : absl::StrSplit(file.content, '\n')) {
        std::vector<absl::string_view> columns = absl::StrSplit(line, '\t');
        int id;
        if (columns.size() >= 2 && absl::SimpleAtoi(columns[0], &id)) {
          (*map)[id] = std::string(columns[1]);
        }
      }
    }
    return map;
  }();
  return *catalog;
}

}  // namespace

const std::string& ComponentName(int id) {
  static const std::string kUnknown = "Unknown";
  const auto& catalog = Catalog();
  auto it = catalog.find(id);
  if (it != catalog.end()) return it->second;
  auto zero = catalog.find(0);
  return zero != catalog.end() ? zero->second : kUnknown;
}

}  // namespace stackhouse::query
