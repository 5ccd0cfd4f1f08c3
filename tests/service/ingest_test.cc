// The service layer's ingest rules: the registry, segments, span-attached events and eBPF
// sample streams, over the in-memory fakes (and failing decorators for the error paths).

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "fakes/failing_stores.h"
#include "fakes/fake_stores.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/ids.h"
#include "service/ebpf_sample_stream.h"
#include "service/ebpf_service.h"
#include "service/registry.h"
#include "service/segment_ingest.h"
#include "service/snapshot_stream.h"
#include "service/span_event_ingest.h"

namespace stackhouse::service {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

constexpr int64_t kNow = 1700000000000;

class RegistryTest : public ::testing::Test {
 protected:
  SimulatedClock clock_{kNow};
  fakes::FakeMetadataStore store_{&clock_};
  fakes::FaultInjector faults_;
  fakes::FailingMetadataStore failing_{&store_, &faults_};
  Registry registry_{&failing_, model::NameLimits{4, 6, 150}};
};

TEST_F(RegistryTest, NamesAreTruncatedIdsDerivedAndTheLayerDefaulted) {
  ASSERT_TRUE(registry_.Heartbeat({"service-long", "instance-long", ""}).ok());
  auto instance = store_.GetInstance(model::InstanceId(model::ServiceId("serv"), "instan"));
  ASSERT_TRUE(instance.ok());
  ASSERT_TRUE(instance->has_value());
  EXPECT_EQ((*instance)->name, "instan");
  EXPECT_EQ((*instance)->layer, model::kDefaultLayer);
  auto service = store_.GetService(model::ServiceId("serv"));
  ASSERT_TRUE(service.ok());
  ASSERT_TRUE(service->has_value());
  EXPECT_EQ((*service)->name, "serv");
}

TEST_F(RegistryTest, PropertiesAreReplacedByAReportAndKeptByAHeartbeat) {
  const std::string id = model::InstanceId(model::ServiceId("svc"), "i-1");
  ASSERT_TRUE(registry_.ReportProperties({"svc", "i-1", "K8S"}, {{"ipv4", "10.0.0.1"}}).ok());
  ASSERT_TRUE(registry_.Heartbeat({"svc", "i-1", "K8S"}).ok());
  auto instance = store_.GetInstance(id);
  ASSERT_TRUE(instance.ok() && instance->has_value());
  EXPECT_THAT((*instance)->properties, ElementsAre(Pair("ipv4", "10.0.0.1")));
  EXPECT_EQ((*instance)->layer, "K8S");

  ASSERT_TRUE(registry_.ReportProperties({"svc", "i-1", "K8S"}, {{"os", "linux"}}).ok());
  instance = store_.GetInstance(id);
  ASSERT_TRUE(instance.ok() && instance->has_value());
  EXPECT_THAT((*instance)->properties, ElementsAre(Pair("os", "linux")));
}

TEST_F(RegistryTest, AStoreErrorIsReturned) {
  faults_.FailNth(1, absl::UnavailableError("disk full"), "UpsertInstance");
  absl::Status s = registry_.Heartbeat({"svc", "i-1", ""});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "disk full");
  auto services = store_.ListServices();
  ASSERT_TRUE(services.ok());
  EXPECT_THAT(*services, IsEmpty());
}

model::Segment Segment(const std::string& id, int spans) {
  model::Segment segment;
  segment.segment_id = id;
  segment.trace_id = "trace-" + id;
  segment.service = "svc";
  segment.service_instance = "i-1";
  for (int i = 0; i < spans; ++i) {
    model::Span span;
    span.span_id = i;
    span.parent_span_id = i - 1;
    span.start_time_ms = kNow;
    span.end_time_ms = kNow + 10;
    span.operation_name = "/api/" + id;
    span.type = i == 0 ? model::SpanType::kEntry : model::SpanType::kLocal;
    segment.spans.push_back(span);
  }
  return segment;
}

class SegmentIngestTest : public ::testing::Test {
 protected:
  bool Stored(const std::string& id) {
    auto segment = segments_.GetSegment(id);
    EXPECT_TRUE(segment.ok());
    return segment.ok() && segment->has_value();
  }

  SimulatedClock clock_{kNow};
  fakes::FakeMetadataStore metadata_{&clock_};
  fakes::FakeSegmentStore segments_;
  fakes::FaultInjector faults_;
  fakes::FailingMetadataStore failing_metadata_{&metadata_, &faults_};
  fakes::FailingSegmentStore failing_segments_{&segments_, &faults_};
  Registry registry_{&failing_metadata_, model::NameLimits{}};
  SegmentIngest ingest_{&failing_segments_, &registry_};
};

