#include "simulator/rover_continuous.h"

#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::sim {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kT0 = 1'700'000'000'000;  // ms, a whole second
constexpr int64_t kS0 = kT0 / 1000;

skywalking::v3::Command PolicyCommand(const std::string& json) {
  skywalking::v3::Command command;
  command.set_command("ContinuousProfilingPolicyQuery");
  auto* serial = command.add_args();
  serial->set_key("SerialNumber");
  serial->set_value("s-1");
  auto* arg = command.add_args();
  arg->set_key("ServiceWithPolicyJSON");
  arg->set_value(json);
  return command;
}

skywalking::v3::Commands Reply(const std::string& json) {
  skywalking::v3::Commands reply;
  *reply.add_commands() = PolicyCommand(json);
  return reply;
}

constexpr char kCpuPolicy[] =
    R"([{"ServiceName":"shop.default","UUID":"u1","Profiling":{"ON_CPU":{"PROCESS_CPU":)"
    R"({"Threshold":"80","Period":5,"Count":3}}}}])";

TEST(ParsePolicyCommandTest, KeepsValidItemsAndIgnoresTheOnesRoverIgnores) {
  absl::StatusOr<std::vector<ContinuousPolicy>> parsed = ParsePolicyCommand(PolicyCommand(
      R"([{"ServiceName":"a","UUID":"u","Profiling":{)"
      R"("ON_CPU":{"PROCESS_CPU":{"Threshold":"75.5","Period":10,"Count":3},)"
      R"("PROCESS_THREAD_COUNT":{"Threshold":"100","Period":10,"Count":3},)"
      R"("SYSTEM_LOAD":{"Threshold":"2.5","Period":5,"Count":6}},)"
      R"("NETWORK":{"HTTP_ERROR_RATE":{"Threshold":"10.5","Period":10,"Count":2,)"
      R"("URIList":["/a","/b"]},"HTTP_AVG_RESPONSE_TIME":{"Threshold":"","Period":1,"Count":1}}}},)"
      R"({"ServiceName":"b","UUID":""}])"));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 2u);
  const ContinuousPolicy& a = (*parsed)[0];
  EXPECT_EQ(a.service, "a");
  EXPECT_EQ(a.uuid, "u");
  ASSERT_EQ(a.targets.size(), 2u);
  EXPECT_EQ(a.targets[0].target, EbpfTarget::kOnCpu);
  // "75.5" is not an integer (PROCESS_CPU), Count 6 > Period 5: only the thread count stays.
  ASSERT_EQ(a.targets[0].items.size(), 1u);
  EXPECT_EQ(a.targets[0].items[0].type, MonitorType::kThreadCount);
  EXPECT_EQ(a.targets[0].items[0].threshold, 100);
  EXPECT_EQ(a.targets[1].target, EbpfTarget::kNetwork);
  ASSERT_EQ(a.targets[1].items.size(), 1u);  // the empty threshold is ignored
  EXPECT_EQ(a.targets[1].items[0].threshold, 10.5);
  EXPECT_THAT(a.targets[1].items[0].Uris(), ElementsAre("/a", "/b"));
  EXPECT_EQ((*parsed)[1].service, "b");
  EXPECT_EQ((*parsed)[1].uuid, "");
}

TEST(ParsePolicyCommandTest, RefusesWhatWouldCrashRover) {
  EXPECT_THAT(ParsePolicyCommand(
                  PolicyCommand(R"([{"ServiceName":"a","UUID":"u","Profiling":{"CPU":{}}}])"))
                  .status()
                  .message(),
              HasSubstr("unknown target type 'CPU'"));
  EXPECT_THAT(
      ParsePolicyCommand(
          PolicyCommand(R"([{"ServiceName":"a","UUID":"u","Profiling":{"ON_CPU":{"MEM":{}}}}])"))
          .status()
          .message(),
      HasSubstr("unknown monitor type 'MEM'"));
  EXPECT_THAT(ParsePolicyCommand(PolicyCommand("{}")).status().message(),
              HasSubstr("not a JSON array"));
  skywalking::v3::Command other;
  other.set_command("EBPFProfilingTaskQuery");
  EXPECT_FALSE(ParsePolicyCommand(other).ok());
}

TEST(ContinuousItemTest, UrisAreTheListTheRegexOrGlobal) {
  ContinuousItem item;
  item.type = MonitorType::kHttpAvgResponseTime;
  EXPECT_THAT(item.Uris(), ElementsAre("global"));
  item.uri_regex = "/api/.*";
  EXPECT_THAT(item.Uris(), ElementsAre("/api/.*"));
  item.uri_list = {"/x"};
  EXPECT_THAT(item.Uris(), ElementsAre("/x"));
  item.type = MonitorType::kProcessCpu;
  EXPECT_THAT(item.Uris(), IsEmpty());
  EXPECT_EQ(MonitorMeterName(MonitorType::kHttpAvgResponseTime),
            "rover_con_p_http_avg_response_time");
}

