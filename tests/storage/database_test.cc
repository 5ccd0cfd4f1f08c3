#include "storage/database.h"

#include <sys/stat.h>
#include <unistd.h>

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/test_dir.h"

namespace stackhouse::storage {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr int64_t kStart = 1700000000000;

class DatabaseTest : public ::testing::Test {
 protected:
  std::unique_ptr<Database> OpenDb() {
    DatabaseOptions options;
    options.data_dir = dir_.path();
    options.record_ttl_ms = 3 * kDay;
    options.metrics_ttl_ms = 7 * kDay;
    auto db = Database::Open(options, &clock_);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? std::move(*db) : nullptr;
  }

  std::optional<Record> Get(Database& db, Family family, const std::string& key) {
    auto record = db.Get(family, key);
    EXPECT_TRUE(record.ok()) << record.status();
    return record.ok() ? *record : std::nullopt;
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kStart};
};

TEST_F(DatabaseTest, PutGetAndPersistAcrossReopen) {
  {
    auto db = OpenDb();
    ASSERT_TRUE(db->Put(Family::kTask, "k1", kStart, "v1").ok());
    WriteBatch batch;
    batch.Put(Family::kTask, "k2", kStart, "v2");
    batch.Put(Family::kSegment, "k1", kStart, "other family");
    batch.Delete(Family::kTask, "k1");
    EXPECT_EQ(batch.Count(), 3u);
    ASSERT_TRUE(db->Write(std::move(batch)).ok());
  }
  auto db = OpenDb();
  EXPECT_FALSE(Get(*db, Family::kTask, "k1").has_value());
  auto k2 = Get(*db, Family::kTask, "k2");
  ASSERT_TRUE(k2.has_value());
  EXPECT_EQ(k2->value, "v2");
  EXPECT_EQ(k2->timestamp_ms, kStart);
  EXPECT_EQ(Get(*db, Family::kSegment, "k1")->value, "other family");
}

// A stored value too short to hold its timestamp (only a foreign write can make one) is reported
// as DataLoss by Get and by Scan, never skipped silently; other records stay readable.
TEST_F(DatabaseTest, AValueWithoutItsTimestampIsDataLoss) {
  {
    auto db = OpenDb();
    ASSERT_TRUE(db->Put(Family::kTask, "good", kStart, "v").ok());
  }
  {
    const std::string path = dir_.path() + "/db";
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : names)
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &handles, &raw).ok());
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == GetFamilyInfo(Family::kTask).name) {
        ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), handles[i], "zbad", "xyz").ok());
      }
    }
    for (auto* handle : handles) ASSERT_TRUE(raw->DestroyColumnFamilyHandle(handle).ok());
    delete raw;
  }
  auto db = OpenDb();
  EXPECT_EQ(db->Get(Family::kTask, "zbad").status().code(), absl::StatusCode::kDataLoss);
  absl::Status scanned = db->ScanPrefix(Family::kTask, "", [](const Record&) { return true; });
  EXPECT_EQ(scanned.code(), absl::StatusCode::kDataLoss) << scanned;
  EXPECT_EQ(Get(*db, Family::kTask, "good")->value, "v");
}

TEST_F(DatabaseTest, ScansInKeyOrderWithinBounds) {
  auto db = OpenDb();
  for (std::string key : {"b2", "a1", "b1", "c1", "b3"}) {
    ASSERT_TRUE(db->Put(Family::kTask, key, kStart, "v" + key).ok());
  }
  std::vector<std::string> seen;
  ASSERT_TRUE(db->ScanPrefix(Family::kTask, "b", [&](const Record& r) {
                  seen.push_back(r.key + "=" + r.value);
                  return true;
                }).ok());
  EXPECT_THAT(seen, ::testing::ElementsAre("b1=vb1", "b2=vb2", "b3=vb3"));
  seen.clear();
  ASSERT_TRUE(db->Scan(Family::kTask, "a", "", [&](const Record& r) {
                  seen.push_back(r.key);
                  return seen.size() < 2;  // stop early
                }).ok());
  EXPECT_THAT(seen, ::testing::ElementsAre("a1", "b1"));
}

