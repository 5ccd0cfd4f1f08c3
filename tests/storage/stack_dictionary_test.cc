#include "storage/stack_dictionary.h"

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fakes/failing_stores.h"
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
    failing_ = std::make_unique<fakes::FailingRecordAccess>(db_.get(), &faults_);
    faulty_ = std::make_unique<StackDictionary>(failing_.get(), Family::kEbpfStack);
  }

  // The stored record of `id`, if any.
  std::optional<Record> Stored(uint64_t id) {
    std::string key(1, 'k');
    for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(id >> shift));
    auto stored = db_->Get(Family::kEbpfStack, key);
    EXPECT_TRUE(stored.ok());
    return stored.ok() ? *stored : std::nullopt;
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kNow};
  std::unique_ptr<Database> db_;
  std::unique_ptr<StackDictionary> dictionary_;
  // A second dictionary over the same database whose reads and writes can be made to fail.
  fakes::FaultInjector faults_;
  std::unique_ptr<fakes::FailingRecordAccess> failing_;
  std::unique_ptr<StackDictionary> faulty_;
};

TEST_F(StackDictionaryTest, AFailedWriteLeavesTheCachesAsTheyWere) {
  const std::vector<std::string> frames = {"umain", "kwork"};
  const PendingStack stack{StackHasher::Of(frames), &frames};
  faults_.FailNth(1, absl::UnavailableError("disk full"), "Write");
  auto failed = faulty_->Resolve({stack}, kNow);
  EXPECT_EQ(failed.status(), absl::UnavailableError("disk full"));
  EXPECT_FALSE(Stored(stack.fingerprint.slot).has_value());
  // Nothing claims the stack is stored: a retained id is looked up, and is not there.
  EXPECT_EQ(faulty_->Retain({stack.fingerprint.slot}, kNow, kNow).code(),
            absl::StatusCode::kNotFound);

  auto ids = faulty_->Resolve({stack}, kNow);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ElementsAre(stack.fingerprint.slot));
  EXPECT_EQ(faults_.calls("Write"), 2);  // written again, not served from a cache
  EXPECT_THAT(*dictionary_->Get((*ids)[0]), ElementsAre("umain", "kwork"));
  // Now the caches know it: no more reads or writes.
  const int64_t calls = faults_.calls();
  ASSERT_TRUE(faulty_->Resolve({stack}, kNow).ok());
  ASSERT_TRUE(faulty_->Retain(*ids, kNow, kNow).ok());
  EXPECT_EQ(faults_.calls(), calls);
}

TEST_F(StackDictionaryTest, AFailedRefreshIsRetriedByTheNextCall) {
  const std::vector<std::string> frames = {"umain"};
  auto ids = faulty_->Resolve({PendingStack{StackHasher::Of(frames), &frames}}, kNow);
  ASSERT_TRUE(ids.ok());
  const int64_t later = kNow + kDictionaryRefreshMs;
  faults_.FailNth(1, absl::UnavailableError("disk full"), "Write");
  EXPECT_EQ(faulty_->Retain(*ids, later, later), absl::UnavailableError("disk full"));
  EXPECT_EQ(Stored((*ids)[0])->timestamp_ms, kNow);
  ASSERT_TRUE(faulty_->Retain(*ids, later, later).ok());
  EXPECT_EQ(Stored((*ids)[0])->timestamp_ms, later);
}

TEST_F(StackDictionaryTest, AFailedReadReleasesWhatTheCallHeld) {
  const std::vector<std::string> a = {"ua"};
  const std::vector<std::string> b = {"ub"};
  const std::vector<PendingStack> stacks = {{StackHasher::Of(a), &a}, {StackHasher::Of(b), &b}};
  faults_.FailNth(2, absl::DataLossError("bad block"), "Get");
  EXPECT_EQ(faulty_->Resolve(stacks, kNow).status(), absl::DataLossError("bad block"));
  // The slots the failed call claimed are free again (this would wait forever otherwise).
  auto ids = faulty_->Resolve(stacks, kNow);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ElementsAre(stacks[0].fingerprint.slot, stacks[1].fingerprint.slot));
}

// Streams racing on the same new stacks, in different orders, and on different stacks that
// share a slot: every stack ends with one id, and every id holds its own frames.
TEST_F(StackDictionaryTest, ConcurrentCallsAgreeOnTheIdsOfNewStacks) {
  constexpr int kThreads = 8;
  constexpr int kStacks = 64;
  std::vector<std::vector<std::string>> frames;
  std::vector<PendingStack> stacks;
  frames.reserve(kStacks);
  for (int i = 0; i < kStacks; ++i) frames.push_back({"umain", absl::StrCat("uf", i)});
  for (int i = 0; i < kStacks; ++i) {
    // Pairs of different stacks forced onto one slot.
    StackFingerprint fingerprint = StackHasher::Of(frames[i]);
    if (i % 2 == 1) fingerprint.slot = stacks.back().fingerprint.slot;
    stacks.push_back({fingerprint, &frames[i]});
  }
  std::vector<std::vector<uint64_t>> ids(kThreads, std::vector<uint64_t>(kStacks));
  std::vector<absl::Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread resolves the stacks in its own order, in batches of a few.
      for (int start = 0; start < kStacks && results[t].ok(); start += 4) {
        std::vector<PendingStack> batch;
        std::vector<int> which;
        for (int k = 0; k < 4; ++k) {
          const int i = (start + k + t * 13) % kStacks;
          batch.push_back(stacks[i]);
          which.push_back(i);
        }
        auto resolved = dictionary_->Resolve(batch, kNow);
        if (!resolved.ok()) {
          results[t] = resolved.status();
          break;
        }
        for (size_t k = 0; k < which.size(); ++k) ids[t][which[k]] = (*resolved)[k];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_TRUE(results[t].ok()) << results[t];
    EXPECT_EQ(ids[t], ids[0]) << "thread " << t;
  }
  for (int i = 0; i < kStacks; ++i) {
    EXPECT_THAT(*dictionary_->Get(ids[0][i]), ElementsAre("umain", absl::StrCat("uf", i)));
  }
}

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