TEST_F(SegmentIngestTest, SegmentsAreRegisteredAndStoredAndThoseWithoutSpansSkipped) {
  std::vector<model::Segment> batch;
  batch.push_back(Segment("a", 2));
  batch.push_back(Segment("empty", 0));
  ASSERT_TRUE(ingest_.Add(std::move(batch)).ok());
  EXPECT_TRUE(Stored("a"));
  EXPECT_FALSE(Stored("empty"));
  auto stored = segments_.GetSegment("a");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->summary.service_id, model::ServiceId("svc"));
  EXPECT_EQ((*stored)->summary.endpoint_name, "/api/a");
  auto endpoints = metadata_.FindEndpoints(model::ServiceId("svc"), "", -1);
  ASSERT_TRUE(endpoints.ok());
  ASSERT_EQ(endpoints->size(), 1u);
  EXPECT_EQ((*endpoints)[0].name, "/api/a");
  auto instance = metadata_.GetInstance(model::InstanceId(model::ServiceId("svc"), "i-1"));
  ASSERT_TRUE(instance.ok());
  EXPECT_TRUE(instance->has_value());
}

TEST_F(SegmentIngestTest, ARegistrationFailureStoresNothingOfTheBatch) {
  faults_.FailNth(2, absl::UnavailableError("disk full"), "UpsertInstance");
  std::vector<model::Segment> batch;
  batch.push_back(Segment("a", 1));
  batch.push_back(Segment("b", 1));
  EXPECT_EQ(ingest_.Add(std::move(batch)).code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(Stored("a"));
  EXPECT_FALSE(Stored("b"));
}

TEST_F(SegmentIngestTest, AStoreFailureIsReturned) {
  faults_.FailNth(1, absl::UnavailableError("disk full"), "AddSegments");
  std::vector<model::Segment> batch;
  batch.push_back(Segment("a", 1));
  EXPECT_EQ(ingest_.Add(std::move(batch)).code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(Stored("a"));
}

// Keeps events in memory; fails every write while `fail` is set.
class MemorySpanEventStore final : public storage::SpanEventStore {
 public:
  absl::Status AddEvents(const std::vector<model::SpanAttachedEvent>& events) override {
    absl::MutexLock lock(&mu_);
    if (fail) return absl::UnavailableError("disk full");
    events_.insert(events_.end(), events.begin(), events.end());
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<model::SpanAttachedEvent>> ListByTrace(const std::string& trace_id,
                                                                    size_t limit) const override {
    absl::MutexLock lock(&mu_);
    std::vector<model::SpanAttachedEvent> out;
    for (const auto& e : events_) {
      if (e.trace_id == trace_id && out.size() < limit) out.push_back(e);
    }
    return out;
  }
  bool fail = false;

 private:
  mutable absl::Mutex mu_;
  std::vector<model::SpanAttachedEvent> events_;
};

model::SpanAttachedEvent Event(const std::string& trace_id, const std::string& name) {
  model::SpanAttachedEvent e;
  e.trace_id = trace_id;
  e.event = name;
  return e;
}

TEST(SpanEventIngestTest, EventsWithoutATraceAreDroppedAndCounted) {
  MetricsRegistry metrics;
  MemorySpanEventStore store;
  SpanEventIngest ingest(&store, &metrics);
  ASSERT_TRUE(ingest.Add({Event("t-1", "read"), Event("", "lost"), Event("t-1", "write")}).ok());
  ingest.CountRefused(2);
  auto events = store.ListByTrace("t-1", 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].event, "read");
  EXPECT_EQ((*events)[1].event, "write");
  EXPECT_EQ(metrics.GetCounter("stackhouse_span_events_total", "")->Value(), 2u);
  EXPECT_EQ(metrics.GetCounter("stackhouse_span_events_dropped_total", "")->Value(), 3u);
}

TEST(SpanEventIngestTest, AFailedWriteIsReturnedAndNotCountedAsStored) {
  MetricsRegistry metrics;
  MemorySpanEventStore store;
  store.fail = true;
  SpanEventIngest ingest(&store, &metrics);
  EXPECT_EQ(ingest.Add({Event("t-1", "read")}).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(metrics.GetCounter("stackhouse_span_events_total", "")->Value(), 0u);
}

class EbpfSampleStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto service = EbpfService::Create(&failing_store_, &metadata_, &clock_, {});
    ASSERT_TRUE(service.ok()) << service.status();
    ebpf_ = std::move(*service);
  }

  // Adds an On-CPU sample whose stack is `frames` (user space, root first).
  static absl::Status AddOnCpu(EbpfSampleStream* stream, const std::vector<std::string>& frames,
                               int64_t dump_count = 1) {
    RoverSampleValues values;
    values.dump_count = dump_count;
    return stream->Add(values, frames.size(), [&](EbpfSampleStream::FrameVisitor visit) {
      for (const std::string& f : frames) visit(model::StackType::kUser, f);
    });
  }

  std::vector<storage::StoredEbpfSample> Samples(const std::string& schedule_id) {
    std::vector<storage::StoredEbpfSample> out;
    EXPECT_TRUE(store_
                    .ScanSamples(schedule_id, 0, kNow * 2,
                                 [&](const storage::StoredEbpfSample& s) { out.push_back(s); })
                    .ok());
    return out;
  }

  SimulatedClock clock_{kNow};
  fakes::FakeMetadataStore metadata_{&clock_};
  fakes::FakeEbpfStore store_;
  fakes::FaultInjector faults_;
  fakes::FailingEbpfStore failing_store_{&store_, &faults_};
  std::unique_ptr<EbpfService> ebpf_;
};

TEST_F(EbpfSampleStreamTest, SamplesGoToTheirUploadsScheduleAndUnusableOnesAreSkipped) {
  const std::string schedule = model::EbpfScheduleId("task-1", "proc-1", kNow - 1000);
  {
    std::unique_ptr<EbpfSampleStream> stream = ebpf_->OpenSampleStream();
    // Before any task header: skipped.
    ASSERT_TRUE(AddOnCpu(stream.get(), {"main"}).ok());
    ASSERT_TRUE(stream->StartUpload("task-1", "proc-1", kNow - 1000, kNow).ok());
    ASSERT_TRUE(AddOnCpu(stream.get(), {"main", "work"}, 3).ok());
    ASSERT_TRUE(AddOnCpu(stream.get(), {}).ok());            // no stack
    ASSERT_TRUE(AddOnCpu(stream.get(), {"main"}, -1).ok());  // negative count
    stream->SkipSample();                                    // no profiling branch
    ASSERT_TRUE(AddOnCpu(stream.get(), {"main", "work"}, 2).ok());
    // A header without a process: what follows is skipped until the next one.
    ASSERT_TRUE(stream->StartUpload("task-1", "", kNow - 1000, kNow + 1).ok());
    ASSERT_TRUE(AddOnCpu(stream.get(), {"main"}).ok());
    ASSERT_TRUE(stream->Flush().ok());
    EXPECT_EQ(stream->skipped(), 5u);
  }
  std::vector<storage::StoredEbpfSample> samples = Samples(schedule);
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].dump_count, 3);
  EXPECT_EQ(samples[1].dump_count, 2);
  EXPECT_EQ(samples[0].stack_id, samples[1].stack_id);
  EXPECT_EQ(samples[0].upload_time_ms, kNow);
  auto frames = store_.GetStack(samples[0].stack_id);
  ASSERT_TRUE(frames.ok());
  ASSERT_EQ(frames->size(), 2u);
  EXPECT_EQ((*frames)[0].name, "main");
  EXPECT_EQ((*frames)[1].name, "work");
  EXPECT_EQ((*frames)[1].type, model::StackType::kUser);
  auto stored = store_.GetSchedule(schedule);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->end_time_ms, kNow);
}

