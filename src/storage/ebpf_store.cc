#include "storage/ebpf_store.h"

#include <limits>

#include "absl/container/flat_hash_map.h"
#include "common/status_macros.h"
#include "storage/varint.h"

namespace stackhouse::storage {
namespace {

void PutZigZag128(std::string* out, absl::int128 value) {
  const absl::uint128 bits = value;
  absl::uint128 z = (bits << 1) ^ (value < 0 ? ~absl::uint128(0) : absl::uint128(0));
  while (z >= 0x80) {
    out->push_back(static_cast<char>((absl::Uint128Low64(z) & 0x7f) | 0x80));
    z >>= 7;
  }
  out->push_back(static_cast<char>(absl::Uint128Low64(z)));
}

bool GetZigZag128(absl::string_view* in, absl::int128* value) {
  // The usual case: at most 9 bytes (63 bits), decoded in 64-bit arithmetic.
  uint64_t small = 0;
  for (size_t i = 0; i < 9 && i < in->size(); ++i) {
    const auto byte = static_cast<uint8_t>((*in)[i]);
    small |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      in->remove_prefix(i + 1);
      const uint64_t magnitude = small >> 1;  // < 2^62
      *value = (small & 1) != 0 ? -absl::int128(magnitude) - 1 : absl::int128(magnitude);
      return true;
    }
  }
  absl::uint128 z = 0;
  for (int shift = 0; shift <= 126 && !in->empty(); shift += 7) {
    auto byte = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    z |= absl::uint128(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      const absl::uint128 bits = (z >> 1) ^ ((z & 1) != 0 ? ~absl::uint128(0) : absl::uint128(0));
      *value = static_cast<absl::int128>(bits);
      return true;
    }
  }
  return false;
}

uint64_t ZigZag64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ (v < 0 ? ~uint64_t{0} : uint64_t{0});
}

int64_t UnZigZag64(uint64_t z) {
  return static_cast<int64_t>((z >> 1) ^ ((z & 1) != 0 ? ~uint64_t{0} : uint64_t{0}));
}

}  // namespace

std::string EncodeEbpfFrame(const model::EbpfSymbol& symbol) {
  std::string frame;
  frame.reserve(1 + symbol.name.size());
  frame.push_back(EbpfFrameTag(symbol.type));
  frame.append(symbol.name);
  return frame;
}

uint64_t EbpfStore::EncodeSampleBlock(absl::Span<const StoredEbpfSample> samples,
                                      model::EbpfTargetType type, std::string* encoded) {
  const auto non_negative = [](int64_t v) {
    return v < 0 ? uint64_t{0} : static_cast<uint64_t>(v);
  };
  uint64_t count = 0;
  for (const StoredEbpfSample& s : samples) {
    if (s.target_type != type) continue;
    ++count;
    PutFixed64(encoded, s.stack_id);
    if (type == model::EbpfTargetType::kOnCpu) {
      PutVarint64(encoded, non_negative(s.dump_count));
    } else {
      PutVarint64(encoded, non_negative(s.switch_count));
      PutVarint64(encoded, non_negative(s.duration_ns));
    }
  }
  return count;
}

absl::StatusOr<bool> EbpfStore::PutNewTask(const model::EbpfTask& task) {
  SH_ASSIGN_OR_RETURN(std::vector<model::EbpfTask> tasks, ListTasks());
  for (const model::EbpfTask& t : tasks) {
    if (t.logical_id == task.logical_id) return false;
  }
  SH_RETURN_IF_ERROR(PutTask(task));
  return true;
}

