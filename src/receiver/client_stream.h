#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <typeinfo>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "grpcpp/impl/rpc_service_method.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/method_handler.h"
#include "grpcpp/support/status.h"
#include "grpcpp/support/sync_stream.h"

namespace stackhouse::receiver {

// Parses the serialized message `buffer` into `*message`; false if it is not one.
bool ParseMessage(grpc::ByteBuffer* buffer, google::protobuf::Message* message);

// The status that ends a client stream at its message `index` (counted from 0) for `problem`:
// INVALID_ARGUMENT `<rpc>: message <index> <problem>; <kept>`, where `kept` tells the agent
// what the server kept of the stream (e.g. "the 12 messages before it were stored").
grpc::Status RefuseMessage(absl::string_view rpc, size_t index, absl::string_view problem,
                           absl::string_view kept);

// "the N messages before it were stored" (or "no message before it was stored"), for
// RefuseMessage.
std::string KeptMessagesBefore(size_t count);

// The messages of a client stream, read as raw bytes and parsed here, so that an unreadable
// message is told apart from the client's half-close (gRPC's generated reader answers false to
// both). Not thread-safe: one per call.
template <typename Message>
class ClientStream {
 public:
  // `reader` must outlive the stream.
  explicit ClientStream(grpc::ServerReaderInterface<grpc::ByteBuffer>* reader) : reader_(reader) {}

  // Reads the next message into `*message`: true if there was one; false at the end of the
  // stream (the client half-closed, or the call failed) or at a message that cannot be parsed
  // (then `unreadable()` is true).
  bool Read(Message* message) {
    if (unreadable_) return false;
    grpc::ByteBuffer buffer;
    if (!reader_->Read(&buffer)) return false;
    message->Clear();
    if (!ParseMessage(&buffer, message)) {
      unreadable_ = true;
      return false;
    }
    ++count_;
    return true;
  }

  // True once a message could not be parsed; its index is `count()`.
  bool unreadable() const { return unreadable_; }

  // How many messages were read (and parsed).
  size_t count() const { return count_; }

  // RefuseMessage for the unreadable message.
  grpc::Status RefuseUnreadable(absl::string_view rpc, absl::string_view kept) const {
    return RefuseMessage(rpc, count_, "cannot be parsed as " + Message::descriptor()->full_name(),
                         kept);
  }

 private:
  grpc::ServerReaderInterface<grpc::ByteBuffer>* const reader_;
  size_t count_ = 0;
  bool unreadable_ = false;
};

// Logs that the generated handler at `index` of `service` is not the client stream expected
// there (the .proto changed) and aborts: a programming error, caught by any test that starts
// the service.
[[noreturn]] void AbortOnMethodMismatch(absl::string_view service, int index);

// A generated service (`Base`) whose client-streaming methods can be served through a
// ClientStream instead of the generated reader. Thread-safe as `Base` is.
template <typename Base>
class ClientStreamService : public Base {
 protected:
  template <typename Request, typename Response>
  using StreamHandler =
      std::function<grpc::Status(grpc::ServerContext*, ClientStream<Request>*, Response*)>;

  // Serves the client-streaming method at `index` of the service (its place in the .proto's
  // service definition, from 0, which is its place in the generated class) with `handler`
  // in place of the generated handler, at the same path. The generated handler there must
  // read `Request`s and answer a `Response` (checked). Call from the constructor only.
  template <typename Request, typename Response>
  void ServeClientStream(int index, StreamHandler<Request, Response> handler) {
    using Generated = grpc::internal::ClientStreamingHandler<Base, Request, Response>;
    if (dynamic_cast<Generated*>(this->GetHandler(index)) == nullptr) {
      AbortOnMethodMismatch(typeid(Base).name(), index);
    }
    // gRPC's only way to swap the handler of a sync method; it also marks the method
    // bidirectional, which for a server changes nothing but the type interceptors see (neither
    // kind reads a message before the handler runs).
    this->MarkMethodStreamed(
        index,
        new grpc::internal::ClientStreamingHandler<grpc::Service, grpc::ByteBuffer, Response>(
            [handler = std::move(handler)](grpc::Service*, grpc::ServerContext* context,
                                           grpc::ServerReader<grpc::ByteBuffer>* reader,
                                           Response* response) {
              ClientStream<Request> stream(reader);
              return handler(context, &stream, response);
            },
            this));
  }
};

}  // namespace stackhouse::receiver
