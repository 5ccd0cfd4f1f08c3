#include "wire/go_profile.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "perftools/profile.pb.h"

namespace stackhouse::wire {
namespace {

constexpr std::array<absl::string_view, 5> kSegmentLabelKeys = {
    "segment_id", "trace_segment_id", "segmentId", "traceSegmentId", "traceSegmentID"};

// The string at `index` of the profile's string table; empty if out of range.
absl::string_view StringAt(const perftools::profiles::Profile& profile, int64_t index) {
  if (index < 0 || index >= profile.string_table_size()) return {};
  return profile.string_table(static_cast<int>(index));
}

// The segment id a sample is labelled with; empty if none.
absl::string_view SegmentOf(const perftools::profiles::Profile& profile,
                            const perftools::profiles::Sample& sample) {
  for (const auto& label : sample.label()) {
    absl::string_view key = StringAt(profile, label.key());
    for (absl::string_view accepted : kSegmentLabelKeys) {
      if (key == accepted) return StringAt(profile, label.str());
    }
  }
  return {};
}

// What decoding a message of each kind costs in memory, roughly: the object and its slot in
// the repeated field. A scan adds these up before anything is decoded.
template <typename T>
constexpr size_t kCost = sizeof(T) + 16;

// Counts the varints of a packed field of `length` bytes (each ends with a byte < 0x80).
bool CountPacked(google::protobuf::io::CodedInputStream* in, uint32_t length, size_t* count) {
  const void* data;
  int size;
  while (length > 0) {
    if (!in->GetDirectBufferPointer(&data, &size)) return false;
    const auto n = std::min<uint32_t>(length, static_cast<uint32_t>(size));
    const auto* bytes = static_cast<const uint8_t*>(data);
    for (uint32_t i = 0; i < n; ++i) *count += bytes[i] < 0x80;
    in->Skip(static_cast<int>(n));
    length -= n;
  }
  return true;
}

// Scans the fields of one embedded message of `length` bytes, adding `cost(field, wire type,
// length of a length-delimited field)` for each. False on malformed input.
template <typename Cost>
bool ScanMessage(google::protobuf::io::CodedInputStream* in, uint32_t length, size_t* total,
                 Cost&& cost) {
  const auto limit = in->PushLimit(static_cast<int>(length));
  while (uint32_t tag = in->ReadTag()) {
    const uint32_t field = tag >> 3;
    const auto wire = static_cast<google::protobuf::internal::WireFormatLite::WireType>(tag & 7);
    if (wire == google::protobuf::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t n;
      if (!in->ReadVarint32(&n)) return false;
      if (!cost(in, field, n, total)) return false;
    } else {
      *total += 8;
      if (!google::protobuf::internal::WireFormatLite::SkipField(in, tag)) return false;
    }
  }
  const bool ok = in->ConsumedEntireMessage();
  in->PopLimit(limit);
  return ok;
}

// An upper estimate of the memory Profile::ParseFromArray would take for `bytes`.
std::optional<size_t> EstimateDecodedBytes(absl::string_view bytes) {
  using perftools::profiles::Profile;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  size_t total = sizeof(Profile);
  auto skip = [](google::protobuf::io::CodedInputStream* s, uint32_t n) {
    return s->Skip(static_cast<int>(n));
  };
  auto sample_field = [&](google::protobuf::io::CodedInputStream* s, uint32_t field, uint32_t n,
                          size_t* sum) {
    if (field == 1 || field == 2) {  // packed location ids or values
      size_t count = 0;
      if (!CountPacked(s, n, &count)) return false;
      *sum += 8 * count;
      return true;
    }
    if (field == 3) *sum += kCost<perftools::profiles::Label>;
    return skip(s, n);
  };
  auto location_field = [&](google::protobuf::io::CodedInputStream* s, uint32_t field, uint32_t n,
                            size_t* sum) {
    if (field == 4) *sum += kCost<perftools::profiles::Line>;
    return skip(s, n);
  };
  auto top_field = [&](google::protobuf::io::CodedInputStream* s, uint32_t field, uint32_t n,
                       size_t* sum) {
    switch (field) {
      case 2:
        *sum += kCost<perftools::profiles::Sample>;
        return ScanMessage(s, n, sum, sample_field);
      case 4:
        *sum += kCost<perftools::profiles::Location>;
        return ScanMessage(s, n, sum, location_field);
      case 1:
      case 11:
        *sum += kCost<perftools::profiles::ValueType>;
        break;
      case 3:
        *sum += kCost<perftools::profiles::Mapping>;
        break;
      case 5:
        *sum += kCost<perftools::profiles::Function>;
        break;
      case 6:
        *sum += kCost<std::string> + n;
        break;
      default:
        *sum += n;
        break;
    }
    return skip(s, n);
  };
  if (!ScanMessage(&in, static_cast<uint32_t>(bytes.size()), &total, top_field)) {
    return std::nullopt;
  }
  return total;
}

absl::StatusOr<std::unique_ptr<perftools::profiles::Profile>> ParseProfile(
    absl::string_view bytes) {
  const std::optional<size_t> decoded = EstimateDecodedBytes(bytes);
  if (!decoded) return absl::InvalidArgumentError("the Go profile is not a pprof profile");
  if (*decoded > kMaxDecodedGoProfileBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the Go profile would take more than ",
                                                   kMaxDecodedGoProfileBytes,
                                                   " bytes of memory to decode"));
  }
  auto profile = std::make_unique<perftools::profiles::Profile>();
  if (!profile->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError("the Go profile is not a pprof profile");
  }
  return profile;
}

}  // namespace

