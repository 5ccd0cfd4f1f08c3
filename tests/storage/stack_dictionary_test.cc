#include "storage/stack_dictionary.h"

#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
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

// The key of frame `id` (`f` + 8-byte big-endian id).
std::string FrameKeyForTest(uint64_t id) {
  std::string key(1, 'f');
  AppendUint64(&key, id);
  return key;
}

// The slot where the dictionary stores `frame` first (its fingerprint as a stack of one frame).
uint64_t FrameSlot(const std::string& frame) { return StackHasher::Of({frame}).slot; }

// A stack entry in the format written before frames were stored apart.
std::string OldEntry(const std::vector<std::string>& frames) {
  records::StackRecord pb;
  for (const std::string& frame : frames) pb.add_frames(frame);
  return pb.SerializeAsString();
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

// Each distinct frame is stored once, under its own key; a stack holds its frames' ids.
TEST_F(StackDictionaryTest, FramesAreStoredOnceAndStacksAsTheirIds) {
  const std::vector<std::string> a = {"umain", "uwork", "kread"};
  const std::vector<std::string> b = {"umain", "uwork", "kwrite"};
  auto ids = dictionary_->Resolve(
      {PendingStack{StackHasher::Of(a), &a}, PendingStack{StackHasher::Of(b), &b}}, kNow);
  ASSERT_TRUE(ids.ok()) << ids.status();
  for (const std::string frame : {"umain", "uwork", "kread", "kwrite"}) {
    auto stored = db_->Get(Family::kEbpfStack, FrameKeyForTest(FrameSlot(frame)));
    ASSERT_TRUE(stored.ok() && stored->has_value()) << frame;
    EXPECT_EQ((*stored)->value, frame);
    EXPECT_EQ((*stored)->timestamp_ms, kNow);
  }
  std::optional<Record> stack = Stored((*ids)[0]);
  ASSERT_TRUE(stack.has_value());
  ASSERT_EQ(stack->value.size(), 1 + 8 * a.size());
  EXPECT_EQ(stack->value[0], StackDictionary::kStackOfFrameIds);
  EXPECT_EQ(*dictionary_->Get((*ids)[0]), a);
  EXPECT_EQ(*dictionary_->Get((*ids)[1]), b);

  CollectingStackVisitor visitor;
  ASSERT_TRUE(dictionary_->Read({(*ids)[1], (*ids)[0], (*ids)[1] + 1}, visitor).ok());
  // Each frame handed out once, just before the first stack that holds it; the absent id is not
  // visited.
  EXPECT_THAT(visitor.frames(), ElementsAre("umain", "uwork", "kwrite", "kread"));
  EXPECT_THAT(visitor.stacks(), ElementsAre(b, a));
  EXPECT_THAT(visitor.indices(), ElementsAre(0u, 1u));
}

// A data directory written by an earlier version keeps working: its entries (the frames' texts)
// are read alongside new ones, and a stack already stored that way keeps its id.
TEST_F(StackDictionaryTest, EntriesOfTheOldFormatAreReadAlongsideNewOnes) {
  const std::vector<std::string> old_stack = {"umain", "uold"};
  const std::vector<std::string> new_stack = {"umain", "unew"};
  const PendingStack old_pending{StackHasher::Of(old_stack), &old_stack};
  ASSERT_TRUE(db_->Put(Family::kEbpfStack, StackKeyForTest(old_pending.fingerprint.slot), kNow,
                       OldEntry(old_stack))
                  .ok());
  auto ids = dictionary_->Resolve(
      {old_pending, PendingStack{StackHasher::Of(new_stack), &new_stack}}, kNow);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ((*ids)[0], old_pending.fingerprint.slot);
  EXPECT_EQ(Stored((*ids)[0])->value, OldEntry(old_stack));  // fresh: left as it was
  EXPECT_EQ(*dictionary_->Get((*ids)[0]), old_stack);
  EXPECT_EQ(*dictionary_->Get((*ids)[1]), new_stack);

  CollectingStackVisitor visitor;
  ASSERT_TRUE(dictionary_->Read({(*ids)[0], (*ids)[1], (*ids)[0]}, visitor).ok());
  EXPECT_THAT(visitor.stacks(), ElementsAre(old_stack, new_stack, old_stack));
  // "umain" comes once from the old entry and once from the frame dictionary.
  EXPECT_THAT(visitor.frames(), ElementsAre("umain", "uold", "umain", "unew"));

  // Retain keeps an old entry as it is; Resolve rewrites it in the new format when it is due.
  const int64_t later = kNow + kDictionaryRefreshMs;
  clock_.SetMillis(later);
  ASSERT_TRUE(dictionary_->Retain({(*ids)[0]}, later, later).ok());
  EXPECT_EQ(Stored((*ids)[0])->value, OldEntry(old_stack));
  EXPECT_EQ(Stored((*ids)[0])->timestamp_ms, later);
  const int64_t much_later = later + kDictionaryRefreshMs;
  clock_.SetMillis(much_later);
  StackDictionary next_process(db_.get(), Family::kEbpfStack);
  auto again = next_process.Resolve({old_pending}, much_later);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)[0], (*ids)[0]);
  EXPECT_EQ(Stored((*ids)[0])->value[0], StackDictionary::kStackOfFrameIds);
  EXPECT_EQ(Stored((*ids)[0])->timestamp_ms, much_later);
  EXPECT_EQ(*next_process.Get((*ids)[0]), old_stack);
}

