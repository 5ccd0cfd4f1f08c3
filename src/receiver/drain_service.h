#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "common/metrics.h"
#include "grpcpp/generic/async_generic_service.h"
#include "receiver/auth.h"
#include "receiver/stream_runtime.h"

namespace stackhouse::receiver {

// Answers the agent services that Stackhouse does not implement but that agents call anyway
// (grpc-protocol.md §1.6: JVM and CLR metrics, configuration discovery, events, the Java agent's
// async-profiler and the Go agent's pprof tasks, and, until the metrics pipeline lands, meters
// and logs), so that an agent pointed at Stackhouse logs no error about them: every message
// of such a call is read and dropped, counted in `stackhouse_agent_messages_dropped_total`
// {method}, and the call ends OK with an empty response message (an empty `Commands`, or the
// method's empty response). The auth token is checked as for every other call. Any other
// method gets UNIMPLEMENTED naming it.
//
// Registered as the gRPC server's generic callback service, so it only sees methods that no
// other service registered: implementing one of them later takes it out of here by itself.
// Messages are never parsed. Its calls are streams of `streams` as the other client streams
// are: they count towards core.gRPCMaxConcurrentStreams (RESOURCE_EXHAUSTED beyond it) and end
// with DEADLINE_EXCEEDED after core.gRPCStreamIdleTimeout without a message. Thread-safe; must
// outlive the server.
class DrainGrpcService final : public grpc::CallbackGenericService {
 public:
  // `auth`, `metrics` and `streams` must outlive the service.
  DrainGrpcService(const AuthGuard* auth, MetricsRegistry* metrics, StreamRuntime* streams)
      : auth_(auth), metrics_(metrics), streams_(streams) {}

  // True when `method` (a full path such as "/skywalking.v3.EventService/collect") is one that
  // this service drains.
  static bool Drains(absl::string_view method);

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  const AuthGuard* const auth_;
  MetricsRegistry* const metrics_;
  StreamRuntime* const streams_;
};

}  // namespace stackhouse::receiver
