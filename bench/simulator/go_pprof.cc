#include "simulator/go_pprof.h"

#include <zlib.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "perftools/profile.pb.h"

namespace stackhouse::sim {
namespace {

std::string Gzip(const std::string& data) {
  z_stream stream = {};
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return data;  // uncompressed profiles are accepted too
  }
  std::string out(deflateBound(&stream, data.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const bool done = deflate(&stream, Z_FINISH) == Z_STREAM_END;
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return done ? out : data;
}

}  // namespace

std::string BuildGoCpuProfile(const std::vector<skywalking::v3::ThreadSnapshot>& dumps,
                              int64_t period_ms, int64_t start_ms) {
  perftools::profiles::Profile profile;
  absl::flat_hash_map<std::string, int64_t> strings;
  auto str = [&](const std::string& s) {
    auto [it, inserted] = strings.try_emplace(s, profile.string_table_size());
    if (inserted) profile.add_string_table(s);
    return it->second;
  };
  str("");
  auto* samples = profile.add_sample_type();
  samples->set_type(str("samples"));
  samples->set_unit(str("count"));
  auto* cpu = profile.add_sample_type();
  cpu->set_type(str("cpu"));
  cpu->set_unit(str("nanoseconds"));
  profile.mutable_period_type()->set_type(str("cpu"));
  profile.mutable_period_type()->set_unit(str("nanoseconds"));
  profile.set_period(period_ms * 1'000'000);
  profile.set_time_nanos(start_ms * 1'000'000);
  const int64_t segment_key = str("traceSegmentID");

  // One function and one location per distinct frame.
  absl::flat_hash_map<std::string, uint64_t> locations;
  auto location_of = [&](const std::string& frame) {
    auto [it, inserted] = locations.try_emplace(frame, locations.size() + 1);
    if (inserted) {
      std::string name = frame;
      int64_t line = 0;
      if (size_t colon = frame.rfind(':');
          colon != std::string::npos && absl::SimpleAtoi(frame.substr(colon + 1), &line)) {
        name = frame.substr(0, colon);
      }
      auto* function = profile.add_function();
      function->set_id(it->second);
      function->set_name(str(name));
      auto* location = profile.add_location();
      location->set_id(it->second);
      auto* l = location->add_line();
      l->set_function_id(it->second);
      l->set_line(line);
    }
    return it->second;
  };
  for (const skywalking::v3::ThreadSnapshot& dump : dumps) {
    auto* sample = profile.add_sample();
    const auto& frames = dump.stack().codesignatures();
    for (int i = frames.size() - 1; i >= 0; --i) sample->add_location_id(location_of(frames[i]));
    sample->add_value(1);
    sample->add_value(period_ms * 1'000'000);
    auto* label = sample->add_label();
    label->set_key(segment_key);
    label->set_str(str(dump.tracesegmentid()));
  }
  return Gzip(profile.SerializeAsString());
}

}  // namespace stackhouse::sim
