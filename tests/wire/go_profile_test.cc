#include "wire/go_profile.h"

#include <zlib.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "perftools/profile.pb.h"

namespace stackhouse::wire {
namespace {

using ::testing::ElementsAre;

std::string Gzip(const std::string& data) {
  z_stream stream = {};
  EXPECT_EQ(deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&stream, data.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

// A Go CPU profile as the Go agent's labelled profiler writes it: two segments, an unlabelled
// sample, an inlined location (two lines), a location without lines.
class GoProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto str = [this](const std::string& s) {
      profile_.add_string_table(s);
      return static_cast<int64_t>(profile_.string_table_size() - 1);
    };
    str("");
    auto* type = profile_.add_sample_type();
    type->set_type(str("samples"));
    type->set_unit(str("count"));
    profile_.mutable_period_type()->set_type(str("cpu"));
    profile_.mutable_period_type()->set_unit(str("nanoseconds"));
    profile_.set_period(10'000'000);
    profile_.set_time_nanos(1'700'000'000'123'456'789);
    const char* functions[] = {"main.main", "main.handle", "main.hash", "runtime.inlined"};
    for (int i = 0; i < 4; ++i) {
      auto* f = profile_.add_function();
      f->set_id(static_cast<uint64_t>(i + 1));
      f->set_name(str(functions[i]));
    }
    // Locations 1..3: main.main:10, main.handle:20, main.hash:30 with runtime.inlined:5 inlined.
    for (int i = 0; i < 3; ++i) {
      auto* l = profile_.add_location();
      l->set_id(static_cast<uint64_t>(i + 1));
      if (i == 2) {
        auto* inl = l->add_line();
        inl->set_function_id(4);
        inl->set_line(5);
      }
      auto* line = l->add_line();
      line->set_function_id(static_cast<uint64_t>(i + 1));
      line->set_line((i + 1) * 10);
    }
    profile_.add_location()->set_id(4);  // no lines
    const int64_t segment_key = str("traceSegmentID");
    const int64_t seg_a = str("seg-a");
    const int64_t seg_b = str("seg-b");
    const int64_t other_key = str("spanID");
    auto sample = [&](std::vector<uint64_t> leaf_first, int64_t count, int64_t segment) {
      auto* s = profile_.add_sample();
      for (uint64_t id : leaf_first) s->add_location_id(id);
      s->add_value(count);
      s->add_value(count * 10'000'000);
      auto* other = s->add_label();
      other->set_key(other_key);
      other->set_str(seg_a);
      if (segment >= 0) {
        auto* label = s->add_label();
        label->set_key(segment_key);
        label->set_str(segment);
      }
    };
    sample({3, 2, 1}, 4, seg_b);
    sample({3, 4, 2, 1}, 2, seg_a);
    sample({2, 1}, 9, -1);  // not labelled with a segment: dropped
    sample({2, 1}, 1, seg_b);
  }

  perftools::profiles::Profile profile_;
};

TEST_F(GoProfileTest, ReadsTheUploadAndEachSegmentsSamplesLeafFirst) {
  const std::string raw = profile_.SerializeAsString();
  auto upload = ReadGoProfileUpload(Gzip(raw), "task-1", 42);
  ASSERT_TRUE(upload.ok()) << upload.status();
  EXPECT_EQ(upload->task_id, "task-1");
  EXPECT_EQ(upload->dump_time_ms, 1'700'000'000'123);
  EXPECT_THAT(upload->segment_ids, ElementsAre("seg-b", "seg-a"));  // first appearance first
  EXPECT_EQ(upload->pprof, raw);                                    // gunzipped

  analysis::FrameTable frames;
  auto b = ReadGoSegmentSamples(upload->pprof, "seg-b", &frames);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->period_ms, 10);
  ASSERT_EQ(b->samples.size(), 2u);
  EXPECT_EQ(b->samples[0].count, 4);
  std::vector<std::string> names;
  for (uint32_t id : b->samples[0].frames) names.push_back(frames.Signature(id));
  EXPECT_THAT(names,
              ElementsAre("runtime.inlined:5;main.hash:30", "main.handle:20", "main.main:10"));
  EXPECT_EQ(b->samples[1].count, 1);

