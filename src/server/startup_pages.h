// Giving back the memory that only start-up needed, so that an idle server's resident set is
// what it uses while it runs.
//
// Most of a freshly started server's RSS is clean pages of its shared libraries' files:
// symbol tables the dynamic linker read to relocate them, static initializers, code of the
// start-up path (configuration, RocksDB's recovery, gRPC's set-up), each fault mapping 64 KiB
// around it. They stay in the page cache; only the process's page tables hold them.
#pragma once

#include <cstdint>

namespace stackhouse::server {

struct ReleasedPages {
  int64_t mappings = 0;  // file mappings whose resident pages were released
  int64_t bytes = 0;     // their resident bytes before (as /proc/self/smaps counted them)
};

// Drops from the process's page tables every resident page of its read-only private file
// mappings that holds no modified page (MADV_DONTNEED: a later access maps the page again from
// the page cache, with the file's contents, which is all such a page ever held), and returns
// the heap's free memory to the system (malloc_trim). Linux only; does nothing when
// /proc/self/smaps cannot be read. Call once the server is ready; thread-safe (other threads
// may run and fault pages in meanwhile).
ReleasedPages ReleaseStartupPages();

}  // namespace stackhouse::server