absl::Status EbpfStore::ReadStacks(absl::Span<const uint64_t> stack_ids,
                                   StackVisitor& visitor) const {
  return VisitStacksOneByOne(
      stack_ids,
      [this](uint64_t id) -> absl::StatusOr<std::vector<std::string>> {
        SH_ASSIGN_OR_RETURN(std::vector<model::EbpfSymbol> symbols, GetStack(id));
        std::vector<std::string> frames;
        frames.reserve(symbols.size());
        for (const model::EbpfSymbol& symbol : symbols) frames.push_back(EncodeEbpfFrame(symbol));
        return frames;
      },
      visitor);
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

namespace stackhouse::storage {

std::string EbpfStore::EncodeRollupStacks(absl::Span<const EbpfRollupStack> stacks,
                                          int64_t minute_start_ms, bool has_on_cpu,
                                          bool has_off_cpu) {
  std::string out;
  out.reserve(stacks.size() * 16);
  int64_t previous = minute_start_ms;
  for (const EbpfRollupStack& stack : stacks) {
    PutFixed64(&out, stack.stack_id);
    // Wraps like the decoder for any input; small for the usual ascending times.
    PutVarint64(&out,
                ZigZag64(static_cast<int64_t>(static_cast<uint64_t>(stack.first_upload_time_ms) -
                                              static_cast<uint64_t>(previous))));
    previous = stack.first_upload_time_ms;
    if (has_on_cpu) PutZigZag128(&out, stack.dump_count);
    if (has_off_cpu) {
      PutZigZag128(&out, stack.switch_count);
      PutZigZag128(&out, stack.duration_ns);
    }
  }
  return out;
}

bool EbpfRollup::Next(EbpfRollupStack* stack) {
  if (remaining_ == 0 || corrupt_) return false;
  uint64_t delta = 0;
  bool ok = GetFixed64(&encoded_, &stack->stack_id) && GetVarint64(&encoded_, &delta);
  stack->dump_count = stack->switch_count = stack->duration_ns = 0;
  if (ok && has_on_cpu_) ok = GetZigZag128(&encoded_, &stack->dump_count);
  if (ok && has_off_cpu_) {
    ok = GetZigZag128(&encoded_, &stack->switch_count) &&
         GetZigZag128(&encoded_, &stack->duration_ns);
  }
  if (!ok) {
    corrupt_ = true;
    return false;
  }
  --remaining_;
  previous_time_ms_ = static_cast<int64_t>(static_cast<uint64_t>(previous_time_ms_) +
                                           static_cast<uint64_t>(UnZigZag64(delta)));
  stack->first_upload_time_ms = previous_time_ms_;
  return true;
}

absl::Status EbpfStore::ScanAggregated(const std::string& schedule_id, int64_t from_ms,
                                       int64_t to_ms, EbpfSampleVisitor& visitor) const {
  bool go = true;
  return ScanSampleBlocks(schedule_id, from_ms, to_ms, [&](EbpfSampleBlock& block) {
    if (go) go = visitor.Block(block);
  });
}

int64_t EbpfRollupMinuteOf(int64_t t) {
  if (t < std::numeric_limits<int64_t>::min() + kEbpfRollupMinuteMs) {
    return std::numeric_limits<int64_t>::min();
  }
  int64_t r = t % kEbpfRollupMinuteMs;
  if (r < 0) r += kEbpfRollupMinuteMs;
  return t - r;
}

bool EbpfMinuteSums::WorthARollup() const {
  return !stacks.empty() &&
         samples >= static_cast<int64_t>(stacks.size()) * EbpfStore::kMinSamplesPerRollupStack;
}

absl::StatusOr<EbpfMinuteSums> EbpfStore::SumMinute(const std::string& schedule_id,
                                                    int64_t minute_ms) const {
  EbpfMinuteSums sums;
  absl::flat_hash_map<uint64_t, size_t> index;  // stack id → sums.stacks[i]
  SH_RETURN_IF_ERROR(ScanSampleBlocks(
      schedule_id, minute_ms, minute_ms + kEbpfRollupMinuteMs, [&](EbpfSampleBlock& block) {
        (block.target_type() == model::EbpfTargetType::kOnCpu ? sums.has_on_cpu
                                                              : sums.has_off_cpu) = true;
        StoredEbpfSample sample;
        while (block.Next(&sample)) {
          ++sums.samples;
          auto [it, inserted] = index.try_emplace(sample.stack_id, sums.stacks.size());
          if (inserted) sums.stacks.push_back({sample.stack_id, sample.upload_time_ms});
          EbpfRollupStack& stack = sums.stacks[it->second];
          if (sample.target_type == model::EbpfTargetType::kOnCpu) {
            stack.dump_count += sample.dump_count;
          } else {
            stack.switch_count += sample.switch_count;
            stack.duration_ns += sample.duration_ns;
          }
        }
      }));
  return sums;
}

absl::StatusOr<EbpfRollupStats> EbpfStore::RollUp(int64_t /*max_minutes*/) {
  return EbpfRollupStats{};
}

}  // namespace stackhouse::storage