// Frames are content fingerprints' slots too: a slot taken by another frame is probed past.
TEST_F(StackDictionaryTest, AFrameSlotTakenByAnotherFrameIsProbedPast) {
  const std::vector<std::string> a = {"umain", "uvictim"};
  const uint64_t slot = FrameSlot("uvictim");
  ASSERT_TRUE(db_->Put(Family::kEbpfStack, FrameKeyForTest(slot), kNow, "uintruder").ok());
  auto ids = dictionary_->Resolve({PendingStack{StackHasher::Of(a), &a}}, kNow);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*dictionary_->Get((*ids)[0]), a);
  auto intruder = db_->Get(Family::kEbpfStack, FrameKeyForTest(slot));
  EXPECT_EQ((*intruder)->value, "uintruder");
  auto probed = db_->Get(Family::kEbpfStack, FrameKeyForTest(slot + 1));
  ASSERT_TRUE(probed.ok() && probed->has_value());
  EXPECT_EQ((*probed)->value, "uvictim");
}

// Reads go in batches; frames shared across batches are handed out once.
TEST_F(StackDictionaryTest, ReadHandsEachFrameOutOnceAcrossBatches) {
  constexpr int kStacks = 2500;
  std::vector<std::vector<std::string>> frames;
  frames.reserve(kStacks);
  for (int i = 0; i < kStacks; ++i) {
    frames.push_back({"uroot", absl::StrCat("ugroup", i % 7), absl::StrCat("uleaf", i)});
  }
  std::vector<const std::vector<std::string>*> stacks;
  for (const auto& f : frames) stacks.push_back(&f);
  auto ids = dictionary_->Resolve(stacks, kNow);
  ASSERT_TRUE(ids.ok()) << ids.status();
  std::vector<uint64_t> sorted = *ids;
  std::sort(sorted.begin(), sorted.end());
  CollectingStackVisitor visitor;
  ASSERT_TRUE(dictionary_->Read(sorted, visitor).ok());
  ASSERT_EQ(visitor.stacks().size(), static_cast<size_t>(kStacks));
  EXPECT_EQ(visitor.frames().size(), static_cast<size_t>(1 + 7 + kStacks));
  for (int i = 0; i < kStacks; ++i) {
    EXPECT_EQ(visitor.stacks()[i], *dictionary_->Get(sorted[i]));
  }
}

