#include "receiver/meter_service.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "google/protobuf/arena.h"
#include "metrics/metric_catalog.h"
#include "model/meter.h"
#include "receiver/status_convert.h"

namespace stackhouse::receiver {
namespace {

// Why the value of `sample` (of a meter some metric uses) cannot be used, or nullopt. (Its
// labels are counted before they are copied.)
std::optional<std::string> CheckSample(const model::MeterSample& sample) {
  if (!sample.histogram) {
    if (!std::isfinite(sample.value)) {
      return absl::StrCat("meter ", sample.name, " has the value ", sample.value,
                          " (not a finite number)");
    }
    return std::nullopt;
  }
  if (sample.buckets.size() > MeterHandler::kMaxBuckets) {
    return absl::StrCat("histogram ", sample.name, " has ", sample.buckets.size(),
                        " buckets (at most ", MeterHandler::kMaxBuckets, ")");
  }
  for (size_t i = 0; i < sample.buckets.size(); ++i) {
    const model::MeterBucket& b = sample.buckets[i];
    if (!b.negative_infinity && !std::isfinite(b.lower_bound)) {
      return absl::StrCat("histogram ", sample.name, " bucket ", i, " has the bound ",
                          b.lower_bound, " (not a finite number)");
    }
    if (b.count < 0) {
      return absl::StrCat("histogram ", sample.name, " bucket ", i, " has the count ", b.count,
                          " (negative)");
    }
    if (i > 0) {
      const model::MeterBucket& prev = sample.buckets[i - 1];
      if (b.negative_infinity || (!prev.negative_infinity && b.lower_bound <= prev.lower_bound)) {
        return absl::StrCat("histogram ", sample.name, " bucket ", i, " does not lie above bucket ",
                            i - 1, " (buckets must be in ascending order)");
      }
    }
  }
  return std::nullopt;
}

// Parses each message into an arena that the next message reuses: a Rover collection of 100
// samples is about 1,000 small objects (labels, buckets), which the heap would allocate and
// free one by one. One per thread that runs stream steps (a message is parsed and handled in one
// step on one thread, and nothing of it is kept), so that open streams do not hold a block each.
// Not thread-safe.
class MessageArena {
 public:
  MessageArena()
      : block_(std::make_unique<char[]>(kBlockBytes)), arena_([this] {
          google::protobuf::ArenaOptions options;
          options.initial_block = block_.get();
          options.initial_block_size = kBlockBytes;
          return options;
        }()) {}

  // A new empty message; the one returned before (and everything in it) is gone.
  template <typename Message>
  Message* Next() {
    arena_.Reset();
    return google::protobuf::Arena::CreateMessage<Message>(&arena_);
  }

  // This thread's arena.
  static MessageArena& OfThisThread() {
    thread_local MessageArena arena;
    return arena;
  }

 private:
  // Holds a parsed collection of about 100 samples (30 kB on the wire) without a second block.
  static constexpr size_t kBlockBytes = 256 * 1024;
  std::unique_ptr<char[]> block_;
  google::protobuf::Arena arena_;
};

// Samples whose strings and vectors the next data set refills instead of allocating anew (a
// Rover sample is about 20 strings, most too long for the small-string buffer). One pool per
// thread that runs stream steps, as MessageArena; a sample taken on one thread may be given
// back on another. Bounded: what a flush gives back beyond kMaxSpare, or larger than a Rover
// sample, is freed.
class SpareSamples {
 public:
  static model::MeterSample TakeOne() {
    std::vector<model::MeterSample>& spare = OfThisThread();
    if (spare.empty()) return {};
    model::MeterSample sample = std::move(spare.back());
    spare.pop_back();
    return sample;
  }

  // Takes the samples of `samples`, which is left empty.
  static void GiveBack(std::vector<model::MeterSample>* samples) {
    std::vector<model::MeterSample>& spare = OfThisThread();
    for (model::MeterSample& sample : *samples) {
      if (spare.size() >= kMaxSpare) break;
      if (Small(sample)) spare.push_back(std::move(sample));
    }
    samples->clear();
  }

 private:
  // A few collections' worth (Rover sends at most 100 samples a collection).
  static constexpr size_t kMaxSpare = 512;

  // Whether `sample` is worth keeping: a Rover sample's strings take about 1 kB and its
  // histograms 20-30 buckets; an odd agent's huge labels are not held on to.
  static bool Small(const model::MeterSample& sample) {
    size_t bytes = sample.name.capacity();
    for (const auto& [key, value] : sample.labels) bytes += key.capacity() + value.capacity();
    return bytes <= 4096 && sample.labels.capacity() <= 32 && sample.buckets.capacity() <= 128;
  }

