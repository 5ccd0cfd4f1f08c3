#include "model/ids.h"

#include "gtest/gtest.h"

namespace stackhouse::model {
namespace {

// Vectors from grpc-protocol.md §5.1.
TEST(IdsTest, GrpcSpecVectors) {
  const std::string service = ServiceId("order-svc");
  EXPECT_EQ(service, "b3JkZXItc3Zj.1");
  const std::string instance = InstanceId(service, "pod-1");
  EXPECT_EQ(instance, "b3JkZXItc3Zj.1_cG9kLTE=");
  EXPECT_EQ(EndpointId(service, "GET:/orders"), "b3JkZXItc3Zj.1_R0VUOi9vcmRlcnM=");
  const std::string process = ProcessId("java", instance);
  EXPECT_EQ(process, "59a6a9ff97c729a2ae83821976fb43308959ce0a5daf1f0d710317a0151f14e8");
  const std::string task = EbpfTaskLogicalId(service, {}, 1700000000000);
  EXPECT_EQ(task, "8648df7411d26b5ab0bf5a882966aa36e3e4e0cc3ec45e27297256050372ae8f");
  EXPECT_EQ(EbpfScheduleId(task, process, 1700000001000),
            "74b32eac72176935eef9e9ae5c38c9c8a0bae71aaf89e9d7b5d3851f2815dbec");
  EXPECT_EQ(ServiceId(""), "X2JsYW5r.1");
  EXPECT_EQ(ServiceId("   "), "X2JsYW5r.1");
}

// Vectors from graphql-protocol.md §10.1.
TEST(IdsTest, GraphqlSpecVectors) {
  const std::string service = ServiceId("service-a");
  EXPECT_EQ(service, "c2VydmljZS1h.1");
  const std::string instance = InstanceId(service, "inst-1");
  EXPECT_EQ(instance, "c2VydmljZS1h.1_aW5zdC0x");
  EXPECT_EQ(EndpointId(service, "GET:/users"), "c2VydmljZS1h.1_R0VUOi91c2Vycw==");
  const std::string process = ProcessId("java-app", instance);
  EXPECT_EQ(process, "dd5f302edb08c9603461778dbd0e65162b4c63162a9204bdfc596090e15ae44b");
  const std::string task = EbpfTaskLogicalId(service, {}, 1700000000000);
  EXPECT_EQ(task, "541587320d9f94685fd4fdfa9636454927ea2df7510e2fcc5fe3f67c83759c34");
  EXPECT_EQ(EbpfTaskLogicalId(service, {"a", "b"}, 1700000000000),
            "cada3f6f48f9c9af074322cfc2894e4522945af4c73643f06a0b2ad79a520775");
  EXPECT_EQ(EbpfScheduleId(task, process, 1700000005000),
            "2a4e6ac586977888fb47c6e4bfbefae0335423cade068f214c351ca765ea594d");
  EXPECT_EQ(
      ContinuousPolicyUuid(
          R"({"targetCheckers":{"ON_CPU":{"PROCESS_CPU":{"threshold":"80","period":10,"count":3}}}})"),
      "98f7222106af1696f8aecb144440208fcf3c600d7811b55fee7ad21d5e2335f856659ffd2df4b9494e"
      "4800495c088e81673c33f7a9cb8007d84978c65b4b9ba5");
  EXPECT_EQ(ProfileTaskId(1700000000123, service), "1700000000123_c2VydmljZS1h.1");
}

TEST(IdsTest, RowIds) {
  EXPECT_EQ(ProfileTaskLogId("1_s.1", "s.1_aQ==", 1, 42), "1_s.1_s.1_aQ==_1_42");
  EXPECT_EQ(ThreadSnapshotId("t", "seg", 3), "t_seg_3");
  EXPECT_EQ(ProcessRelationId("a", "b"), "a-b");
  EXPECT_EQ(EbpfStackIdList(17, 4213), "17_4213");
  EXPECT_EQ(EbpfStackIdList(-1, 4213), "4213");
  EXPECT_EQ(EbpfStackIdList(17, -1), "17");
  // Distinct inputs, distinct hashes; the upload time is hashed as 8 raw bytes.
  EXPECT_NE(EbpfDataRowId("s", "1_2", 1), EbpfDataRowId("s", "1_2", 2));
  EXPECT_EQ(EbpfDataRowId("s", "1_2", 1).size(), 64u);
  EXPECT_NE(EbpfTaskRowId("x", 1), EbpfTaskRowId("x", 256));
}

TEST(IdsTest, GsonEscapesHtmlCharacters) {
  EXPECT_EQ(GsonStringArray({}), "[]");
  EXPECT_EQ(GsonStringArray({"a", "b"}), R"(["a","b"])");
  EXPECT_EQ(GsonStringArray({"<a=b>&'\"\\"}), R"(["\u003ca\u003db\u003e\u0026\u0027\"\\"])");
  EXPECT_EQ(GsonStringArray({std::string("\x01\n", 2)}), R"(["\u0001\n"])");
}

TEST(IdsTest, DecodesServiceIds) {
  auto parts = DecodeServiceId("b3JkZXItc3Zj.1");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->name, "order-svc");
  EXPECT_TRUE(parts->normal);
  auto conjectured = DecodeServiceId(ServiceId("x", false));
  ASSERT_TRUE(conjectured.ok());
  EXPECT_FALSE(conjectured->normal);
  EXPECT_FALSE(DecodeServiceId("b3JkZXItc3Zj").ok());
  EXPECT_FALSE(DecodeServiceId("b3JkZXItc3Zj.1.1").ok());
  EXPECT_FALSE(DecodeServiceId("b3JkZXItc3Zj.2").ok());
  EXPECT_FALSE(DecodeServiceId("!!!.1").ok());
}

TEST(IdsTest, DecodesInstanceAndEndpointIds) {
  auto instance = DecodeChildId("b3JkZXItc3Zj.1_cG9kLTE=");
  ASSERT_TRUE(instance.ok());
  EXPECT_EQ(instance->service_id, "b3JkZXItc3Zj.1");
  EXPECT_EQ(instance->name, "pod-1");
  auto endpoint = DecodeChildId("b3JkZXItc3Zj.1_R0VUOi9vcmRlcnM=");
  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(endpoint->name, "GET:/orders");
  EXPECT_FALSE(DecodeChildId("b3JkZXItc3Zj.1").ok());
  EXPECT_FALSE(DecodeChildId("a_b_c").ok());
  EXPECT_FALSE(DecodeChildId("nodot_cG9kLTE=").ok());
}

TEST(IdsTest, TruncatesByUtf16Units) {
  EXPECT_EQ(TruncateName("abcdef", 3), "abc");
  EXPECT_EQ(TruncateName("abc", 70), "abc");
  // "é" is one UTF-16 unit (two UTF-8 bytes); never split it.
  EXPECT_EQ(TruncateName("\xc3\xa9\xc3\xa9\xc3\xa9", 2), "\xc3\xa9\xc3\xa9");
  // U+1F600 is a surrogate pair: two units, dropped whole when only one fits.
  EXPECT_EQ(TruncateName("a\xf0\x9f\x98\x80", 2), "a");
  EXPECT_EQ(TruncateName("a\xf0\x9f\x98\x80", 3), "a\xf0\x9f\x98\x80");
}

}  // namespace
}  // namespace stackhouse::model
