#include "server/startup_pages.h"

#include <malloc.h>
#include <sys/mman.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace stackhouse::server {
namespace {

struct Mapping {
  uintptr_t start = 0;
  uintptr_t end = 0;
  bool candidate = false;  // read-only, private, backed by a file
  int64_t rss_kb = 0;
  int64_t modified_kb = 0;  // dirty or anonymous pages: never released
};

// The kB value of an smaps line "Name:   123 kB", or -1.
int64_t Kb(absl::string_view line) {
  std::vector<absl::string_view> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
  int64_t kb = -1;
  if (parts.size() >= 2 && !absl::SimpleAtoi(parts[1], &kb)) kb = -1;
  return kb;
}

std::vector<Mapping> ReadMappings() {
  std::vector<Mapping> mappings;
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  while (std::getline(smaps, line)) {
    const size_t dash = line.find('-');
    const size_t space = line.find(' ');
    if (dash != std::string::npos && space != std::string::npos && dash < space &&
        line.find(':') > space) {
      // A mapping's first line: "start-end perms offset dev inode [path]".
      Mapping m;
      std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
      uint64_t start = 0;
      uint64_t end = 0;
      if (fields.size() < 5 ||
          !absl::SimpleHexAtoi(absl::string_view(line).substr(0, dash), &start) ||
          !absl::SimpleHexAtoi(absl::string_view(line).substr(dash + 1, space - dash - 1), &end)) {
        mappings.emplace_back();  // unreadable: never a candidate
        continue;
      }
      m.start = static_cast<uintptr_t>(start);
      m.end = static_cast<uintptr_t>(end);
      const absl::string_view perms = fields[1];
      m.candidate = perms.size() == 4 && perms[0] == 'r' && perms[1] != 'w' && perms[3] == 'p' &&
                    fields.size() >= 6 && absl::StartsWith(fields[5], "/");
      mappings.push_back(m);
      continue;
    }
    if (mappings.empty()) continue;
    Mapping& m = mappings.back();
    const absl::string_view l = line;
    if (absl::StartsWith(l, "Rss:")) {
      m.rss_kb = Kb(l);
    } else if (absl::StartsWith(l, "Private_Dirty:") || absl::StartsWith(l, "Shared_Dirty:") ||
               absl::StartsWith(l, "Anonymous:")) {
      const int64_t kb = Kb(l);
      m.modified_kb += kb < 0 ? 1 : kb;
    }
  }
  return mappings;
}

}  // namespace

ReleasedPages ReleaseStartupPages() {
  ReleasedPages released;
  for (const Mapping& m : ReadMappings()) {
    if (!m.candidate || m.modified_kb != 0 || m.rss_kb <= 0 || m.end <= m.start) continue;
    if (::madvise(reinterpret_cast<void*>(m.start), m.end - m.start, MADV_PAGEOUT) == 0) {
      ++released.mappings;
      released.bytes += m.rss_kb * 1024;
    }
  }
  ::malloc_trim(0);
  return released;
}

}  // namespace stackhouse::server