// Whatever its batches, Read answers as reading the stacks one by one: in the order asked
// (unsorted, repeated), skipping a stack not stored or one of whose frames has gone, and handing
// each frame out once across batches.
TEST_F(StackDictionaryTest, ReadAnswersAsReadingOneByOneWhateverItsBatches) {
  std::mt19937 rng(5);
  std::vector<std::vector<std::string>> frames;
  for (int i = 0; i < 400; ++i) {
    std::vector<std::string> stack;
    if (!frames.empty() && rng() % 3 != 0) {  // a prefix of an earlier stack, extended
      stack = frames[rng() % frames.size()];
      stack.resize(rng() % (stack.size() + 1));
    }
    for (int d = 1 + static_cast<int>(rng() % 6); d > 0; --d) {
      stack.push_back(absl::StrCat("u", rng() % 60));
    }
    frames.push_back(stack);
  }
  frames.push_back({"uroot", "ugone"});  // its frame is deleted below
  std::vector<const std::vector<std::string>*> stacks;
  for (const auto& f : frames) stacks.push_back(&f);
  auto ids = dictionary_->Resolve(stacks, kNow);
  ASSERT_TRUE(ids.ok()) << ids.status();
  WriteBatch batch;
  batch.Delete(Family::kEbpfStack, FrameKeyForTest(FrameSlot("ugone")));
  ASSERT_TRUE(db_->Write(std::move(batch)).ok());
  std::map<uint64_t, const std::vector<std::string>*> stored;
  for (size_t i = 0; i + 1 < frames.size(); ++i) stored[(*ids)[i]] = &frames[i];
  const uint64_t gone = ids->back();
  uint64_t never_stored = 12345;
  while (stored.contains(never_stored) || never_stored == gone) ++never_stored;

  std::vector<uint64_t> asked = *ids;
  for (int i = 0; i < 50; ++i) asked.push_back((*ids)[rng() % ids->size()]);
  asked.push_back(never_stored);
  std::shuffle(asked.begin(), asked.end(), rng);
  std::vector<size_t> expected_indices;
  std::vector<std::vector<std::string>> expected_stacks;
  for (size_t i = 0; i < asked.size(); ++i) {
    auto it = stored.find(asked[i]);
    if (it == stored.end()) continue;
    expected_indices.push_back(i);
    expected_stacks.push_back(*it->second);
  }
  for (const StackDictionary::ReadBounds bounds :
       {StackDictionary::ReadBounds{1, 1}, StackDictionary::ReadBounds{7, 3},
        StackDictionary::ReadBounds{200, 16}, StackDictionary::ReadBounds{}}) {
    SCOPED_TRACE(
        absl::StrCat("batch_refs ", bounds.batch_refs, ", keys_per_read ", bounds.keys_per_read));
    StackDictionary reader(db_.get(), Family::kEbpfStack);
    reader.set_read_bounds(bounds);
    CollectingStackVisitor visitor;
    ASSERT_TRUE(reader.Read(asked, visitor).ok());
    EXPECT_EQ(visitor.indices(), expected_indices);
    EXPECT_EQ(visitor.stacks(), expected_stacks);
    const std::set<std::string> distinct(visitor.frames().begin(), visitor.frames().end());
    EXPECT_EQ(distinct.size(), visitor.frames().size());
    // The skipped stack's frames are not handed out.
    EXPECT_FALSE(distinct.contains("uroot"));
  }
}

// A read failing in a later batch fails the Read, after the earlier batches were visited.
TEST_F(StackDictionaryTest, AFailedReadOfALaterBatchFailsTheRead) {
  std::vector<std::vector<std::string>> frames;
  for (int i = 0; i < 20; ++i) frames.push_back({"umain", absl::StrCat("uleaf", i)});
  std::vector<const std::vector<std::string>*> stacks;
  for (const auto& f : frames) stacks.push_back(&f);
  auto ids = faulty_->Resolve(stacks, kNow);
  ASSERT_TRUE(ids.ok()) << ids.status();
  std::sort(ids->begin(), ids->end());
  faulty_->set_read_bounds({10, 4});
  // Batch 1: two reads of 4 stacks (16 frame refs reach the bound of 10), then its 9 frames in
  // three reads; the sixth read is batch 2's first.
  faults_.FailNth(6, absl::UnavailableError("io error"), "VisitSorted");
  CollectingStackVisitor visitor;
  EXPECT_EQ(faulty_->Read(*ids, visitor), absl::UnavailableError("io error"));
  EXPECT_EQ(visitor.stacks().size(), 8u);
  EXPECT_EQ(visitor.frames().size(), 9u);
  CollectingStackVisitor again;
  ASSERT_TRUE(faulty_->Read(*ids, again).ok());
  EXPECT_EQ(again.stacks().size(), 20u);
  EXPECT_EQ(again.frames().size(), 21u);
}