TEST_F(DatabaseTest, RecordsExpireAfterTheirTtl) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Put(Family::kSegment, "old", kStart, "record").ok());
  ASSERT_TRUE(db->Put(Family::kSegment, "new", kStart + 2 * kDay, "record").ok());
  ASSERT_TRUE(db->Put(Family::kMetadata, "svc", kStart, "metrics").ok());
  ASSERT_TRUE(db->Put(Family::kTask, "task", kStart, "kept forever").ok());

  clock_.SetMillis(kStart + 3 * kDay - 1);
  EXPECT_TRUE(Get(*db, Family::kSegment, "old").has_value());

  // Readers stop seeing a record the moment it expires, before any compaction.
  clock_.SetMillis(kStart + 3 * kDay);
  EXPECT_FALSE(Get(*db, Family::kSegment, "old").has_value());
  EXPECT_TRUE(Get(*db, Family::kSegment, "new").has_value());
  EXPECT_TRUE(Get(*db, Family::kMetadata, "svc").has_value());  // 7-day TTL
  int scanned = 0;
  ASSERT_TRUE(db->ScanPrefix(Family::kSegment, "", [&](const Record&) {
                  ++scanned;
                  return true;
                }).ok());
  EXPECT_EQ(scanned, 1);

  // Compaction removes expired records physically: winding the clock back does not
  // bring them back.
  clock_.SetMillis(kStart + 8 * kDay);
  ASSERT_TRUE(db->Flush().ok());
  ASSERT_TRUE(db->CompactAll().ok());
  clock_.SetMillis(kStart);
  EXPECT_FALSE(Get(*db, Family::kSegment, "old").has_value());
  EXPECT_FALSE(Get(*db, Family::kSegment, "new").has_value());
  EXPECT_FALSE(Get(*db, Family::kMetadata, "svc").has_value());
  EXPECT_EQ(Get(*db, Family::kTask, "task")->value, "kept forever");
}