TEST_F(EbpfSampleStreamTest, AFailedScheduleWriteIsReturnedAndNoSampleOfTheUploadStored) {
  std::unique_ptr<EbpfSampleStream> stream = ebpf_->OpenSampleStream();
  faults_.FailNth(1, absl::UnavailableError("disk full"), "PutSchedule");
  EXPECT_EQ(stream->StartUpload("task-1", "proc-1", kNow - 1000, kNow).code(),
            absl::StatusCode::kUnavailable);
  ASSERT_TRUE(AddOnCpu(stream.get(), {"main"}).ok());
  ASSERT_TRUE(stream->Flush().ok());
  EXPECT_EQ(stream->skipped(), 1u);
  EXPECT_THAT(Samples(model::EbpfScheduleId("task-1", "proc-1", kNow - 1000)), IsEmpty());
}

// A collectSnapshot stream: every dump stored, a stack's frames built once per stream.
TEST(SnapshotStreamTest, DumpsAreStoredInBatchesAndARepeatedStackIsBuiltOnce) {
  fakes::FakeSnapshotStore store;
  SnapshotStream stream(&store, 2);
  const std::vector<std::vector<std::string>> stacks = {{"Thread.run", "A.a"},
                                                        {"Thread.run", "B.b", "C.c"}};
  int visits = 0;
  for (int i = 0; i < 5; ++i) {
    const auto& frames = stacks[i % 2];
    ASSERT_TRUE(stream
                    .Add("task", "seg", kNow + i, i, frames.size(),
                         [&](SnapshotStream::FrameVisitor visit) {
                           ++visits;
                           for (const std::string& frame : frames) visit(frame);
                         })
                    .ok());
  }
  EXPECT_EQ(visits, 5 + 2);  // each dump hashed, each distinct stack built once
  ASSERT_TRUE(stream.Flush().ok());
  std::vector<storage::StoredDump> dumps;
  ASSERT_TRUE(
      store.ScanDumps("seg", [&](const storage::StoredDump& d) { dumps.push_back(d); }).ok());
  ASSERT_EQ(dumps.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(dumps[i].dump_time_ms, kNow + i);
    EXPECT_EQ(*store.GetStack(dumps[i].stack_id), stacks[i % 2]);
  }
  EXPECT_THAT(*store.ListProfiledSegments("task"), ElementsAre("seg"));
}

}  // namespace
}  // namespace stackhouse::service
