#include "storage/ebpf_store.h"

#include "common/status_macros.h"

namespace stackhouse::storage {

std::string EncodeEbpfFrame(const model::EbpfSymbol& symbol) {
  std::string frame;
  frame.reserve(1 + symbol.name.size());
  frame.push_back(EbpfFrameTag(symbol.type));
  frame.append(symbol.name);
  return frame;
}

absl::Status EbpfStore::AddSamples(const std::string& schedule_id, int64_t upload_time_ms,
                                   const std::vector<model::EbpfSample>& samples) {
  if (samples.empty()) return absl::OkStatus();
  std::vector<std::vector<std::string>> frames(samples.size());
  std::vector<PendingStack> pending;
  pending.reserve(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    frames[i].reserve(samples[i].stack.size());
    for (const model::EbpfSymbol& symbol : samples[i].stack) {
      frames[i].push_back(EncodeEbpfFrame(symbol));
    }
    pending.push_back({StackHasher::Of(frames[i]), &frames[i]});
  }
  SH_ASSIGN_OR_RETURN(std::vector<uint64_t> ids, ResolveStacks(pending));
  std::vector<StoredEbpfSample> stored(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const model::EbpfSample& s = samples[i];
    stored[i] = {upload_time_ms, ids[i],         s.target_type,
                 s.dump_count,   s.switch_count, s.duration_ns};
  }
  return AddSampleBlock(schedule_id, upload_time_ms, stored);
}

}  // namespace stackhouse::storage