// Frames are stamped with their stacks, so a stack refreshed for new records keeps its frames
// as long as itself; a stack one of whose frames is gone is not read (as if expired).
TEST_F(StackDictionaryTest, FramesAreRestampedWithTheirStack) {
  const std::vector<std::string> a = {"umain", "uwork"};
  auto ids = dictionary_->Resolve({PendingStack{StackHasher::Of(a), &a}}, kNow);
  ASSERT_TRUE(ids.ok());
  const int64_t later = kNow + kDictionaryRefreshMs;
  clock_.SetMillis(later);
  ASSERT_TRUE(dictionary_->Retain(*ids, later, later).ok());
  EXPECT_EQ(Stored((*ids)[0])->timestamp_ms, later);
  for (const std::string& frame : a) {
    auto stored = db_->Get(Family::kEbpfStack, FrameKeyForTest(FrameSlot(frame)));
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_EQ((*stored)->timestamp_ms, later) << frame;
  }
  WriteBatch batch;
  batch.Delete(Family::kEbpfStack, FrameKeyForTest(FrameSlot("uwork")));
  ASSERT_TRUE(db_->Write(std::move(batch)).ok());
  EXPECT_EQ(dictionary_->Get((*ids)[0]).status().code(), absl::StatusCode::kNotFound);
  CollectingStackVisitor visitor;
  ASSERT_TRUE(dictionary_->Read(*ids, visitor).ok());
  EXPECT_TRUE(visitor.stacks().empty());
  EXPECT_TRUE(visitor.frames().empty());
  clock_.SetMillis(later + kDictionaryRefreshMs);
  EXPECT_EQ(
      dictionary_->Retain(*ids, later + kDictionaryRefreshMs, later + kDictionaryRefreshMs).code(),
      absl::StatusCode::kNotFound);
}

TEST_F(StackDictionaryTest, FailedBatchedReadsAreReported) {
  const std::vector<std::string> a = {"umain", "uwork"};
  auto ids = faulty_->Resolve({PendingStack{StackHasher::Of(a), &a}}, kNow);
  ASSERT_TRUE(ids.ok());
  CollectingStackVisitor visitor;
  // The read of the stacks, then the read of their frames.
  faults_.FailNth(1, absl::UnavailableError("io error"), "VisitSorted");
  EXPECT_EQ(faulty_->Read(*ids, visitor), absl::UnavailableError("io error"));
  faults_.FailNth(2, absl::DataLossError("bad block"), "VisitSorted");
  EXPECT_EQ(faulty_->Read(*ids, visitor), absl::DataLossError("bad block"));
  EXPECT_TRUE(visitor.stacks().empty());
  // Refreshing a stack reads its frames to stamp them again: a failed read writes nothing.
  const int64_t later = kNow + kDictionaryRefreshMs;
  faults_.FailNth(1, absl::UnavailableError("io error"), "MultiGet");
  EXPECT_EQ(faulty_->Retain(*ids, later, later), absl::UnavailableError("io error"));
  EXPECT_EQ(Stored((*ids)[0])->timestamp_ms, kNow);
  ASSERT_TRUE(faulty_->Retain(*ids, later, later).ok());
  EXPECT_EQ(Stored((*ids)[0])->timestamp_ms, later);
  ASSERT_TRUE(faulty_->Read(*ids, visitor).ok());
  EXPECT_THAT(visitor.stacks(), ElementsAre(a));
}

// A write that fails after new frames were staged leaves no frame in the caches: the next call
// writes them again.
TEST_F(StackDictionaryTest, AFailedWriteOfNewFramesIsRetriedWhole) {
  const std::vector<std::string> a = {"unew1", "unew2"};
  const PendingStack stack{StackHasher::Of(a), &a};
  faults_.FailNth(1, absl::UnavailableError("disk full"), "Write");
  EXPECT_EQ(faulty_->Resolve({stack}, kNow).status(), absl::UnavailableError("disk full"));
  EXPECT_FALSE(db_->Get(Family::kEbpfStack, FrameKeyForTest(FrameSlot("unew1")))->has_value());
  const std::vector<std::string> b = {"unew1", "unew2", "unew3"};
  auto ids = faulty_->Resolve({PendingStack{StackHasher::Of(b), &b}, stack}, kNow);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*dictionary_->Get((*ids)[0]), b);
  EXPECT_EQ(*dictionary_->Get((*ids)[1]), a);
}

}  // namespace
}  // namespace stackhouse::storage