TEST(ContinuousPolicyBookTest, EchoesUuidsAndReplacesOrDropsPolicies) {
  ContinuousPolicyBook book;
  auto query = book.Query({"shop.default", "cart.default", "shop.default"});
  ASSERT_EQ(query.policies_size(), 2);
  EXPECT_EQ(query.policies(0).servicename(), "shop.default");
  EXPECT_EQ(query.policies(0).uuid(), "");

  ASSERT_THAT(*book.Apply(Reply(kCpuPolicy)), ElementsAre("shop.default"));
  EXPECT_EQ(book.Query({"shop.default"}).policies(0).uuid(), "u1");
  // No command: nothing changed.
  ASSERT_THAT(*book.Apply(skywalking::v3::Commands()), IsEmpty());
  ASSERT_NE(book.Find("shop.default"), nullptr);
  // Two commands is not an answer Rover accepts; the policy held stays.
  skywalking::v3::Commands two = Reply(kCpuPolicy);
  *two.add_commands() = PolicyCommand(kCpuPolicy);
  EXPECT_FALSE(book.Apply(two).ok());
  ASSERT_NE(book.Find("shop.default"), nullptr);
  // An empty UUID drops it.
  ASSERT_THAT(*book.Apply(Reply(R"([{"ServiceName":"shop.default","UUID":""}])")),
              ElementsAre("shop.default"));
  EXPECT_EQ(book.Find("shop.default"), nullptr);
  EXPECT_EQ(book.Query({"shop.default"}).policies(0).uuid(), "");
}

// Values set per (process id, type, uri) and second; 0 where not set.
class FakeValues {
 public:
  void Set(const std::string& process, MonitorType type, const std::string& uri, int64_t from_s,
           int64_t to_s, double value) {
    for (int64_t s = from_s; s <= to_s; ++s)
      values_[{process, static_cast<int>(type), uri, s}] = value;
  }
  ContinuousChecker::ValueSource Source() {
    return [this](const ContinuousProcess& p, MonitorType type, absl::string_view uri,
                  int64_t second) {
      auto it = values_.find({p.id, static_cast<int>(type), std::string(uri), second});
      return it == values_.end() ? 0.0 : it->second;
    };
  }

 private:
  std::map<std::tuple<std::string, int, std::string, int64_t>, double> values_;
};

ContinuousProcess Process(const std::string& id, const std::string& instance = "pod-1") {
  return {1, id, "shop.default", instance, "java", "K8S_SERVICE"};
}

