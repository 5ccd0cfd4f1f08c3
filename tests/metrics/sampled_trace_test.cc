#include "metrics/sampled_trace.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/ids.h"

namespace stackhouse::metrics {
namespace {

using ::testing::HasSubstr;

SampledTraceLog Log(const std::string& body) {
  return {"svc", "pod", 1700000000000, "trace-1", body};
}

TEST(SampledTraceTest, ReasonsChooseTheRecordAndPeersResolveAsTheOapDoes) {
  const std::string instance = model::InstanceId(model::ServiceId("svc"), "pod");
  auto slow = ParseSampledTrace(
      Log(R"({"uri":"/a","reason":"slow","latency":250,"client_process":{"process_id":"c1"},)"
          R"("server_process":{"local":true},"detect_point":"server","component":"http","ssl":true})"),
      1700000065000);
  ASSERT_TRUE(slow.ok()) << slow.status();
  ASSERT_TRUE(slow->has_value());
  const SampledTrace& t = **slow;
  EXPECT_EQ(t.record, "sampled_slow_trace_record");
  const std::string local = model::ProcessId("UNKNOWN_LOCAL", instance);
  EXPECT_EQ(t.entity_id, "c1-" + local);
  EXPECT_EQ(t.value.latency_ms, 250);
  EXPECT_EQ(t.value.trace_id, "trace-1");
  EXPECT_TRUE(t.relation.server_side);
  EXPECT_EQ(t.relation.component_id, 129);  // http + ssl
  EXPECT_EQ(t.relation.minute_ms, 1700000040000);
  ASSERT_EQ(t.virtual_processes.size(), 1u);
  EXPECT_EQ(t.virtual_processes[0].name, "UNKNOWN_LOCAL");

  for (auto [reason, record] : std::vector<std::pair<const char*, const char*>>{
           {"status_4xx", "sampled_status_4xx_trace_record"},
           {"STATUS_5XX", "sampled_status_5xx_trace_record"}}) {
    auto r =
        ParseSampledTrace(Log(std::string(R"({"uri":"/a","reason":")") + reason +
                              R"(","client_process":{"address":"1.2.3.4:5"},)"
                              R"("server_process":{"process_id":"s"},"detect_point":"client"})"),
                          0);
    ASSERT_TRUE(r.ok() && r->has_value()) << reason;
    EXPECT_EQ((*r)->record, record);
    EXPECT_EQ((*r)->relation.component_id, 110);  // tcp
    EXPECT_EQ((*r)->entity_id, model::ProcessId("UNKNOWN_REMOTE", instance) + "-s");
  }
}

TEST(SampledTraceTest, IncompleteRequestsAreDroppedAndNonJsonRefused) {
  const char* complete = R"({"uri":"/a","reason":"slow","client_process":{"process_id":"c"},)"
                         R"("server_process":{"process_id":"s"},"detect_point":"client"})";
  SampledTraceLog no_trace = Log(complete);
  no_trace.trace_id = "";
  EXPECT_FALSE(ParseSampledTrace(no_trace, 0)->has_value());
  EXPECT_FALSE(
      ParseSampledTrace(Log(R"({"reason":"slow","detect_point":"client"})"), 0)->has_value());
  EXPECT_FALSE(ParseSampledTrace(Log(R"({"uri":"/a","reason":"fast","detect_point":"client"})"), 0)
                   ->has_value());
  EXPECT_TRUE(ParseSampledTrace(Log(complete), 0)->has_value());
  auto bad = ParseSampledTrace(Log("{not json"), 0);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("not JSON"));
  EXPECT_THAT(ParseSampledTrace(Log("[1]"), 0).status().message(), HasSubstr("not a JSON object"));
}

}  // namespace
}  // namespace stackhouse::metrics
