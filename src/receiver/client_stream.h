#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/message.h"
#include "grpcpp/impl/codegen/server_callback_handlers.h"
#include "grpcpp/impl/rpc_service_method.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/method_handler.h"
#include "grpcpp/support/server_callback.h"
#include "grpcpp/support/status.h"
#include "receiver/status_convert.h"
#include "receiver/stream_runtime.h"

namespace stackhouse::receiver {

// Parses the serialized message `buffer` into `*message`, which must be empty (it is merged
// into, so that a consumer's NextMessage may hand back a cleared message that keeps its
// allocations); false if it is not one.
bool ParseMessage(grpc::ByteBuffer* buffer, google::protobuf::Message* message);

// The status that ends a client stream at its message `index` (counted from 0) for `problem`:
// INVALID_ARGUMENT `<rpc>: message <index> <problem>; <kept>`, where `kept` tells the agent
// what the server kept of the stream (e.g. "the 12 messages before it were stored").
grpc::Status RefuseMessage(absl::string_view rpc, size_t index, absl::string_view problem,
                           absl::string_view kept);

// The status that ends a client stream idle for `timeout_ms` while the server waited for its
// message `index`: DEADLINE_EXCEEDED `<rpc>: message <index> did not come within <s> s
// (core.gRPCStreamIdleTimeout); <kept>`.
grpc::Status IdleStreamStatus(absl::string_view rpc, size_t index, int64_t timeout_ms,
                              absl::string_view kept);

// "the N messages before it were stored" (or "no message before it was stored"), for
// RefuseMessage.
std::string KeptMessagesBefore(size_t count);

// The empty message every client stream answers with (an empty `Commands`, or any empty
// response), serialized.
grpc::ByteBuffer EmptyResponse();

// What one client-streaming call does with its messages: created when the call starts (after
// its auth check), told each message in order, then how the stream ended. Its methods are
// called one at a time (never concurrently), on the thread StreamRuntime runs the stream's
// steps on (gRPC's callback thread, or a worker); they may write to storage. Not thread-safe:
// one per call.
template <typename Message>
class StreamConsumer {
 public:
  virtual ~StreamConsumer() = default;

  // The message to parse the next one into; called in the same step (on the same thread) as
  // the OnMessage of that message, and the message need not outlive that step. The default is
  // a member of the consumer, cleared.
  virtual Message* NextMessage() {
    message_.Clear();
    return &message_;
  }
  // Handles message `index` (counted from 0): nullopt to read the next one, or the status that
  // ends the call (after the consumer has kept what the status says).
  virtual std::optional<grpc::Status> OnMessage(Message* message, size_t index) = 0;
  // Writes what it holds; called when the stream ends by the client's half-close, at an
  // unparsable message, or at the idle timeout (not at a cancel: the batch in progress is
  // dropped). Durable when OK.
  virtual absl::Status Flush() = 0;
  // What the server kept of the stream when it ends before message `count` (unparsable, or
  // idle), for the status.
  virtual std::string Kept(size_t count) const { return KeptMessagesBefore(count); }
  // The status of a stream the client half-closed, after a successful Flush.
  virtual grpc::Status Done() { return grpc::Status::OK; }

 private:
  Message message_;
};

// Starts a call of a client-streaming RPC: an error status ends the call at once (e.g. the
// auth check's PERMISSION_DENIED); OK with the call's consumer in `*consumer`.
template <typename Message>
using StreamStarter =
    std::function<grpc::Status(const grpc::CallbackServerContext& context,
                               std::unique_ptr<StreamConsumer<Message>>* consumer)>;

// Ends a call at once with `status` (a call refused before any message is read).
class RefuseReadReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  explicit RefuseReadReactor(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

// One client-streaming call served through gRPC's callback API: reads each message as raw
// bytes (so that an unparsable message is told apart from the client's half-close), parses it
// and hands it to the consumer in a step StreamRuntime runs (inline or on a worker), and reads
// the next one only then. How the stream ends, and what its status is:
//   half-close: the consumer's Flush, then its Done (or the storage error);
//   an unparsable message: Flush, then INVALID_ARGUMENT naming the message and `Kept`;
//   a status from OnMessage: that status;
//   cancel or deadline: CANCELLED (nothing flushed; the agent does not hear it anyway);
//   no message within the idle timeout: Flush, then DEADLINE_EXCEEDED (IdleStreamStatus).
// Deletes itself when the call is done. Thread-safe (gRPC's threads, a worker, the sweeper).
template <typename Message>
class ClientStreamReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer>,
                                  public StreamRuntime::Stream {
 public:
  // Starts the call: admitted by `runtime` (else refused), then `start`ed, then reading.
  // Returns the reactor to give gRPC.
  static grpc::ServerReadReactor<grpc::ByteBuffer>* Start(grpc::CallbackServerContext* context,
                                                          grpc::ByteBuffer* response,
                                                          StreamRuntime* runtime,
                                                          absl::string_view rpc,
                                                          const StreamStarter<Message>& start) {
    std::unique_ptr<ClientStreamReactor> reactor(
        new ClientStreamReactor(context, response, runtime, rpc));
    if (grpc::Status admitted = runtime->Admit(reactor.get(), rpc); !admitted.ok()) {
      return new RefuseReadReactor(std::move(admitted));
    }
    if (grpc::Status started = start(*context, &reactor->consumer_); !started.ok()) {
      runtime->Release(reactor.get());
      return new RefuseReadReactor(std::move(started));
    }
    reactor->ReadNext();
    return reactor.release();  // deletes itself in OnDone
  }

  void OnReadDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      waiting_ = false;
      if (idle_) return;  // already ending: the message came too late
      event_ = ok ? Event::kMessage : Event::kEnd;
    }
    runtime_->Schedule(this);
  }

