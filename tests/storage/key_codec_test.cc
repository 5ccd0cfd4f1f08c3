#include "storage/key_codec.h"

#include <algorithm>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"

namespace stackhouse::storage {
namespace {

std::string Key(const std::string& s, int64_t n, uint64_t u) {
  std::string key;
  AppendString(&key, s);
  AppendInt64(&key, n);
  AppendUint64(&key, u);
  return key;
}

TEST(KeyCodecTest, CompositeKeysSortLikeTuples) {
  std::mt19937_64 rng(42);
  const std::vector<std::string> strings = {
      "", "a", "ab", std::string("a\0", 2), std::string("a\0b", 3), "b", "\xff", "a\xff"};
  const std::vector<int64_t> ints = {
      std::numeric_limits<int64_t>::min(), -1000, -1, 0, 1, 1700000000000,
      std::numeric_limits<int64_t>::max()};
  std::vector<std::tuple<std::string, int64_t, uint64_t>> tuples;
  for (int i = 0; i < 2000; ++i) {
    tuples.emplace_back(strings[rng() % strings.size()], ints[rng() % ints.size()], rng() % 4);
  }
  std::vector<std::pair<std::string, size_t>> keys;
  for (size_t i = 0; i < tuples.size(); ++i) {
    auto& [s, n, u] = tuples[i];
    keys.emplace_back(Key(s, n, u), i);
  }
  std::sort(keys.begin(), keys.end());
  for (size_t i = 1; i < keys.size(); ++i) {
    EXPECT_LE(tuples[keys[i - 1].second], tuples[keys[i].second]) << "at " << i;
  }
}

TEST(KeyCodecTest, RoundTrips) {
  std::string key;
  AppendString(&key, std::string("x\0y", 3));
  AppendInt64(&key, -42);
  AppendUint64(&key, 7);
  AppendString(&key, "");
  KeyReader reader(key);
  std::string s;
  int64_t n;
  uint64_t u;
  ASSERT_TRUE(reader.ReadString(&s));
  EXPECT_EQ(s, std::string("x\0y", 3));
  ASSERT_TRUE(reader.ReadInt64(&n));
  EXPECT_EQ(n, -42);
  ASSERT_TRUE(reader.ReadUint64(&u));
  EXPECT_EQ(u, 7u);
  ASSERT_TRUE(reader.ReadString(&s));
  EXPECT_EQ(s, "");
  EXPECT_TRUE(reader.Done());
}

TEST(KeyCodecTest, RejectsTruncatedInput) {
  std::string s;
  uint64_t u;
  EXPECT_FALSE(KeyReader("abc").ReadString(&s));
  EXPECT_FALSE(KeyReader(std::string("abc\0", 4)).ReadString(&s));
  EXPECT_FALSE(KeyReader(std::string("a\0\x02", 3)).ReadString(&s));
  EXPECT_FALSE(KeyReader("1234567").ReadUint64(&u));
}

TEST(KeyCodecTest, PrefixSuccessor) {
  EXPECT_EQ(PrefixSuccessor("abc"), "abd");
  EXPECT_EQ(PrefixSuccessor("a\xff"), "b");
  EXPECT_EQ(PrefixSuccessor("\xff\xff"), "");
  // Every extension of a prefix sorts before its successor.
  std::string prefix = "s";
  std::string extended = prefix;
  AppendString(&extended, "\xff\xff\xff");
  EXPECT_LT(extended, PrefixSuccessor(prefix));
}

}  // namespace
}  // namespace stackhouse::storage
