#include "simulator/flags.h"

#include "gtest/gtest.h"

namespace stackhouse::sim {
namespace {

struct Bound {
  std::string target = "127.0.0.1:11800";
  int64_t agents = 2;
  double rate = 5;
  bool fake = false;
};

FlagSet MakeFlags(Bound* b) {
  FlagSet flags("test [flags]");
  flags.AddString("target", &b->target, "address");
  flags.AddInt("agents", &b->agents, "agents");
  flags.AddDouble("request-rate", &b->rate, "rate");
  flags.AddBool("fake-task", &b->fake, "fake");
  return flags;
}

TEST(FlagSetTest, ParsesBothFormsAndBareBooleans) {
  Bound b;
  FlagSet flags = MakeFlags(&b);
  ASSERT_TRUE(
      flags.Parse({"--target", "127.0.0.1:1", "--agents=7", "--request-rate", "0.5", "--fake-task"})
          .ok());
  EXPECT_EQ(b.target, "127.0.0.1:1");
  EXPECT_EQ(b.agents, 7);
  EXPECT_DOUBLE_EQ(b.rate, 0.5);
  EXPECT_TRUE(b.fake);
  ASSERT_TRUE(flags.Parse({"--fake-task=false"}).ok());
  EXPECT_FALSE(b.fake);
}

TEST(FlagSetTest, RejectsBadInput) {
  Bound b;
  FlagSet flags = MakeFlags(&b);
  EXPECT_FALSE(flags.Parse({"--agents", "two"}).ok());
  EXPECT_FALSE(flags.Parse({"--agents"}).ok());
  EXPECT_FALSE(flags.Parse({"--nope", "1"}).ok());
  EXPECT_FALSE(flags.Parse({"positional"}).ok());
}

TEST(FlagSetTest, HelpStopsParsingAndUsageShowsDefaults) {
  Bound b;
  FlagSet flags = MakeFlags(&b);
  ASSERT_TRUE(flags.Parse({"--help", "--nope"}).ok());
  EXPECT_TRUE(flags.help_requested());
  std::string usage = flags.Usage();
  EXPECT_NE(usage.find("usage: test [flags]"), std::string::npos);
  EXPECT_NE(usage.find("(default 127.0.0.1:11800)"), std::string::npos);
  EXPECT_NE(usage.find("--agents V"), std::string::npos);
}

}  // namespace
}  // namespace stackhouse::sim