  static std::vector<model::MeterSample>& OfThisThread() {
    thread_local std::vector<model::MeterSample> spare;
    return spare;
  }
};

}  // namespace

// One data set being read: the service, instance and time seen so far and the used samples
// not yet written.
class MeterHandler::DataSet {
 public:
  DataSet(MeterHandler* handler, absl::string_view agent) : handler_(handler), agent_(agent) {}

  // Room for `samples` samples (at most a chunk), so that adding them does not move the held ones.
  void Reserve(size_t samples) { set_.samples.reserve(std::min(samples, kChunkSamples)); }

  // Adds one message; a problem with it comes back as its text (InvalidArgument) or, from
  // storage, as that error.
  absl::Status Add(const skywalking::v3::MeterData& data) {
    const bool new_service = !data.service().empty() && data.service() != set_.service;
    const bool new_instance =
        !data.serviceinstance().empty() && data.serviceinstance() != set_.instance;
    const bool new_time = data.timestamp() != 0 && data.timestamp() != set_.timestamp_ms;
    if (new_service || new_instance || new_time) {
      // What is held belongs to the service, instance and time it came with.
      SH_RETURN_IF_ERROR(Flush());
      if (new_service) set_.service = data.service();
      if (new_instance) set_.instance = data.serviceinstance();
      if (new_time) {
        set_.timestamp_ms = data.timestamp();
        time_checked_ = false;
      }
    }
    handler_->received_->Increment();
    const bool histogram = data.metric_case() == skywalking::v3::MeterData::kHistogram;
    absl::string_view name;
    switch (data.metric_case()) {
      case skywalking::v3::MeterData::kSingleValue:
        name = data.singlevalue().name();
        break;
      case skywalking::v3::MeterData::kHistogram:
        name = data.histogram().name();
        break;
      case skywalking::v3::MeterData::METRIC_NOT_SET:
        return absl::InvalidArgumentError("carries neither a single value nor a histogram");
    }
    if (name.empty()) return absl::InvalidArgumentError("is a meter without a name");
    if (metrics::MetricsOfMeter(name).empty()) {
      handler_->ignored_->Increment();
      return absl::OkStatus();
    }
    const auto& labels = histogram ? data.histogram().labels() : data.singlevalue().labels();
    if (static_cast<size_t>(labels.size()) > kMaxLabels) {
      return absl::InvalidArgumentError(absl::StrCat("meter ", name, " has ", labels.size(),
                                                     " labels (at most ", kMaxLabels, ")"));
    }
    // Filled in place over a sample an earlier flush left: its strings keep their capacity, so
    // a report like the last one allocates nothing.
    model::MeterSample sample = SpareSamples::TakeOne();
    sample.name.assign(name.data(), name.size());
    sample.histogram = histogram;
    sample.labels.resize(static_cast<size_t>(labels.size()));
    for (int i = 0; i < labels.size(); ++i) {
      sample.labels[i].first.assign(labels[i].name());
      sample.labels[i].second.assign(labels[i].value());
    }
    sample.buckets.clear();
    sample.value = 0;
    if (histogram) {
      sample.buckets.reserve(static_cast<size_t>(data.histogram().values_size()));
      for (const auto& bucket : data.histogram().values()) {
        sample.buckets.push_back({bucket.bucket(), bucket.isnegativeinfinity(), bucket.count()});
      }
    } else {
      sample.value = data.singlevalue().value();
    }
    if (auto problem = CheckSample(sample)) return absl::InvalidArgumentError(*problem);
    if (!time_checked_ && set_.timestamp_ms != 0) {
      SH_RETURN_IF_ERROR(handler_->times_->Check("meter", set_.timestamp_ms, agent_));
      time_checked_ = true;
    }
    set_.samples.push_back(std::move(sample));
    if (set_.samples.size() >= kChunkSamples) return Flush();
    return absl::OkStatus();
  }

  // Writes the samples held (the data set's service, instance and time stay for what follows).
  absl::Status Flush() {
    if (set_.samples.empty()) return absl::OkStatus();
    auto stats = handler_->meters_->Ingest(set_);
    SpareSamples::GiveBack(&set_.samples);
    if (!stats.ok()) return stats.status();
    handler_->ignored_->Increment(static_cast<uint64_t>(stats->ignored));
    handler_->unknown_process_->Increment(static_cast<uint64_t>(stats->unknown_process));
    return absl::OkStatus();
  }

