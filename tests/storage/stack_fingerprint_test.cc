#include "storage/stack_fingerprint.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace stackhouse::storage {
namespace {

StackFingerprint Of(const std::vector<std::string>& frames) { return StackHasher::Of(frames); }

// Stack ids are stored: the fingerprint must never change between builds or machines. If this
// test fails, the hash changed and every stored dictionary would be orphaned. The expected
// values come from an independent model of the algorithm, stack_fingerprint_model.py.
TEST(StackFingerprintTest, IsPinned) {
  EXPECT_EQ(Of({}), (StackFingerprint{0x7e6a2f713d7eddf4ull, 0x2024c95dcd9b21b5ull}));
  EXPECT_EQ(Of({"ujava.lang.Thread.run", "kdo_syscall_64"}),
            (StackFingerprint{0x2049927fe4121230ull, 0x61859a6dcb37a14eull}));
  EXPECT_EQ(Of({"", "x", "ab", "abc", "abcd", "a2345678", "a23456789abcdef", "a23456789abcdefg",
                "a23456789abcdefgh", "a23456789abcdef0123456789abcdef0123"}),
            (StackFingerprint{0x0ca9a8ce578b7862ull, 0x197394531ee3e140ull}));
}

TEST(StackFingerprintTest, TagAndRestHashLikeTheWholeFrame) {
  std::string rest;
  for (size_t n = 0; n <= 70; ++n) {
    StackHasher split;
    split.AddFrame('u', rest);
    split.AddFrame('k', "schedule");
    EXPECT_EQ(split.Finish(), Of({"u" + rest, "kschedule"})) << "rest of " << n << " bytes";
    rest.push_back(static_cast<char>('a' + n % 26));
  }
}

TEST(StackFingerprintTest, FrameBoundariesCount) {
  EXPECT_NE(Of({"ab", "c"}), Of({"a", "bc"}));
  EXPECT_NE(Of({"abc"}), Of({"ab", "c"}));
  EXPECT_NE(Of({}), Of({""}));
  EXPECT_NE(Of({""}), Of({"", ""}));
  EXPECT_NE(Of({"a"}), Of({std::string("a\0", 2)}));
  EXPECT_NE(Of({"x", "y"}), Of({"y", "x"}));
}

// Every byte of a frame of every length up to 80 changes both halves of the fingerprint
// (the tail words overlap; each byte must still count).
TEST(StackFingerprintTest, EveryByteCounts) {
  for (size_t n = 1; n <= 80; ++n) {
    std::string frame(n, 'x');
    const StackFingerprint base = Of({"u" + frame});
    for (size_t i = 0; i < n; ++i) {
      std::string changed = frame;
      changed[i] = 'y';
      const StackFingerprint other = Of({"u" + changed});
      EXPECT_NE(other.slot, base.slot) << "length " << n << " byte " << i;
      EXPECT_NE(other.check, base.check) << "length " << n << " byte " << i;
    }
  }
}

TEST(StackFingerprintTest, NoCollisionsAmongManySimilarStacks) {
  absl::flat_hash_set<uint64_t> slots;
  absl::flat_hash_set<uint64_t> checks;
  constexpr int kStacks = 200'000;
  for (int i = 0; i < kStacks; ++i) {
    std::vector<std::string> frames = {"uorg.example.Main.main", "uorg.example.Worker.run",
                                       absl::StrCat("uorg.example.Handler", i % 1000, ".handle"),
                                       absl::StrCat("kfunc_", i / 1000)};
    const StackFingerprint f = Of(frames);
    slots.insert(f.slot);
    checks.insert(f.check);
  }
  EXPECT_EQ(slots.size(), static_cast<size_t>(kStacks));
  EXPECT_EQ(checks.size(), static_cast<size_t>(kStacks));
}

}  // namespace
}  // namespace stackhouse::storage
