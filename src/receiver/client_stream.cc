#include "receiver/client_stream.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "google/protobuf/io/coded_stream.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "grpcpp/support/slice.h"

namespace stackhouse::receiver {

bool ParseMessage(grpc::ByteBuffer* buffer, google::protobuf::Message* message) {
  grpc::ProtoBufferReader reader(buffer);
  if (!reader.status().ok()) return false;
  google::protobuf::io::CodedInputStream coded(&reader);
  return message->MergeFromCodedStream(&coded) && coded.ConsumedEntireMessage();
}

grpc::Status RefuseMessage(absl::string_view rpc, size_t index, absl::string_view problem,
                           absl::string_view kept) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      absl::StrCat(rpc, ": message ", index, " ", problem, "; ", kept));
}

grpc::Status IdleStreamStatus(absl::string_view rpc, size_t index, int64_t timeout_ms,
                              absl::string_view kept) {
  return grpc::Status(
      grpc::StatusCode::DEADLINE_EXCEEDED,
      absl::StrCat(rpc, ": message ", index, " did not come within ",
                   absl::SixDigits(static_cast<double>(timeout_ms) / 1000.0),
                   " s (core.gRPCStreamIdleTimeout), so the stream was ended; ", kept));
}

grpc::ByteBuffer EmptyResponse() {
  grpc::Slice empty("");
  return grpc::ByteBuffer(&empty, 1);
}

std::string KeptMessagesBefore(size_t count) {
  if (count == 0) return "no message before it was stored";
  if (count == 1) return "the message before it was stored";
  return absl::StrCat("the ", count, " messages before it were stored");
}

void AbortOnMethodMismatch(absl::string_view service, int index) {
  GetLogger("receiver")
      ->critical("method {} of gRPC service {} is not the client stream this server serves there",
                 index, service);
  std::abort();
}

}  // namespace stackhouse::receiver