 private:
  MeterHandler* const handler_;
  const std::string agent_;
  model::MeterDataSet set_;
  bool time_checked_ = false;
};

MeterHandler::MeterHandler(const AuthGuard* auth, AgentTimeGuard* times,
                           service::MeterService* meters, MetricsRegistry* metrics)
    : auth_(auth),
      times_(times),
      meters_(meters),
      received_(metrics->GetCounter("stackhouse_meter_samples_received_total",
                                    "Meter samples agents reported (MeterReportService).")),
      ignored_(metrics->GetCounter(
          "stackhouse_meter_samples_ignored_total",
          "Meter samples skipped: of meters no metric uses (e.g. a language agent's own), or "
          "of a data set without service, instance or time.")),
      unknown_process_(metrics->GetCounter(
          "stackhouse_metric_updates_dropped_total",
          "Metric updates dropped because they name a process no Rover registered.",
          {{"reason", "unknown_process"}})) {}

// collect: the whole stream is one data set.
class MeterHandler::CollectConsumer final : public StreamConsumer<skywalking::v3::MeterData> {
 public:
  CollectConsumer(MeterHandler* handler, absl::string_view agent) : data_set_(handler, agent) {}

  skywalking::v3::MeterData* NextMessage() override {
    return MessageArena::OfThisThread().Next<skywalking::v3::MeterData>();
  }

  std::optional<grpc::Status> OnMessage(skywalking::v3::MeterData* message, size_t index) override {
    if (absl::Status s = data_set_.Add(*message); !s.ok()) {
      if (!absl::IsInvalidArgument(s)) return ToGrpcStatus(s);
      if (absl::Status f = data_set_.Flush(); !f.ok()) return ToGrpcStatus(f);
      return RefuseMessage("collect", index, s.message(), KeptMessagesBefore(index));
    }
    return std::nullopt;
  }

  absl::Status Flush() override { return data_set_.Flush(); }

 private:
  DataSet data_set_;
};

// collectBatch: each message is one data set.
class MeterHandler::BatchConsumer final
    : public StreamConsumer<skywalking::v3::MeterDataCollection> {
 public:
  BatchConsumer(MeterHandler* handler, std::string agent)
      : handler_(handler), agent_(std::move(agent)) {}

  skywalking::v3::MeterDataCollection* NextMessage() override {
    return MessageArena::OfThisThread().Next<skywalking::v3::MeterDataCollection>();
  }

  std::optional<grpc::Status> OnMessage(skywalking::v3::MeterDataCollection* message,
                                        size_t index) override {
    DataSet data_set(handler_, agent_);
    data_set.Reserve(static_cast<size_t>(message->meterdata_size()));
    for (int i = 0; i < message->meterdata_size(); ++i) {
      if (absl::Status s = data_set.Add(message->meterdata(i)); !s.ok()) {
        if (!absl::IsInvalidArgument(s)) return ToGrpcStatus(s);
        return RefuseMessage("collectBatch", index, absl::StrCat("element ", i, " ", s.message()),
                             KeptMessagesBefore(index));
      }
    }
    if (absl::Status s = data_set.Flush(); !s.ok()) return ToGrpcStatus(s);
    return std::nullopt;
  }

  // Each collection is written when it has been read.
  absl::Status Flush() override { return absl::OkStatus(); }

 private:
  MeterHandler* const handler_;
  const std::string agent_;
};

grpc::Status MeterHandler::StartCollect(
    const grpc::CallbackServerContext& context,
    std::unique_ptr<StreamConsumer<skywalking::v3::MeterData>>* consumer) {
  if (grpc::Status s = auth_->Check(context); !s.ok()) return s;
  *consumer = std::make_unique<CollectConsumer>(this, PeerHost(context.peer()));
  return grpc::Status::OK;
}

grpc::Status MeterHandler::StartCollectBatch(
    const grpc::CallbackServerContext& context,
    std::unique_ptr<StreamConsumer<skywalking::v3::MeterDataCollection>>* consumer) {
  if (grpc::Status s = auth_->Check(context); !s.ok()) return s;
  *consumer = std::make_unique<BatchConsumer>(this, PeerHost(context.peer()));
  return grpc::Status::OK;
}

}  // namespace stackhouse::receiver
