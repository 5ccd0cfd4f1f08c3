// ReleaseStartupPages reclaims the resident pages of clean read-only file mappings, which read
// the same afterwards, never touches a mapping with modified pages, and cannot lose a write even
// in a range that changed under it (MADV_PAGEOUT keeps written private pages).
#include "server/startup_pages.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace stackhouse::server {
namespace {

constexpr size_t kBytes = 4 << 20;

// The resident bytes of the mapping that starts at `address` (/proc/self/smaps' Rss), or -1.
int64_t Resident(const void* address) {
  std::ifstream smaps("/proc/self/smaps");
  char start[32];
  std::snprintf(start, sizeof(start), "%lx-", reinterpret_cast<unsigned long>(address));
  std::string line;
  bool in_mapping = false;
  while (std::getline(smaps, line)) {
    if (line.rfind(start, 0) == 0) in_mapping = true;
    if (in_mapping && line.rfind("Rss:", 0) == 0) return std::stoll(line.substr(4)) * 1024;
  }
  return -1;
}

TEST(StartupPagesTest, CleanReadOnlyFilePagesAreReleasedAndReadTheSame) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("startup-pages-" + std::to_string(::getpid()));
  {
    std::ofstream out(path, std::ios::binary);
    for (size_t i = 0; i < kBytes; ++i) out.put(static_cast<char>('a' + i % 26));
  }
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ::fsync(fd);  // page-cache pages not yet written back count as dirty in smaps
  auto* clean = static_cast<char*>(::mmap(nullptr, kBytes, PROT_READ, MAP_PRIVATE, fd, 0));
  auto* modified =
      static_cast<char*>(::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
  ::close(fd);
  ASSERT_NE(clean, MAP_FAILED);
  ASSERT_NE(modified, MAP_FAILED);
  size_t sum = 0;
  for (size_t i = 0; i < kBytes; i += 4096) sum += static_cast<unsigned char>(clean[i]);
  modified[0] = 'Z';
  ASSERT_EQ(::mprotect(modified, kBytes, PROT_READ), 0);  // read-only, with a modified page
  ASSERT_GT(Resident(clean), static_cast<int64_t>(kBytes / 2));

  const ReleasedPages released = ReleaseStartupPages();
  EXPECT_GE(released.mappings, 1);
  EXPECT_GE(released.bytes, static_cast<int64_t>(kBytes / 2));
  EXPECT_LT(Resident(clean), static_cast<int64_t>(kBytes / 8));
  size_t again = 0;
  for (size_t i = 0; i < kBytes; i += 4096) again += static_cast<unsigned char>(clean[i]);
  EXPECT_EQ(again, sum);
  EXPECT_EQ(clean[27], 'b');
  EXPECT_EQ(modified[0], 'Z') << "a mapping with a modified page must be left alone";

  ::munmap(clean, kBytes);
  ::munmap(modified, kBytes);
  std::filesystem::remove(path);
}

// The property the implementation relies on when another thread changes a mapping between the
// read of /proc/self/smaps and the madvise: paging out a range with a written private page keeps
// the write (MADV_DONTNEED would bring back the file's byte).
TEST(StartupPagesTest, PagingOutNeverDiscardsAWrittenPrivatePage) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("startup-pages-w-" + std::to_string(::getpid()));
  {
    std::ofstream out(path, std::ios::binary);
    for (size_t i = 0; i < kBytes; ++i) out.put('a');
  }
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  auto* mapping =
      static_cast<char*>(::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
  ::close(fd);
  ASSERT_NE(mapping, MAP_FAILED);
  mapping[0] = 'Z';
  mapping[kBytes - 1] = 'Y';
  const int paged = ::madvise(mapping, kBytes, MADV_PAGEOUT);
  if (paged == 0) {
    EXPECT_EQ(mapping[0], 'Z');
    EXPECT_EQ(mapping[kBytes - 1], 'Y');
    EXPECT_EQ(mapping[1], 'a');
  } else {
    EXPECT_EQ(errno, EINVAL) << "only a kernel without MADV_PAGEOUT (before 5.4) may refuse it";
  }
  ::munmap(mapping, kBytes);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace stackhouse::server