TEST_F(DatabaseTest, MultiGetAnswersEachKeyInOrderAndHidesExpiredRecords) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Put(Family::kSegment, "a", kStart, "first").ok());
  ASSERT_TRUE(db->Put(Family::kSegment, "c", kStart + 2 * kDay, "third").ok());
  ASSERT_TRUE(db->Put(Family::kSegment, "d", kStart - 2 * kDay, "expired").ok());
  ASSERT_TRUE(db->Flush().ok());  // "a" from a table, "e" from the memtable
  ASSERT_TRUE(db->Put(Family::kSegment, "e", kStart, "fifth").ok());
  clock_.SetMillis(kStart + 1 * kDay + 1);
  // Unsorted, with a repeat and an absent key.
  const std::vector<std::string> keys = {"e", "a", "b", "c", "d", "a"};
  auto records = db->MultiGet(Family::kSegment, keys);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), keys.size());
  EXPECT_EQ((*records)[0]->value, "fifth");
  EXPECT_EQ((*records)[1]->value, "first");
  EXPECT_EQ((*records)[1]->key, "a");
  EXPECT_EQ((*records)[1]->timestamp_ms, kStart);
  EXPECT_FALSE((*records)[2].has_value());
  EXPECT_EQ((*records)[3]->value, "third");
  EXPECT_FALSE((*records)[4].has_value());
  EXPECT_EQ((*records)[5]->value, "first");
  auto none = db->MultiGet(Family::kSegment, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// A RecordAccess with RecordAccess's own VisitSorted (over MultiGet), to compare with the
// Database's iterator.
class MultiGetOnly final : public RecordAccess {
 public:
  explicit MultiGetOnly(const Database* db) : db_(db) {}
  absl::Status Write(WriteBatch) override { return absl::UnimplementedError("read only"); }
  absl::StatusOr<std::optional<Record>> Get(Family family, absl::string_view key) const override {
    return db_->Get(family, key);
  }
  absl::StatusOr<std::vector<std::optional<Record>>> MultiGet(
      Family family, absl::Span<const std::string> keys) const override {
    return db_->MultiGet(family, keys);
  }

 private:
  const Database* const db_;
};

// What VisitSorted handed out, as "index=value".
absl::StatusOr<std::vector<std::string>> Visited(const RecordAccess& access, Family family,
                                                 const std::vector<std::string>& keys) {
  std::vector<std::string> visited;
  absl::Status status = access.VisitSorted(family, keys, [&](size_t i, absl::string_view value) {
    visited.push_back(absl::StrCat(i, "=", value));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return visited;
}

TEST_F(DatabaseTest, VisitSortedSkipsAbsentAndExpiredKeysNearAndFar) {
  auto db = OpenDb();
  // Keys 000..199 every other one, some in a table and some in the memtable; one expired.
  for (int i = 0; i < 200; i += 2) {
    const int64_t time = i == 40 ? kStart - 2 * kDay : kStart;
    ASSERT_TRUE(
        db->Put(Family::kSegment, absl::StrFormat("%03d", i), time, absl::StrCat("v", i)).ok());
    if (i == 100) {
      ASSERT_TRUE(db->Flush().ok());
    }
  }
  clock_.SetMillis(kStart + 1 * kDay + 1);
  // Neighbours (stepped to), a far jump (sought), a repeat, absent keys and keys past the end.
  const std::vector<std::string> keys = {"000", "001", "002", "004", "040", "041",
                                         "150", "150", "151", "198", "199", "300"};
  const std::vector<std::string> expected = {"0=v0", "2=v2", "3=v4", "6=v150", "7=v150", "9=v198"};
  auto visited = Visited(*db, Family::kSegment, keys);
  ASSERT_TRUE(visited.ok()) << visited.status();
  EXPECT_EQ(*visited, expected);
  MultiGetOnly plain(db.get());
  auto by_multiget = Visited(plain, Family::kSegment, keys);
  ASSERT_TRUE(by_multiget.ok()) << by_multiget.status();
  EXPECT_EQ(*by_multiget, expected);
  // Every second key from 0 to 198: all of them, one iterator stepping through.
  std::vector<std::string> all;
  for (int i = 0; i < 200; ++i) all.push_back(absl::StrFormat("%03d", i));
  visited = Visited(*db, Family::kSegment, all);
  ASSERT_TRUE(visited.ok());
  EXPECT_EQ(visited->size(), 99u);  // 100 stored, one expired
  EXPECT_TRUE(Visited(*db, Family::kSegment, {})->empty());
}

TEST_F(DatabaseTest, VisitSortedRefusesKeysOutOfOrderAndStopsAtTheVisitorsError) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Put(Family::kSegment, "a", kStart, "1").ok());
  ASSERT_TRUE(db->Put(Family::kSegment, "b", kStart, "2").ok());
  MultiGetOnly plain(db.get());
  for (const RecordAccess* access :
       {static_cast<const RecordAccess*>(db.get()), static_cast<const RecordAccess*>(&plain)}) {
    auto unsorted = Visited(*access, Family::kSegment, {"b", "a"});
    EXPECT_EQ(unsorted.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(unsorted.status().message(), HasSubstr("key 1 sorts before"));
    int calls = 0;
    absl::Status status = access->VisitSorted(Family::kSegment, std::vector<std::string>{"a", "b"},
                                              [&](size_t, absl::string_view) {
                                                ++calls;
                                                return absl::DataLossError("cannot decode");
                                              });
    EXPECT_EQ(status, absl::DataLossError("cannot decode"));
    EXPECT_EQ(calls, 1);
  }
}

TEST_F(DatabaseTest, RecordsWithinTtlSurviveCompaction) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Put(Family::kSnapshot, "s", kStart, "x").ok());
  clock_.SetMillis(kStart + 3 * kDay - 1);
  ASSERT_TRUE(db->Flush().ok());
  ASSERT_TRUE(db->CompactAll().ok());
  EXPECT_TRUE(Get(*db, Family::kSnapshot, "s").has_value());
}

