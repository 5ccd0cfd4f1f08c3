#include "storage/stack_dictionary.h"

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "stackhouse/records.pb.h"
#include "storage/key_codec.h"
#include "storage/test_dir.h"

namespace stackhouse::storage {
namespace {

using ::testing::ElementsAre;

constexpr int64_t kNow = 1700000000000;

// The dictionary's key of `id` (`k` + 8-byte big-endian id), to inspect stored stamps.
std::string StackKeyForTest(uint64_t id) {
  std::string key(1, 'k');
  AppendUint64(&key, id);
  return key;
}

class StackDictionaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DatabaseOptions options;
    options.data_dir = dir_.path();
    auto db = Database::Open(options, &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    dictionary_ = std::make_unique<StackDictionary>(db_.get(), Family::kEbpfStack);
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kNow};
  std::unique_ptr<Database> db_;
  std::unique_ptr<StackDictionary> dictionary_;
};

// Two new stacks that probe the same free slot in one call must not share it.
TEST_F(StackDictionaryTest, NewStacksOfOneCallSharingASlotGetTwoIds) {
  const std::vector<std::string> a = {"ua"};
  const std::vector<std::string> b = {"ub"};
  auto ids = dictionary_->Resolve(
      {PendingStack{{100, 1}, &a}, PendingStack{{100, 2}, &b}, PendingStack{{100, 1}, &a}}, kNow);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ElementsAre(100u, 101u, 100u));
  EXPECT_THAT(*dictionary_->Get(100), ElementsAre("ua"));
  EXPECT_THAT(*dictionary_->Get(101), ElementsAre("ub"));
}

// The fingerprint is public: a different stack presenting a known fingerprint is told apart by
// the frames, not served the known stack's id.
TEST_F(StackDictionaryTest, AForgedFingerprintDoesNotBorrowAnotherStacksId) {
  const std::vector<std::string> victim = {"umain", "uwork"};
  const std::vector<std::string> forged = {"uother"};
  const StackFingerprint fingerprint = StackHasher::Of(victim);
  auto first = dictionary_->Resolve({PendingStack{fingerprint, &victim}}, kNow);
  ASSERT_TRUE(first.ok());
  auto second = dictionary_->Resolve({PendingStack{fingerprint, &forged}}, kNow);
  ASSERT_TRUE(second.ok());
  EXPECT_NE((*second)[0], (*first)[0]);
  EXPECT_THAT(*dictionary_->Get((*second)[0]), ElementsAre("uother"));
  EXPECT_THAT(*dictionary_->Get((*first)[0]), ElementsAre("umain", "uwork"));
}

TEST_F(StackDictionaryTest, RetainRefusesAnIdThatIsNotStored) {
  const std::vector<std::string> a = {"ua"};
  auto ids = dictionary_->Resolve({PendingStack{StackHasher::Of(a), &a}}, kNow);
  ASSERT_TRUE(ids.ok());
  EXPECT_TRUE(dictionary_->Retain(*ids, kNow, kNow).ok());
  absl::Status missing = dictionary_->Retain({(*ids)[0], (*ids)[0] + 7}, kNow, kNow);
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.message()), ::testing::HasSubstr("not in the dictionary"));
}

// Records stamped at the end of time must not re-stamp a stack other records share so far ahead
// that its expiry overflows (it read as expired: every profile using it lost its frames).
TEST_F(StackDictionaryTest, RetainForRecordsFarAheadStampsNoFurtherThanTheSkew) {
  const std::vector<std::string> a = {"umain", "ushared"};
  auto ids = dictionary_->Resolve({PendingStack{StackHasher::Of(a), &a}}, kNow);
  ASSERT_TRUE(ids.ok());
  clock_.AdvanceMillis(kDictionaryRefreshMs);  // the entry is due for a refresh
  const int64_t now = clock_.NowMillis();
  ASSERT_TRUE(dictionary_->Retain(*ids, now, std::numeric_limits<int64_t>::max()).ok());
  auto stored = db_->Get(Family::kEbpfStack, StackKeyForTest((*ids)[0]));
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->timestamp_ms, now + db_->max_future_skew_ms());
  EXPECT_THAT(*dictionary_->Get((*ids)[0]), ElementsAre("umain", "ushared"));
}

// An entry stamped at the end of time by an earlier version is re-stamped by its next user,
// so that it expires some day.
TEST_F(StackDictionaryTest, AnEntryStampedAtTheEndOfTimeIsRestamped) {
  const std::vector<std::string> a = {"ua"};
  const PendingStack stack{StackHasher::Of(a), &a};
  auto ids = dictionary_->Resolve({stack}, kNow);
  ASSERT_TRUE(ids.ok());
  records::StackRecord pb;
  pb.add_frames("ua");
  ASSERT_TRUE(db_->Put(Family::kEbpfStack, StackKeyForTest((*ids)[0]),
                       std::numeric_limits<int64_t>::max(), pb.SerializeAsString())
                  .ok());
  StackDictionary fresh_process(db_.get(), Family::kEbpfStack);
  auto again = fresh_process.Resolve({stack}, kNow);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *ids);
  auto stored = db_->Get(Family::kEbpfStack, StackKeyForTest((*ids)[0]));
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->timestamp_ms, kNow);
}

}  // namespace
}  // namespace stackhouse::storage