  auto a = ReadGoSegmentSamples(upload->pprof, "seg-a", &frames);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->samples.size(), 1u);
  EXPECT_EQ(a->samples[0].frames.size(), 3u);  // the location without lines is skipped
  EXPECT_TRUE(ReadGoSegmentSamples(upload->pprof, "seg-c", &frames)->samples.empty());
}

TEST_F(GoProfileTest, UncompressedProfilesAndProfilesWithoutTimeAreAccepted) {
  profile_.set_time_nanos(0);
  auto upload = ReadGoProfileUpload(profile_.SerializeAsString(), "task-1", 42);
  ASSERT_TRUE(upload.ok()) << upload.status();
  EXPECT_EQ(upload->segment_ids.size(), 2u);
  EXPECT_EQ(upload->dump_time_ms, 42);
}

TEST_F(GoProfileTest, LocationZeroIsRootAndBadIdsAreNoLines) {
  auto* s = profile_.add_sample();
  s->add_location_id(0);
  s->add_location_id(99);  // out of range
  s->add_location_id(1);
  auto* label = s->add_label();
  label->set_key(profile_.sample(0).label(1).key());
  label->set_str(profile_.sample(0).label(1).str());
  analysis::FrameTable frames;
  auto b = ReadGoSegmentSamples(profile_.SerializeAsString(), "seg-b", &frames);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->samples.size(), 3u);
  EXPECT_EQ(b->samples[2].count, 1);  // no values: 1
  std::vector<std::string> names;
  for (uint32_t id : b->samples[2].frames) names.push_back(frames.Signature(id));
  EXPECT_THAT(names, ElementsAre("root", "main.main:10"));
}

TEST_F(GoProfileTest, BadInputIsRefusedClearly) {
  EXPECT_EQ(ReadGoProfileUpload("\x0a\xff\xff", "t", 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::string gz = Gzip(profile_.SerializeAsString());
  auto truncated = ReadGoProfileUpload(gz.substr(0, gz.size() / 2), "t", 1);
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(truncated.status().message()), ::testing::HasSubstr("gzip"));
  // A small gzip that inflates past the limit.
  auto bomb = MaybeGunzip(Gzip(std::string(1 << 20, 'x')), 1000);
  EXPECT_EQ(bomb.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bomb.status().message()), ::testing::HasSubstr("1000 bytes"));
  analysis::FrameTable frames;
  EXPECT_EQ(ReadGoSegmentSamples("\x0a\xff\xff", "s", &frames).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// 64 KiB of gzip can hold 64 MiB of empty samples, which would decode into gigabytes: the
// scan refuses it before decoding.
TEST_F(GoProfileTest, ProfilesThatWouldDecodeIntoTooMuchMemoryAreRefused) {
  std::string empty_samples;
  for (int i = 0; i < (8 << 20); ++i) empty_samples.append("\x12\x00", 2);  // 16 MiB
  const std::string gz = Gzip(empty_samples);
  EXPECT_LT(gz.size(), 64u << 10);
  auto upload = ReadGoProfileUpload(gz, "t", 1);
  EXPECT_EQ(upload.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(upload.status().message()), ::testing::HasSubstr("memory to decode"));
  EXPECT_EQ(GoProfileReader::Parse(empty_samples).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A realistic profile is far below the budget and decodes.
  EXPECT_TRUE(GoProfileReader::Parse(profile_.SerializeAsString()).ok());
}

TEST_F(GoProfileTest, UploadsLabelledWithTooManySegmentsAreRefused) {
  perftools::profiles::Profile many;
  many.add_string_table("");
  many.add_string_table("segment_id");
  for (size_t i = 0; i <= kMaxSegmentsPerGoProfile; ++i) {
    many.add_string_table("s" + std::to_string(i));
    auto* label = many.add_sample()->add_label();
    label->set_key(1);
    label->set_str(many.string_table_size() - 1);
  }
  auto upload = ReadGoProfileUpload(many.SerializeAsString(), "t", 1);
  EXPECT_EQ(upload.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(upload.status().message()), ::testing::HasSubstr("segments"));
  many.mutable_sample()->RemoveLast();
  auto at_limit = ReadGoProfileUpload(many.SerializeAsString(), "t", 1);
  ASSERT_TRUE(at_limit.ok()) << at_limit.status();
  EXPECT_EQ(at_limit->segment_ids.size(), kMaxSegmentsPerGoProfile);
}

}  // namespace
}  // namespace stackhouse::wire
