#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "model/ebpf.h"
#include "service/ebpf_service.h"
#include "storage/database.h"
#include "storage/rocks_ebpf_store.h"
#include "storage/rocks_metadata_store.h"
#include "storage/rocks_metric_store.h"

namespace stackhouse::bench {

// The stores of the network-profiling benchmarks, in a RocksDB under a temporary directory
// (removed again), on a simulated clock, with one pod's processes registered: `processes`
// K8S_SERVICE processes "proc-<i>" of instance shop-0 of service shop.default, then one
// VIRTUAL process per name of `virtual_names`. Aborts when the set-up fails (benchmarks only).
struct PodStores {
  static constexpr const char* kService = "shop.default";
  static constexpr const char* kInstance = "shop-0";

  PodStores(const std::string& name, int64_t start_ms, int processes,
            const std::vector<std::string>& virtual_names = {})
      : clock(start_ms) {
    dir = std::filesystem::temp_directory_path() / absl::StrCat("stackhouse-", name, "-", getpid());
    std::filesystem::remove_all(dir);
    storage::DatabaseOptions options;
    options.data_dir = dir.string();
    db = std::move(*storage::Database::Open(options, &clock));
    metric_store = std::move(*storage::RocksMetricStore::Open(db.get(), absl::UTCTimeZone()));
    ebpf_store = std::make_unique<storage::RocksEbpfStore>(db.get(), &clock);
    metadata = std::make_unique<storage::RocksMetadataStore>(db.get(), &clock);
    ebpf = std::move(*service::EbpfService::Create(ebpf_store.get(), metadata.get(), &clock, {}));
    std::vector<service::ReportedProcess> reported;
    for (int p = 0; p < processes; ++p) {
      service::ReportedProcess r;
      r.detect_type = model::DetectType::kKubernetes;
      r.layer = "K8S_SERVICE";
      r.service_name = kService;
      r.instance_name = kInstance;
      r.process_name = absl::StrCat("proc-", p);
      reported.push_back(r);
    }
    for (const std::string& virtual_name : virtual_names) {
      service::ReportedProcess r = reported.front();
      r.detect_type = model::DetectType::kVirtual;
      r.process_name = virtual_name;
      reported.push_back(r);
    }
    auto registered = ebpf->ReportProcesses("rover", reported);
    if (!registered.ok()) std::abort();
    ids = std::move(*registered);
  }
  ~PodStores() {
    ebpf.reset();
    metric_store.reset();
    ebpf_store.reset();
    metadata.reset();
    db.reset();
    std::filesystem::remove_all(dir);
  }

  SimulatedClock clock;
  std::filesystem::path dir;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<storage::RocksMetricStore> metric_store;
  std::unique_ptr<storage::RocksEbpfStore> ebpf_store;
  std::unique_ptr<storage::RocksMetadataStore> metadata;
  std::unique_ptr<service::EbpfService> ebpf;
  std::vector<std::string> ids;  // the registered processes' ids, in order
};

}  // namespace stackhouse::bench