absl::StatusOr<std::string> MaybeGunzip(absl::string_view bytes, size_t max_size) {
  if (bytes.size() < 2 || static_cast<unsigned char>(bytes[0]) != 0x1f ||
      static_cast<unsigned char>(bytes[1]) != 0x8b) {
    if (bytes.size() > max_size) {
      return absl::InvalidArgumentError(
          absl::StrCat("the Go profile is larger than ", max_size, " bytes"));
    }
    return std::string(bytes);
  }
  z_stream stream = {};
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
    return absl::InternalError("zlib: inflateInit2 failed");
  }
  std::string out;
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  int rc = Z_OK;
  char buffer[64 * 1024];
  while (rc != Z_STREAM_END) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof buffer;
    rc = inflate(&stream, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buffer, sizeof buffer - stream.avail_out);
    if (out.size() > max_size) {
      inflateEnd(&stream);
      return absl::InvalidArgumentError(
          absl::StrCat("the Go profile inflates to more than ", max_size, " bytes"));
    }
    if (rc == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) break;  // truncated
  }
  inflateEnd(&stream);
  if (rc != Z_STREAM_END) {
    return absl::InvalidArgumentError("the Go profile's gzip data is corrupt or truncated");
  }
  return out;
}

absl::StatusOr<model::GoProfile> ReadGoProfileUpload(absl::string_view payload,
                                                     const std::string& task_id, int64_t now_ms) {
  absl::StatusOr<std::string> bytes = MaybeGunzip(payload);
  if (!bytes.ok()) return bytes.status();
  auto parsed = ParseProfile(*bytes);
  if (!parsed.ok()) return parsed.status();
  const perftools::profiles::Profile& profile = **parsed;
  model::GoProfile out;
  out.task_id = task_id;
  out.dump_time_ms = profile.time_nanos() != 0 ? profile.time_nanos() / 1'000'000 : now_ms;
  absl::flat_hash_set<absl::string_view> seen;
  for (const auto& sample : profile.sample()) {
    absl::string_view segment = SegmentOf(profile, sample);
    if (segment.empty() || !seen.insert(segment).second) continue;
    if (out.segment_ids.size() == kMaxSegmentsPerGoProfile) {
      return absl::InvalidArgumentError(absl::StrCat("the Go profile is labelled with more than ",
                                                     kMaxSegmentsPerGoProfile, " segments"));
    }
    out.segment_ids.emplace_back(segment);
  }
  out.pprof = std::move(*bytes);
  return out;
}

GoProfileReader::GoProfileReader(std::unique_ptr<perftools::profiles::Profile> profile)
    : profile_(std::move(profile)) {}
GoProfileReader::~GoProfileReader() = default;
GoProfileReader::GoProfileReader(GoProfileReader&&) noexcept = default;
GoProfileReader& GoProfileReader::operator=(GoProfileReader&&) noexcept = default;

absl::StatusOr<GoProfileReader> GoProfileReader::Parse(absl::string_view pprof) {
  auto parsed = ParseProfile(pprof);
  if (!parsed.ok()) return parsed.status();
  return GoProfileReader(std::move(*parsed));
}

int64_t GoProfileReader::period_ms() const {
  const perftools::profiles::Profile& profile = *profile_;
  return analysis::GoPeriodMillis(
      profile.period(), profile.has_period_type() ? StringAt(profile, profile.period_type().unit())
                                                  : absl::string_view());
}

std::vector<analysis::GoSample> GoProfileReader::Samples(absl::string_view segment_id,
                                                         analysis::FrameTable* frames) const {
  const perftools::profiles::Profile& profile = *profile_;
  std::vector<analysis::GoSample> out;
  // Each location's frame id once; -1 = a location without lines.
  absl::flat_hash_map<uint64_t, int64_t> location_frames;
  auto frame_of = [&](uint64_t location_id) -> int64_t {
    auto [it, inserted] = location_frames.try_emplace(location_id, -1);
    if (!inserted) return it->second;
    if (location_id == 0) {
      it->second = frames->Intern("root");
      return it->second;
    }
    std::string frame;
    if (location_id <= static_cast<uint64_t>(profile.location_size())) {
      const auto& location = profile.location(static_cast<int>(location_id - 1));
      for (const auto& line : location.line()) {
        absl::string_view name;
        if (line.function_id() >= 1 &&
            line.function_id() <= static_cast<uint64_t>(profile.function_size())) {
          name =
              StringAt(profile, profile.function(static_cast<int>(line.function_id() - 1)).name());
        }
        if (!frame.empty()) frame.push_back(';');
        absl::StrAppend(&frame, name, ":", line.line());
      }
    }
    if (!frame.empty()) it->second = frames->Intern(frame);
    return it->second;
  };
  for (const auto& sample : profile.sample()) {
    if (SegmentOf(profile, sample) != segment_id) continue;
    analysis::GoSample& s = out.emplace_back();
    s.count = sample.value_size() > 0 ? sample.value(0) : 1;
    s.frames.reserve(static_cast<size_t>(sample.location_id_size()));
    for (uint64_t location_id : sample.location_id()) {
      const int64_t frame = frame_of(location_id);
      if (frame >= 0) s.frames.push_back(static_cast<uint32_t>(frame));
    }
  }
  return out;
}

absl::StatusOr<GoSegmentSamples> ReadGoSegmentSamples(absl::string_view pprof,
                                                      absl::string_view segment_id,
                                                      analysis::FrameTable* frames) {
  absl::StatusOr<GoProfileReader> reader = GoProfileReader::Parse(pprof);
  if (!reader.ok()) return reader.status();
  return GoSegmentSamples{reader->period_ms(), reader->Samples(segment_id, frames)};
}

}  // namespace stackhouse::wire
