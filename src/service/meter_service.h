#pragma once

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "metrics/sampled_trace.h"
#include "model/meter.h"
#include "service/ebpf_service.h"
#include "storage/metadata_store.h"
#include "storage/metric_store.h"

namespace stackhouse::service {

// What one data set came to.
struct MeterIngestStats {
  int64_t samples = 0;          // samples in the data set
  int64_t ignored = 0;          // of meters no metric uses, or unusable (metrics::AnalyzeDataSet)
  int64_t unknown_process = 0;  // metric updates dropped: they name a process nobody registered
  int64_t updates = 0;          // metric row updates written
};

// Meters → metrics (addendum §2): analyzes a data set with the metric catalog, drops what names
// a process id that no Rover registered (an agent cannot write into relations of processes that
// do not exist), registers the VIRTUAL peers the relations name (in the reporting instance, with
// its layer) before anything refers to them, then writes the metric rows and relation rows.
// Thread-safe.
class MeterService {
 public:
  // A virtual process is re-registered (refreshing its last ping) at most this often.
  static constexpr int64_t kVirtualRefreshMs = 60'000;
  // How many virtual processes' registration times are remembered before starting over.
  static constexpr size_t kMaxRememberedVirtual = 100'000;

  // Dependencies must outlive the service.
  MeterService(storage::MetricStore* store, EbpfService* processes,
               const storage::MetadataStore* metadata, const Clock* clock)
      : store_(store), processes_(processes), metadata_(metadata), clock_(clock) {}

  // Stores what `data_set` contributes; durable once OK. On an error nothing of the data set's
  // metrics was written (virtual processes may have been registered).
  absl::StatusOr<MeterIngestStats> Ingest(const model::MeterDataSet& data_set)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Stores sampled requests (metrics::ParseSampledTrace) and their relation rows, after the
  // virtual peers they name; drops (and returns the number of) those naming a process id no
  // Rover registered. Durable once OK.
  absl::StatusOr<int64_t> AddSampledTraces(std::vector<metrics::SampledTrace> traces)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Registers `peers` (each in its reporting instance, with its layer) unless this service did
  // so within kVirtualRefreshMs.
  absl::Status RegisterVirtual(const std::vector<const metrics::VirtualProcess*>& peers,
                               int64_t now) ABSL_LOCKS_EXCLUDED(mu_);

  storage::MetricStore* const store_;
  EbpfService* const processes_;
  const storage::MetadataStore* const metadata_;
  const Clock* const clock_;
  absl::Mutex mu_;
  // Virtual process id → when this service last registered it.
  absl::flat_hash_map<std::string, int64_t> virtual_registered_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stackhouse::service
