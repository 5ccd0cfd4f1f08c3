#include "service/snapshot_stream.h"

#include <vector>

#include "storage/stack_fingerprint.h"

namespace stackhouse::service {

absl::Status SnapshotStream::Add(const std::string& task_id, const std::string& segment_id,
                                 int64_t dump_time_ms, int32_t sequence, size_t frames,
                                 StackVisitor stack) {
  storage::StackHasher hasher;
  stack([&hasher](const std::string& frame) { hasher.AddFrame(frame); });
  return writer_.Add(task_id, segment_id, dump_time_ms, sequence, hasher.Finish(),
                     [&](std::vector<std::string>* out) {
                       out->reserve(frames);
                       stack([out](const std::string& frame) { out->push_back(frame); });
                     });
}

}  // namespace stackhouse::service
