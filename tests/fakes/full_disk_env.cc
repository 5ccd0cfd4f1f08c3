#include "fakes/full_disk_env.h"

#include <string>
#include <utility>

namespace stackhouse::fakes {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

class FullDiskFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FullDiskFile(std::unique_ptr<rocksdb::FSWritableFile> file,
               std::shared_ptr<std::atomic<bool>> full,
               std::shared_ptr<std::atomic<int64_t>> failures)
      : FSWritableFileOwnerWrapper(std::move(file)),
        full_(std::move(full)),
        failures_(std::move(failures)) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    if (Full()) return NoSpace();
    return FSWritableFileOwnerWrapper::Append(data, options, dbg);
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    if (Full()) return NoSpace();
    return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    if (Full()) return NoSpace();
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    if (Full()) return NoSpace();
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, info, dbg);
  }
  IOStatus Allocate(uint64_t offset, uint64_t len, const IOOptions& options,
                    IODebugContext* dbg) override {
    if (Full()) return NoSpace();
    return FSWritableFileOwnerWrapper::Allocate(offset, len, options, dbg);
  }

 private:
  bool Full() const { return full_->load(); }
  IOStatus NoSpace() {
    failures_->fetch_add(1);
    return IOStatus::NoSpace("fake full disk");
  }

  std::shared_ptr<std::atomic<bool>> full_;
  std::shared_ptr<std::atomic<int64_t>> failures_;
};

}  // namespace

FullDiskFileSystem::FullDiskFileSystem()
    : FileSystemWrapper(rocksdb::FileSystem::Default()),
      full_(std::make_shared<std::atomic<bool>>(false)),
      failures_(std::make_shared<std::atomic<int64_t>>(0)) {}

std::shared_ptr<rocksdb::Env> NewEnv(std::shared_ptr<FullDiskFileSystem> fs) {
  return std::shared_ptr<rocksdb::Env>(rocksdb::NewCompositeEnv(std::move(fs)));
}

IOStatus FullDiskFileSystem::NewWritableFile(const std::string& name,
                                             const rocksdb::FileOptions& options,
                                             std::unique_ptr<rocksdb::FSWritableFile>* result,
                                             IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  IOStatus s = FileSystemWrapper::NewWritableFile(name, options, &file, dbg);
  if (s.ok()) *result = std::make_unique<FullDiskFile>(std::move(file), full_, failures_);
  return s;
}

IOStatus FullDiskFileSystem::ReopenWritableFile(const std::string& name,
                                                const rocksdb::FileOptions& options,
                                                std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  IOStatus s = FileSystemWrapper::ReopenWritableFile(name, options, &file, dbg);
  if (s.ok()) *result = std::make_unique<FullDiskFile>(std::move(file), full_, failures_);
  return s;
}

IOStatus FullDiskFileSystem::ReuseWritableFile(const std::string& name, const std::string& old_name,
                                               const rocksdb::FileOptions& options,
                                               std::unique_ptr<rocksdb::FSWritableFile>* result,
                                               IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  IOStatus s = FileSystemWrapper::ReuseWritableFile(name, old_name, options, &file, dbg);
  if (s.ok()) *result = std::make_unique<FullDiskFile>(std::move(file), full_, failures_);
  return s;
}

}  // namespace stackhouse::fakes
