#include "export/gzip_writer.h"

#include <string>

#include "export_test_util.h"
#include "gtest/gtest.h"

namespace stackhouse::exporter {
namespace {

TEST(GzipWriterTest, RoundTripsLargeInputInChunks) {
  std::string input;
  for (int i = 0; i < 200000; ++i) absl::StrAppend(&input, "line ", i * 7919 % 100003, "\n");
  std::string compressed;
  int chunks = 0;
  ChunkSink sink = [&](absl::string_view chunk) {
    compressed.append(chunk.data(), chunk.size());
    ++chunks;
    return true;
  };
  GzipWriter gzip(sink);
  for (size_t i = 0; i < input.size(); i += 1000) {
    ASSERT_TRUE(gzip.Write(absl::string_view(input).substr(i, 1000)));
  }
  ASSERT_TRUE(gzip.Finish());
  EXPECT_TRUE(gzip.status().ok());
  EXPECT_GT(chunks, 1);
  EXPECT_LT(compressed.size(), input.size());
  EXPECT_EQ(testing::Gunzip(compressed), input);
}

TEST(GzipWriterTest, EmptyInputIsAValidStream) {
  std::string compressed;
  ChunkSink sink = [&](absl::string_view chunk) {
    compressed.append(chunk.data(), chunk.size());
    return true;
  };
  GzipWriter gzip(sink);
  ASSERT_TRUE(gzip.Finish());
  EXPECT_EQ(testing::Gunzip(compressed), "");
}

TEST(GzipWriterTest, ReportsARefusingSink) {
  ChunkSink refuse = [](absl::string_view) { return false; };
  GzipWriter gzip(refuse);
  EXPECT_FALSE(gzip.Finish());
  EXPECT_TRUE(absl::IsCancelled(gzip.status()));
  EXPECT_FALSE(gzip.Write("more"));
}

}  // namespace
}  // namespace stackhouse::exporter