class ContinuousCheckerTest : public ::testing::Test {
 protected:
  ContinuousCheckerTest() : checker_({600, 60'000}, values_.Source()) {
    EXPECT_TRUE(book_.Apply(Reply(kCpuPolicy)).ok());
  }

  ContinuousChecker::Result CheckAt(int64_t second) {
    return checker_.Check(processes_, book_, second * 1000);
  }

  FakeValues values_;
  ContinuousPolicyBook book_;
  ContinuousChecker checker_;
  std::vector<ContinuousProcess> processes_ = {Process("p1")};
};

TEST_F(ContinuousCheckerTest, TriggersWhenCountSecondsOfThePeriodReachTheThreshold) {
  // Checks every 5 s from kS0; 2 seconds at or above 80 in a window: not enough.
  CheckAt(kS0);
  values_.Set("p1", MonitorType::kProcessCpu, "", kS0 + 3, kS0 + 4, 90);
  EXPECT_THAT(CheckAt(kS0 + 5).triggers, IsEmpty());
  // 80 counts (>=), 79.99 does not, and +3, +4 have left the window: 2 again.
  values_.Set("p1", MonitorType::kProcessCpu, "", kS0 + 7, kS0 + 7, 79.99);
  values_.Set("p1", MonitorType::kProcessCpu, "", kS0 + 8, kS0 + 9, 80);
  EXPECT_THAT(CheckAt(kS0 + 10).triggers, IsEmpty());
  values_.Set("p1", MonitorType::kProcessCpu, "", kS0 + 11, kS0 + 11, 85.23);
  values_.Set("p1", MonitorType::kProcessCpu, "", kS0 + 12, kS0 + 13, 81);
  ContinuousChecker::Result result = CheckAt(kS0 + 15);
  ASSERT_EQ(result.triggers.size(), 1u);
  const auto& trigger = result.triggers[0];
  EXPECT_EQ(trigger.process_id, "p1");
  EXPECT_EQ(trigger.target, EbpfTarget::kOnCpu);
  const auto& report = trigger.report;
  EXPECT_EQ(report.servicename(), "shop.default");
  EXPECT_EQ(report.instancename(), "pod-1");
  EXPECT_EQ(report.processname(), "java");
  EXPECT_EQ(report.layer(), "K8S_SERVICE");
  EXPECT_EQ(report.duration(), 600);
  EXPECT_TRUE(report.has_oncpu());
  ASSERT_EQ(report.causes_size(), 1);
  EXPECT_EQ(report.causes(0).type(), skywalking::v3::ProcessCPU);
  EXPECT_EQ(report.causes(0).singlevalue().threshold(), 80);
  EXPECT_EQ(report.causes(0).singlevalue().current(), 81);  // the latest matching second
}

TEST_F(ContinuousCheckerTest, ReportsTheLastValueOfEveryWatchedSeries) {
  values_.Set("p1", MonitorType::kProcessCpu, "", kS0, kS0 + 5, 42.5);
  processes_.push_back(Process("p2"));
  processes_.push_back({3, "p3", "other.default", "pod-9", "go", "K8S_SERVICE"});
  CheckAt(kS0);
  ContinuousChecker::Result result = CheckAt(kS0 + 5);
  ASSERT_EQ(result.meters.size(), 2u);  // p3's service has no policy
  const auto& first = result.meters[0].meterdata(0);
  EXPECT_EQ(first.service(), "shop.default");
  EXPECT_EQ(first.serviceinstance(), "pod-1");
  EXPECT_EQ(first.timestamp(), (kS0 + 5) * 1000);
  EXPECT_EQ(first.singlevalue().name(), "rover_con_p_process_cpu");
  EXPECT_EQ(first.singlevalue().value(), 42.5);
  ASSERT_EQ(first.singlevalue().labels_size(), 2);
  EXPECT_EQ(first.singlevalue().labels(0).name(), "process_name");
  EXPECT_EQ(first.singlevalue().labels(1).value(), "K8S_SERVICE");
  EXPECT_EQ(result.meters[1].meterdata(0).singlevalue().value(), 0);
}

TEST_F(ContinuousCheckerTest, SilencePeriodCountsFromTheTrigger) {
  values_.Set("p1", MonitorType::kProcessCpu, "", kS0, kS0 + 200, 95);
  CheckAt(kS0);
  std::vector<int64_t> triggers;
  for (int64_t s = kS0 + 5; s <= kS0 + 200; s += 5) {
    if (!CheckAt(s).triggers.empty()) triggers.push_back(s - kS0);
  }
  // The window first holds 3 high seconds at +5; silence 60 s: again at +65, +125, +185.
  EXPECT_THAT(triggers, ElementsAre(5, 65, 125, 185));
}

TEST_F(ContinuousCheckerTest, AChangedPolicyStartsItsWindowsAfresh) {
  CheckAt(kS0);
  values_.Set("p1", MonitorType::kProcessCpu, "", kS0 + 1, kS0 + 5, 95);
  EXPECT_THAT(CheckAt(kS0 + 2).triggers, IsEmpty());  // 2 high seconds of 3
  ASSERT_TRUE(book_
                  .Apply(Reply(R"([{"ServiceName":"shop.default","UUID":"u2","Profiling":)"
                               R"({"ON_CPU":{"PROCESS_CPU":{"Threshold":"90","Period":5,)"
                               R"("Count":3}}}}])"))
                  .ok());
  // The seconds taken for u1 are gone: u2's window holds +3 alone, then +3 to +5.
  EXPECT_THAT(CheckAt(kS0 + 3).triggers, IsEmpty());
  EXPECT_EQ(CheckAt(kS0 + 5).triggers.size(), 1u);
}

TEST(ContinuousCheckerUriTest, UriListCausesNameThePathAndNetworkTriggersOncePerInstance) {
  FakeValues values;
  ContinuousPolicyBook book;
  ASSERT_TRUE(book.Apply(Reply(R"([{"ServiceName":"shop.default","UUID":"n1","Profiling":)"
                               R"({"NETWORK":{"HTTP_ERROR_RATE":{"Threshold":"10","Period":5,)"
                               R"("Count":2,"URIList":["/a","/b"]},)"
                               R"("HTTP_AVG_RESPONSE_TIME":{"Threshold":"500","Period":5,)"
                               R"("Count":2}}}}])"))
                  .ok());
  ContinuousChecker checker({30, 60'000}, values.Source());
  std::vector<ContinuousProcess> processes = {Process("p1"), Process("p2"), Process("p3", "pod-2")};
  for (const char* p : {"p1", "p2", "p3"}) {
    values.Set(p, MonitorType::kHttpErrorRate, "/b", kS0, kS0 + 5, 12.5);
  }
  values.Set("p1", MonitorType::kHttpAvgResponseTime, "global", kS0, kS0 + 5, 512);
  checker.Check(processes, book, kT0);
  ContinuousChecker::Result result = checker.Check(processes, book, kT0 + 5000);
  // p1 and p2 share pod-1: one NETWORK task for it, reported by p1; one for pod-2.
  ASSERT_EQ(result.triggers.size(), 2u);
  const auto& report = result.triggers[0].report;
  EXPECT_EQ(result.triggers[0].process_id, "p1");
  EXPECT_EQ(result.triggers[1].process_id, "p3");
  EXPECT_EQ(report.duration(), 30);
  ASSERT_EQ(report.causes_size(), 2);
  EXPECT_EQ(report.causes(0).type(), skywalking::v3::HTTPErrorRate);
  EXPECT_EQ(report.causes(0).uri().path(), "/b");
  EXPECT_EQ(report.causes(0).uri().current(), 12.5);
  EXPECT_EQ(report.causes(1).type(), skywalking::v3::HTTPAvgResponseTime);
  EXPECT_EQ(report.causes(1).uri().uri_case(), skywalking::v3::ContinuousProfilingURICause::kRegex);
  EXPECT_EQ(report.causes(1).uri().regex(), "");  // global
  EXPECT_EQ(report.causes(1).uri().threshold(), 500);
  // Only fixed URIs and regexes are sampled; "global" is not a URI.
  EXPECT_THAT(report.network().samplinguriregexes(), ElementsAre("/b"));
  // Meters: per uri, with the uri label first.
  const auto& set = result.meters[0];
  ASSERT_EQ(set.meterdata_size(), 3);
  EXPECT_EQ(set.meterdata(0).singlevalue().labels(0).name(), "uri");
  EXPECT_EQ(set.meterdata(0).singlevalue().labels(0).value(), "/a");
  EXPECT_EQ(set.meterdata(2).singlevalue().labels(0).value(), "global");
}

TEST(ContinuousCheckerUriTest, ANetworkTaskWithoutUriCausesStillNamesItsTarget) {
  FakeValues values;
  ContinuousPolicyBook book;
  ASSERT_TRUE(book.Apply(Reply(R"([{"ServiceName":"shop.default","UUID":"n2","Profiling":)"
                               R"({"NETWORK":{"HTTP_ERROR_RATE":{"Threshold":"10","Period":5,)"
                               R"("Count":2}}}}])"))
                  .ok());
  ContinuousChecker checker({30, 60'000}, values.Source());
  std::vector<ContinuousProcess> processes = {Process("p1")};
  values.Set("p1", MonitorType::kHttpErrorRate, "global", kS0, kS0 + 5, 25);
  checker.Check(processes, book, kT0);
  ContinuousChecker::Result result = checker.Check(processes, book, kT0 + 5000);
  ASSERT_EQ(result.triggers.size(), 1u);
  EXPECT_TRUE(result.triggers[0].report.has_network());
  EXPECT_THAT(result.triggers[0].report.network().samplinguriregexes(), IsEmpty());
}

TEST(ContinuousLoadTest, BurstsOncePerPeriodAboveTheThresholdsAndRepeatsWithTheSeed) {
  ContinuousLoad load(7, 60'000, 15'000);
  ContinuousLoad again(7, 60'000, 15'000);
  const int64_t start = kS0 - kS0 % 60;
  for (int64_t period = 0; period < 5; ++period) {
    int burst = 0;
    for (int64_t s = start + period * 60; s < start + (period + 1) * 60; ++s) {
      double cpu = load.Value(3, MonitorType::kProcessCpu, "", s);
      EXPECT_EQ(cpu, again.Value(3, MonitorType::kProcessCpu, "", s));
      if (load.InBurst(3, MonitorType::kProcessCpu, s)) {
        ++burst;
        EXPECT_GE(cpu, 82);
        EXPECT_GE(load.Value(3, MonitorType::kHttpAvgResponseTime, "/a", s), 600);
      } else {
        EXPECT_LT(cpu, 40);
        EXPECT_LE(load.Value(3, MonitorType::kHttpErrorRate, "global", s), 3);
      }
    }
    EXPECT_EQ(burst, 15) << "period " << period;
  }
  // The node's load is the same for every process.
  EXPECT_EQ(load.Value(1, MonitorType::kSystemLoad, "", kS0),
            load.Value(2, MonitorType::kSystemLoad, "", kS0));
  EXPECT_FALSE(ContinuousLoad(7, 60'000, 0).InBurst(3, MonitorType::kProcessCpu, kS0));
}

}  // namespace
}  // namespace stackhouse::sim
