#pragma once

#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/impl/rpc_method.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/sync_stream.h"

namespace stackhouse::testing {

// Sends each of `payloads` as one message of the client stream at `path` (e.g.
// "/skywalking.v3.ProfileTask/collectSnapshot"), bytes as they are, so that a test can put an
// unparsable message between good ones; then half-closes and returns the call's status.
inline grpc::Status SendRawStream(grpc::Channel* channel, const std::string& path,
                                  const std::vector<std::string>& payloads) {
  grpc::ClientContext context;
  grpc::ByteBuffer response;
  const grpc::internal::RpcMethod method(path.c_str(), grpc::internal::RpcMethod::CLIENT_STREAMING);
  std::unique_ptr<grpc::ClientWriter<grpc::ByteBuffer>> writer(
      grpc::internal::ClientWriterFactory<grpc::ByteBuffer>::Create(channel, method, &context,
                                                                    &response));
  for (const std::string& payload : payloads) {
    grpc::Slice slice(payload);
    grpc::ByteBuffer buffer(&slice, 1);
    if (!writer->Write(buffer)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

// A message no protobuf parser accepts: a length-delimited field 1 that claims 100 bytes and
// has 2.
inline std::string UnparsableMessage() { return std::string("\x0a\x64zz", 4); }

inline std::string Bytes(const google::protobuf::Message& message) {
  return message.SerializeAsString();
}

}  // namespace stackhouse::testing