TEST(ExpiredAtTest, IsOverflowFreeAtTheEdgesOfInt64) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  EXPECT_FALSE(ExpiredAt(kMax, 3 * kDay, kStart));  // timestamp + ttl would wrap negative
  EXPECT_FALSE(ExpiredAt(kMax, kMax, kMax - 1));
  EXPECT_TRUE(ExpiredAt(kMin, 3 * kDay, kStart));
  EXPECT_FALSE(ExpiredAt(kMin, 3 * kDay, kMin + 3 * kDay - 1));  // now - ttl below INT64_MIN
  EXPECT_TRUE(ExpiredAt(kMin, 3 * kDay, kMin + 3 * kDay));
  EXPECT_FALSE(ExpiredAt(kMin, 0, kMax));  // no retention
  EXPECT_TRUE(ExpiredAt(kStart, 3 * kDay, kStart + 3 * kDay));
  EXPECT_FALSE(ExpiredAt(kStart, 3 * kDay, kStart + 3 * kDay - 1));
}

// A record stamped at the end of time (an agent's broken clock, before receivers checked
// times) is neither hidden from readers nor dropped by compaction: `timestamp + ttl` used to
// overflow and read as expired.
TEST_F(DatabaseTest, ARecordStampedAtTheEndOfTimeIsNotExpired) {
  auto db = OpenDb();
  ASSERT_TRUE(
      db->Put(Family::kProfileStack, "k", std::numeric_limits<int64_t>::max(), "stack").ok());
  ASSERT_TRUE(Get(*db, Family::kProfileStack, "k").has_value());
  ASSERT_TRUE(db->Flush().ok());
  ASSERT_TRUE(db->CompactAll().ok());
  EXPECT_TRUE(Get(*db, Family::kProfileStack, "k").has_value());
  ASSERT_TRUE(db->Put(Family::kSegment, "neg", std::numeric_limits<int64_t>::min(), "x").ok());
  EXPECT_FALSE(Get(*db, Family::kSegment, "neg").has_value());
}

TEST_F(DatabaseTest, SecondOpenOfTheSameDirectoryIsRefused) {
  auto db = OpenDb();
  DatabaseOptions options;
  options.data_dir = dir_.path();
  auto second = Database::Open(options, &clock_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("in use by another Stackhouse process"));
  EXPECT_THAT(second.status().message(), HasSubstr(std::to_string(getpid())));
  db.reset();
  auto third = Database::Open(options, &clock_);
  EXPECT_TRUE(third.ok()) << third.status();
}

TEST_F(DatabaseTest, UnwritableDirectoryIsNamed) {
  if (geteuid() == 0) {
    // root ignores permission bits; use a path below a regular file instead.
    std::string file = dir_.path() + "/file";
    FILE* f = fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fclose(f);
    DatabaseOptions options;
    options.data_dir = file + "/data";
    auto db = Database::Open(options, &clock_);
    ASSERT_FALSE(db.ok());
    EXPECT_THAT(db.status().message(), HasSubstr("cannot create data directory " + file));
    return;
  }
  std::string locked = dir_.path() + "/locked";
  ASSERT_EQ(mkdir(locked.c_str(), 0500), 0);
  DatabaseOptions options;
  options.data_dir = locked;
  auto db = Database::Open(options, &clock_);
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.status().message(), HasSubstr("is not writable"));
}

TEST_F(DatabaseTest, StatsCoverEveryFamily) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Put(Family::kTask, "k", kStart, "v").ok());
  auto stats = db->Stats();
  ASSERT_EQ(stats.size(), static_cast<size_t>(Family::kCount));
  EXPECT_GT(stats[static_cast<int>(Family::kTask)].memtable_bytes, 0u);
  EXPECT_STREQ(GetFamilyInfo(Family::kEbpfSample).name, "ebpf_sample");
}

}  // namespace
}  // namespace stackhouse::storage
