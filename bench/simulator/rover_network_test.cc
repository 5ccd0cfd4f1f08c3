#include "simulator/rover_network.h"

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::sim {
namespace {

namespace v3 = skywalking::v3;

std::vector<MeterProcess> Pod() {
  return {{1, "app-id", "reviews.default", "reviews-0", "java", "K8S_SERVICE"},
          {2, "envoy-id", "reviews.default", "reviews-0", "envoy", "K8S_SERVICE"}};
}

const std::string& Name(const v3::MeterData& d) {
  return d.has_singlevalue() ? d.singlevalue().name() : d.histogram().name();
}

TEST(KeepMetersTest, SplitsNetworkFromContinuousMetersKeepingTheHead) {
  RoverMeterModel model(7, 5000);
  v3::MeterDataCollection all = model.Report(Pod(), 0, 0, 1'700'000'000'000);
  v3::MeterDataCollection network = all;
  v3::MeterDataCollection continuous = all;
  KeepMeters(&network, true);
  KeepMeters(&continuous, false);
  ASSERT_GT(network.meterdata_size(), 0);
  ASSERT_GT(continuous.meterdata_size(), 0);
  EXPECT_EQ(network.meterdata_size() + continuous.meterdata_size(), all.meterdata_size());
  for (const auto& d : network.meterdata()) EXPECT_TRUE(absl::StartsWith(Name(d), "rover_net_p_"));
  for (const auto& d : continuous.meterdata()) {
    EXPECT_FALSE(absl::StartsWith(Name(d), "rover_net_p_"));
  }
  for (const auto* c : {&network, &continuous}) {
    EXPECT_EQ(c->meterdata(0).service(), "reviews.default");
    EXPECT_EQ(c->meterdata(0).serviceinstance(), "reviews-0");
    EXPECT_EQ(c->meterdata(0).timestamp(), 1'700'000'000'000);
  }
}

TEST(RoverNetworkModelTest, SampledRequestsComeWithTheirTraceAndEvents) {
  RoverNetworkModel model(7, 2000);
  const int64_t now = 1'700'000'000'000;
  NetworkReport even = model.Report(Pod(), 0, now);
  NetworkReport odd = model.Report(Pod(), 1, now);
  EXPECT_EQ(even.meters.size(), 2u);
  // One slow request per process, and a 5xx every second round.
  ASSERT_EQ(even.logs.size(), 2u);
  ASSERT_EQ(odd.logs.size(), 4u);
  const v3::LogData& log = even.logs[0];
  EXPECT_EQ(log.tags().data(0).key(), "LOG_KIND");
  EXPECT_EQ(log.tags().data(0).value(), "NET_PROFILING_SAMPLED_TRACE");
  EXPECT_EQ(log.layer(), "K8S_SERVICE");
  EXPECT_THAT(log.body().json().json(), ::testing::HasSubstr("\"reason\":\"slow\""));
  // The app calls its Envoy (a process of the pod): the peer by id, and a server segment.
  EXPECT_THAT(log.body().json().json(),
              ::testing::HasSubstr("\"server_process\":{\"process_id\":\"envoy-id\"}"));
  EXPECT_THAT(odd.logs[1].body().json().json(), ::testing::HasSubstr("\"status\":503"));
  const std::string trace = log.tracecontext().traceid();
  int segments = 0;
  for (const auto& s : even.segments) segments += s.traceid() == trace;
  EXPECT_EQ(segments, 2);
  int events = 0;
  for (const auto& e : even.events) {
    if (e.tracecontext().traceid() != trace) continue;
    ++events;
    EXPECT_EQ(e.tracecontext().tracesegmentid(), trace + ".c");
    EXPECT_EQ(e.tracecontext().spanid(), "1");
  }
  EXPECT_EQ(events, 4);
  // Envoy has no process to call: its sample goes to the remote HTTP service, client only.
  EXPECT_THAT(even.logs[1].body().json().json(), ::testing::HasSubstr("\"address\":\"10.96."));
  // Deterministic.
  EXPECT_EQ(model.Report(Pod(), 0, now).logs[0].SerializeAsString(), log.SerializeAsString());
}

TEST(RoverNetworkProfilerTest, FollowsTheTaskAndItsKeepAlive) {
  RoverNetworkProfiler profiler;
  EXPECT_FALSE(profiler.Running(0));
  EbpfTaskSpec spec;
  spec.task_id = "t";
  spec.process_ids = {"a", "b"};
  spec.target = EbpfTarget::kNetwork;
  spec.start_time_ms = 1000;
  spec.duration_s = 600;
  EXPECT_EQ(profiler.Offer(spec), "started");
  EXPECT_FALSE(profiler.Running(999));
  EXPECT_TRUE(profiler.Running(1000));
  EXPECT_EQ(profiler.NextRound(), 0);
  EXPECT_EQ(profiler.NextRound(), 1);
  spec.duration_s = 1200;
  EXPECT_EQ(profiler.Offer(spec), "extended");
  EXPECT_EQ(profiler.NextRound(), 2);
  EXPECT_TRUE(profiler.Running(1000 + 1200 * 1000));
  EXPECT_FALSE(profiler.Running(1001 + 1200 * 1000));
  EXPECT_TRUE(profiler.tasks().empty());
}

// Two instances triggered a moment apart: both tasks run, each until its own end; a task of a
// process already watched replaces the one watching it.
TEST(RoverNetworkProfilerTest, RunsTasksOfOtherProcessesSideBySide) {
  RoverNetworkProfiler profiler;
  EbpfTaskSpec pod1;
  pod1.task_id = "t1";
  pod1.process_ids = {"a", "b"};
  pod1.target = EbpfTarget::kNetwork;
  pod1.start_time_ms = 1000;
  pod1.duration_s = 20;
  EbpfTaskSpec pod2 = pod1;
  pod2.task_id = "t2";
  pod2.process_ids = {"c"};
  pod2.start_time_ms = 2000;
  EXPECT_EQ(profiler.Offer(pod1), "started");
  EXPECT_EQ(profiler.NextRound(), 0);
  EXPECT_EQ(profiler.Offer(pod2), "added");
  EXPECT_EQ(profiler.NextRound(), 1);  // one runner: the rounds go on
  EXPECT_TRUE(profiler.Running(1500));
  EXPECT_EQ(profiler.ProcessIds(1500), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(profiler.ProcessIds(2000), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(profiler.Running(21500));  // t1 has ended, t2 runs on
  EXPECT_EQ(profiler.ProcessIds(21500), std::vector<std::string>{"c"});
  EXPECT_EQ(profiler.tasks().size(), 1u);

  EbpfTaskSpec again = pod1;
  again.task_id = "t3";
  again.process_ids = {"c", "d"};
  again.start_time_ms = 21500;
  EXPECT_EQ(profiler.Offer(again), "replaced");
  ASSERT_EQ(profiler.tasks().size(), 1u);
  EXPECT_EQ(profiler.tasks()[0].task_id, "t3");
  EXPECT_FALSE(profiler.Running(21500 + 20001));
  EXPECT_TRUE(profiler.tasks().empty());
  EXPECT_EQ(profiler.Offer(pod2), "started");
  EXPECT_EQ(profiler.NextRound(), 0);
}

}  // namespace
}  // namespace stackhouse::sim
