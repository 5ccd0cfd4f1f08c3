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

// Reclaims every resident page of the process's read-only private file mappings that held no
// modified page when /proc/self/smaps was read (MADV_PAGEOUT: a clean file page is dropped and a
// later access reads it again, with the file's contents, which is all such a page ever held),
// and returns the heap's free memory to the system (malloc_trim). Thread-safe, also while other
// threads map, unmap or write memory: MADV_PAGEOUT never discards data, so a range that has
// changed since smaps was read (a library loaded over it, memory reused) is at worst paged out,
// its written pages kept or swapped. (MADV_DONTNEED, which would drop written private pages, is
// not used for that reason.) Linux 5.4 or later; does nothing on older kernels or when
// /proc/self/smaps cannot be read. Call once the server is ready.
ReleasedPages ReleaseStartupPages();

}  // namespace stackhouse::server
