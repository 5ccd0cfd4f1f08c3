#include "receiver/stream_runtime.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace stackhouse::receiver {

StreamRuntime::StreamRuntime(const Options& options, const Clock* clock, MetricsRegistry* metrics)
    : options_(options),
      clock_(clock),
      refused_(metrics->GetCounter("stackhouse_grpc_streams_refused_total",
                                   "Agent client streams refused with RESOURCE_EXHAUSTED because "
                                   "core.gRPCMaxConcurrentStreams streams were open")),
      idle_ended_(metrics->GetCounter(
          "stackhouse_grpc_streams_idle_ended_total",
          "Agent client streams ended with DEADLINE_EXCEEDED because they sent nothing for "
          "core.gRPCStreamIdleTimeout seconds")) {
  metrics->AddGauge(
      "stackhouse_grpc_streams_open", "Agent client streams open now (served by the callback API)",
      [this] {
        return std::vector<MetricsRegistry::GaugeSample>{{{}, static_cast<double>(open_streams())}};
      });
  workers_.reserve(static_cast<size_t>(std::max(0, options_.workers)));
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  if (options_.idle_timeout_ms > 0) sweeper_ = std::thread([this] { SweeperLoop(); });
}

StreamRuntime::~StreamRuntime() { Stop(); }

grpc::Status StreamRuntime::Admit(Stream* stream, absl::string_view rpc) {
  absl::MutexLock lock(&registry_mu_);
  if (options_.max_streams > 0 && streams_.size() >= static_cast<size_t>(options_.max_streams)) {
    refused_->Increment();
    return grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat(rpc, ": Stackhouse already serves ", options_.max_streams,
                     " agent streams, its limit (core.gRPCMaxConcurrentStreams); retry later"));
  }
  streams_.insert(stream);
  open_.store(streams_.size(), std::memory_order_relaxed);
  return grpc::Status::OK;
}

void StreamRuntime::Release(Stream* stream) {
  absl::MutexLock lock(&registry_mu_);
  streams_.erase(stream);
  open_.store(streams_.size(), std::memory_order_relaxed);
}

void StreamRuntime::Schedule(Stream* stream) {
  if (workers_.empty()) return stream->Run();
  absl::MutexLock lock(&queue_mu_);
  queue_.push_back(stream);
}

void StreamRuntime::Stop() {
  {
    absl::MutexLock lock(&queue_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  for (std::thread& worker : workers_) worker.join();
  if (sweeper_.joinable()) sweeper_.join();
}

void StreamRuntime::WorkerLoop() {
  auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
    return !queue_.empty() || stopping_;
  };
  while (true) {
    Stream* stream;
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(&has_work));
      if (queue_.empty()) return;  // stopping, and nothing left
      stream = queue_.front();
      queue_.pop_front();
    }
    stream->Run();
  }
}

void StreamRuntime::SweeperLoop() {
  // Streams end at most a quarter of the timeout (and at most a second) late.
  const absl::Duration period = std::clamp(absl::Milliseconds(options_.idle_timeout_ms) / 4,
                                           absl::Milliseconds(10), absl::Seconds(1));
  std::vector<Stream*> expired;
  while (true) {
    {
      absl::MutexLock lock(&queue_mu_);
      if (queue_mu_.AwaitWithTimeout(absl::Condition(&stopping_), period)) return;
    }
    const int64_t since_ms = clock_->NowMillis() - options_.idle_timeout_ms;
    {
      absl::MutexLock lock(&registry_mu_);
      for (Stream* stream : streams_) {
        if (stream->ExpireIfWaitingSince(since_ms)) expired.push_back(stream);
      }
    }
    // An expired stream stays open until it runs, so it cannot be released meanwhile.
    for (Stream* stream : expired) Schedule(stream);
    expired.clear();
  }
}

}  // namespace stackhouse::receiver
