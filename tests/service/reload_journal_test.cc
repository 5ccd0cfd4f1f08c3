#include "service/reload_journal.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::service {
namespace {

using ::testing::ElementsAre;

bool Same(const std::string& a, const std::string& b) { return a == b; }

TEST(ReloadJournalTest, MergesWhatWasStoredDuringTheReadOnceAndOnlyThen) {
  ReloadJournal<std::string> journal;
  journal.Note("before");  // no reload reads: not kept
  journal.Start();
  journal.Note("missed");
  journal.Note("read");  // stored and read by the reload as well
  std::vector<std::string> stored = {"old", "read"};
  journal.Finish(&stored, Same);
  EXPECT_THAT(stored, ElementsAre("old", "read", "missed"));
  journal.Note("after");  // the reload is over: not kept
  journal.Start();
  std::vector<std::string> next = {"x"};
  journal.Finish(&next, Same);
  EXPECT_THAT(next, ElementsAre("x"));
}

TEST(ReloadJournalTest, AFailedReadDropsWhatWasNoted) {
  ReloadJournal<std::string> journal;
  journal.Start();
  journal.Note("a");
  journal.Finish(nullptr, Same);
  journal.Start();
  std::vector<std::string> stored;
  journal.Finish(&stored, Same);
  EXPECT_TRUE(stored.empty());
}

}  // namespace
}  // namespace stackhouse::service
