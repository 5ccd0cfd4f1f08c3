#pragma once

#include <atomic>
#include <memory>

#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace stackhouse::fakes {

// A RocksDB file system over the real one that behaves like a full disk while `full` is set:
// every append (and preallocation) of a file being written fails with RocksDB's NoSpace, as
// write(2) and fallocate(2) failing with ENOSPC do. Creating files still works, as on a real
// file system with inodes left. Reads and everything else pass through, so a database opened
// on it keeps what it wrote before. Pass NewEnv(fs) as DatabaseOptions::env.
class FullDiskFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  FullDiskFileSystem();

  static const char* kClassName() { return "StackhouseFullDiskFileSystem"; }
  const char* Name() const override { return kClassName(); }

  void set_full(bool full) { full_->store(full); }
  // Failed operations so far.
  int64_t failures() const { return failures_->load(); }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;

 private:
  // Shared with the files it creates, which may outlive a test's reference to the system.
  std::shared_ptr<std::atomic<bool>> full_;
  std::shared_ptr<std::atomic<int64_t>> failures_;
};

// An Env whose file system is `fs` (and which keeps it alive).
std::shared_ptr<rocksdb::Env> NewEnv(std::shared_ptr<FullDiskFileSystem> fs);

}  // namespace stackhouse::fakes