  void OnDone() override {
    runtime_->Release(this);
    delete this;
  }

  void Run() override {
    Event event;
    {
      absl::MutexLock lock(&mu_);
      event = idle_ ? Event::kIdle : event_;
    }
    switch (event) {
      case Event::kMessage: {
        Message* message = consumer_->NextMessage();
        if (!ParseMessage(&buffer_, message)) {
          buffer_.Clear();
          return End(RefuseUnparsable());
        }
        buffer_.Clear();
        std::optional<grpc::Status> status = consumer_->OnMessage(message, count_);
        ++count_;
        if (status.has_value()) return End(std::move(*status));
        return ReadNext();
      }
      case Event::kEnd:
        if (context_->IsCancelled()) return End(grpc::Status::CANCELLED);
        if (absl::Status s = consumer_->Flush(); !s.ok()) return End(ToGrpcStatus(s));
        return End(consumer_->Done());
      case Event::kIdle: {
        runtime_->CountIdleEnd();
        grpc::Status status =
            IdleStreamStatus(rpc_, count_, runtime_->idle_timeout_ms(), consumer_->Kept(count_));
        if (absl::Status s = consumer_->Flush(); !s.ok()) status = ToGrpcStatus(s);
        return End(std::move(status));
      }
    }
  }

  bool ExpireIfWaitingSince(int64_t since_ms) override {
    absl::MutexLock lock(&mu_);
    if (!waiting_ || idle_ || waiting_since_ms_ >= since_ms) return false;
    idle_ = true;
    return true;
  }

 private:
  enum class Event { kMessage, kEnd, kIdle };

  ClientStreamReactor(grpc::CallbackServerContext* context, grpc::ByteBuffer* response,
                      StreamRuntime* runtime, absl::string_view rpc)
      : context_(context), response_(response), runtime_(runtime), rpc_(rpc) {}

  grpc::Status RefuseUnparsable() {
    grpc::Status status =
        RefuseMessage(rpc_, count_, "cannot be parsed as " + Message::descriptor()->full_name(),
                      consumer_->Kept(count_));
    if (absl::Status s = consumer_->Flush(); !s.ok()) return ToGrpcStatus(s);
    return status;
  }

  // Asks for the next message. The reactor may be gone when this returns. The read starts
  // under `mu_` so that the sweeper cannot end the call before it has started (gRPC never runs
  // OnReadDone inline in StartRead).
  void ReadNext() {
    absl::MutexLock lock(&mu_);
    waiting_ = true;
    waiting_since_ms_ = runtime_->NowMillis();
    StartRead(&buffer_);
  }

  // Finishes the call with `status`. The reactor may be gone when this returns.
  void End(grpc::Status status) {
    if (status.ok()) *response_ = EmptyResponse();
    Finish(std::move(status));
  }

  // Constant after construction.
  grpc::CallbackServerContext* const context_;
  grpc::ByteBuffer* const response_;
  StreamRuntime* const runtime_;
  const absl::string_view rpc_;

  // Touched only by the one thread that runs the call's current step.
  std::unique_ptr<StreamConsumer<Message>> consumer_;
  grpc::ByteBuffer buffer_;
  size_t count_ = 0;

  // What the sweeper and gRPC's read callback share with the step that runs.
  absl::Mutex mu_;
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;
  int64_t waiting_since_ms_ ABSL_GUARDED_BY(mu_) = 0;
  bool idle_ ABSL_GUARDED_BY(mu_) = false;
  Event event_ ABSL_GUARDED_BY(mu_) = Event::kEnd;
};

// Logs that the generated handler at `index` of `service` is not the client stream expected
// there (the .proto changed) and aborts: a programming error, caught by any test that starts
// the service.
[[noreturn]] void AbortOnMethodMismatch(absl::string_view service, int index);

// A generated service (`Base`) whose client-streaming methods are served through
// ClientStreamReactor (gRPC's callback API, no thread per stream) instead of the generated
// synchronous reader; its other methods stay synchronous. Thread-safe as `Base` is.
template <typename Base>
class ClientStreamService : public Base {
 protected:
  // Serves the client-streaming method at `index` of the service (its place in the .proto's
  // service definition, from 0, which is its place in the generated class) through `runtime`
  // (which must outlive the server), each call `start`ed, at the same path; `rpc` names the
  // method in statuses (a literal). The generated handler there must read `Request`s and
  // answer a `Response` (checked). Call from the constructor only.
  template <typename Request, typename Response>
  void ServeClientStream(int index, StreamRuntime* runtime, absl::string_view rpc,
                         StreamStarter<Request> start) {
    using Generated = grpc::internal::ClientStreamingHandler<Base, Request, Response>;
    if (dynamic_cast<Generated*>(this->GetHandler(index)) == nullptr) {
      AbortOnMethodMismatch(typeid(Base).name(), index);
    }
    this->MarkMethodRawCallback(
        index,
        new grpc::internal::CallbackClientStreamingHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
            [runtime, rpc, start = std::move(start)](grpc::CallbackServerContext* context,
                                                     grpc::ByteBuffer* response) {
              return ClientStreamReactor<Request>::Start(context, response, runtime, rpc, start);
            }));
  }
};

}  // namespace stackhouse::receiver
