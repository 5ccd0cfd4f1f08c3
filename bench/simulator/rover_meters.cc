#include "simulator/rover_meters.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "simulator/java_app_model.h"
#include "simulator/modes.h"

namespace stackhouse::sim {
namespace {

namespace v3 = skywalking::v3;
using Labels = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kNetPrefix = "rover_net_p_";
constexpr int64_t kRoverInterval = 5000;

double Round2(double v) { return std::round(v * 100) / 100; }

void AddLabels(const Labels& labels, google::protobuf::RepeatedPtrField<v3::Label>* out) {
  for (const auto& [name, value] : labels) {
    v3::Label* label = out->Add();
    label->set_name(name);
    label->set_value(value);
  }
}

void AddSingle(v3::MeterDataCollection* out, std::string name, const Labels& labels, double value) {
  v3::MeterSingleValue* single = out->add_meterdata()->mutable_singlevalue();
  single->set_name(std::move(name));
  AddLabels(labels, single->mutable_labels());
  single->set_value(value);
}

void AddHistogram(v3::MeterDataCollection* out, std::string name, const Labels& labels,
                  const std::vector<double>& bounds, const std::vector<int64_t>& counts) {
  v3::MeterHistogram* histogram = out->add_meterdata()->mutable_histogram();
  histogram->set_name(std::move(name));
  AddLabels(labels, histogram->mutable_labels());
  for (size_t i = 0; i < bounds.size(); ++i) {
    v3::MeterBucketValue* bucket = histogram->add_values();
    bucket->set_bucket(bounds[i]);
    bucket->set_count(counts[i]);
  }
}

// `n` operations whose values are log-normal around `median` (spread `sigma`): their mean and
// their per-bucket counts over `bounds`. `whole` rounds each value down first (Rover's ms).
struct Observed {
  double mean = 0;
  std::vector<int64_t> counts;
};

Observed Observe(Rng& rng, int64_t n, double median, double sigma,
                 const std::vector<double>& bounds, bool whole = false) {
  Observed out;
  out.counts.assign(bounds.size(), 0);
  std::lognormal_distribution<double> dist(std::log(median), sigma);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    double v = dist(rng);
    if (whole) v = std::floor(v);
    sum += v;
    ++out.counts[BucketIndex(bounds, v)];
  }
  out.mean = n > 0 ? std::round(sum / static_cast<double>(n)) : 0;
  return out;
}

int64_t Scaled(Rng& rng, int64_t lo, int64_t hi, double scale) {
  int64_t v = std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  return std::max<int64_t>(1, std::llround(static_cast<double>(v) * scale));
}

double Uniform(Rng& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

// The labels Rover's BuildBasicMeterLabels gives a connection of `self`.
Labels ConnectionLabels(const MeterProcess& self, const MeterConnection& c) {
  const std::string role = c.client ? "client" : "server";
  const std::string remote = c.client ? "server" : "client";
  Labels labels = {{role + "_process_id", self.id}};
  switch (c.peer) {
    case PeerKind::kProcess:
      labels.emplace_back(remote + "_process_id", c.peer_value);
      break;
    case PeerKind::kLocal:
      labels.emplace_back(remote + "_local", "true");
      break;
    case PeerKind::kRemote:
      labels.emplace_back(remote + "_address", c.peer_value);
      break;
  }
  labels.emplace_back("side", role);
  labels.emplace_back("protocol", c.http ? "http" : "tcp");
  labels.emplace_back("is_ssl", c.ssl ? "true" : "false");
  return labels;
}

void AddLayer4(v3::MeterDataCollection* out, const Labels& labels, const std::string& side,
               Rng& rng, double scale) {
  const std::string p = absl::StrCat(kNetPrefix, side, "_");
  const int64_t writes = Scaled(rng, 20, 400, scale);
  const int64_t reads = Scaled(rng, 20, 400, scale);
  const Observed write_exe =
      Observe(rng, writes, Uniform(rng, 5'000, 100'000), 0.8, SocketBucketsNs());
  const Observed read_exe =
      Observe(rng, reads, Uniform(rng, 5'000, 200'000), 0.8, SocketBucketsNs());
  const Observed rtt = Observe(rng, writes, Uniform(rng, 100, 2'000), 0.6, SocketBucketsUs());
  AddSingle(out, p + "write_counts_counter", labels, static_cast<double>(writes));
  AddSingle(out, p + "write_bytes_counter", labels,
            static_cast<double>(writes * std::uniform_int_distribution<int64_t>(100, 4000)(rng)));
  AddSingle(out, p + "write_exe_time_counter", labels, write_exe.mean);
  AddSingle(out, p + "read_counts_counter", labels, static_cast<double>(reads));
  AddSingle(out, p + "read_bytes_counter", labels,
            static_cast<double>(reads * std::uniform_int_distribution<int64_t>(100, 8000)(rng)));
  AddSingle(out, p + "read_exe_time_counter", labels, read_exe.mean);
  AddSingle(out, p + "write_rtt_exe_time_counter", labels, rtt.mean);
  const int64_t connects = std::uniform_int_distribution<int64_t>(0, 3)(rng);
  if (connects > 0) {
    AddSingle(out, p + "connect_counts_counter", labels, static_cast<double>(connects));
    AddSingle(out, p + "connect_exe_time_counter", labels,
              Observe(rng, connects, 50'000, 0.5, SocketBucketsNs()).mean);
  }
  const int64_t closes = std::uniform_int_distribution<int64_t>(0, 3)(rng);
  if (closes > 0) {
    AddSingle(out, p + "close_counts_counter", labels, static_cast<double>(closes));
    AddSingle(out, p + "close_exe_time_counter", labels,
              Observe(rng, closes, 20'000, 0.5, SocketBucketsNs()).mean);
  }
  if (const int64_t retransmits = std::uniform_int_distribution<int64_t>(-3, 2)(rng);
      retransmits > 0) {
    AddSingle(out, p + "retransmit_counts_counter", labels, static_cast<double>(retransmits));
  }
  if (std::uniform_int_distribution<int>(0, 9)(rng) == 0) {
    AddSingle(out, p + "drop_counts_counter", labels, 1);
  }
  AddHistogram(out, p + "write_rtt_histogram", labels, SocketBucketsUs(), rtt.counts);
  AddHistogram(out, p + "write_exe_time_histogram", labels, SocketBucketsNs(), write_exe.counts);
  AddHistogram(out, p + "read_exe_time_histogram", labels, SocketBucketsNs(), read_exe.counts);
}

void AddHttp1(v3::MeterDataCollection* out, const Labels& labels, const std::string& side, Rng& rng,
              double scale) {
  const std::string p = absl::StrCat(kNetPrefix, "http1_");
  const int64_t requests = Scaled(rng, 10, 200, scale);
  const Observed duration =
      Observe(rng, requests, Uniform(rng, 5, 200), 0.7, HttpDurationBuckets(), /*whole=*/true);
  AddSingle(out, p + side + "_duration_avg", labels, duration.mean);
  AddHistogram(out, p + side + "_duration_histogram", labels, HttpDurationBuckets(),
               duration.counts);
  AddSingle(out, p + "request_counter", labels, static_cast<double>(requests));
  std::map<int, int64_t> codes;
  std::discrete_distribution<int> code_of({90, 5, 3, 2});
  constexpr int kCodes[] = {200, 404, 500, 503};
  for (int64_t i = 0; i < requests; ++i) ++codes[kCodes[code_of(rng)]];
  for (const auto& [code, count] : codes) {
    Labels with_code = labels;
    with_code.emplace_back("code", absl::StrCat(code));
    AddSingle(out, p + "response_status_counter", with_code, static_cast<double>(count));
  }
  const Observed request_size =
      Observe(rng, requests, Uniform(rng, 200, 1'500), 0.5, HttpPackageSizeBuckets(), true);
  const Observed response_size =
      Observe(rng, requests, Uniform(rng, 500, 20'000), 0.9, HttpPackageSizeBuckets(), true);
  AddSingle(out, p + "request_package_size_avg", labels, request_size.mean);
  AddSingle(out, p + "response_package_size_avg", labels, response_size.mean);
  AddHistogram(out, p + "request_package_size_histogram", labels, HttpPackageSizeBuckets(),
               request_size.counts);
  AddHistogram(out, p + "response_package_size_histogram", labels, HttpPackageSizeBuckets(),
               response_size.counts);
}

}  // namespace

const std::vector<double>& SocketBucketsNs() {
  static const std::vector<double> kBounds = {
      0,         10000,     50000,      100000,     500000,     1000000,   1200000,
      1500000,   1700000,   2000000,    2500000,    3000000,    5000000,   7000000,
      10000000,  13000000,  16000000,   20000000,   25000000,   30000000,  35000000,
      40000000,  45000000,  50000000,   70000000,   100000000,  150000000, 200000000,
      300000000, 500000000, 1000000000, 2000000000, 3000000000, 5000000000};
  return kBounds;
}

const std::vector<double>& SocketBucketsUs() {
  static const std::vector<double> kBounds = [] {
    std::vector<double> us;
    for (double ns : SocketBucketsNs()) us.push_back(ns / 1000);
    return us;
  }();
  return kBounds;
}

const std::vector<double>& HttpPackageSizeBuckets() {
  static const std::vector<double> kBounds = {
      256,     512,     1048,    1536,    2048,     3072,     5120,    8192,   10240,
      15360,   20480,   35840,   51200,   76800,    102400,   204800,  512000, 819200,
      1048576, 1572864, 2097152, 5242880, 10485760, 20971520, 52428800};
  return kBounds;
}

const std::vector<double>& HttpDurationBuckets() {
  static const std::vector<double> kBounds = {
      1,   2,   5,   10,  15,  20,  25,   30,   40,   45,   50,   60,   65,  70,
      80,  90,  100, 110, 130, 150, 170,  200,  230,  260,  290,  330,  380, 430,
      480, 500, 600, 700, 800, 900, 1000, 1100, 1300, 1500, 1800, 2000, 5000};
  return kBounds;
}

size_t BucketIndex(const std::vector<double>& bounds, double value) {
  // The first bound above `value`; the bucket is the one before it (at least the first).
  auto above = std::upper_bound(bounds.begin(), bounds.end(), value);
  size_t index = static_cast<size_t>(above - bounds.begin());
  return index == 0 ? 0 : index - 1;
}

std::vector<MeterConnection> ConnectionsOf(const std::vector<MeterProcess>& processes, size_t index,
                                           const ConnectionShape& shape) {
  const MeterProcess& self = processes[index];
  std::vector<MeterConnection> out;
  std::vector<size_t> pod;  // indexes of the processes of self's instance, self included
  for (size_t j = 0; j < processes.size(); ++j) {
    const MeterProcess& other = processes[j];
    if (other.service == self.service && other.instance == self.instance) pod.push_back(j);
  }
  const size_t at = static_cast<size_t>(std::find(pod.begin(), pod.end(), index) - pod.begin());
  for (size_t n = 0; n < pod.size(); ++n) {
    const size_t j = pod[n];
    if (j == index) continue;
    if (shape.chain && n + 1 != at && n != at + 1) continue;
    MeterConnection c;
    c.client = index < j;
    c.peer = PeerKind::kProcess;
    c.peer_value = processes[j].id;
    out.push_back(std::move(c));
  }
  MeterConnection local;
  local.client = false;
  local.peer = PeerKind::kLocal;
  out.push_back(std::move(local));

  const uint64_t k = self.key;
  for (int r = 0; r < shape.remote_peers; ++r) {
    MeterConnection remote;
    remote.client = true;
    if (r == 0) {
      remote.ssl = k % 2 == 1;
      remote.peer_value =
          absl::StrCat("10.96.", (k / 250) % 256, ".", k % 250 + 1, ":", remote.ssl ? 443 : 8080);
    } else if (r == 1) {
      remote.http = false;
      remote.peer_value = absl::StrCat("10.97.", (k / 250) % 256, ".", k % 250 + 1, ":3306");
    } else {
      remote.http = r % 2 == 0;
      remote.peer_value = absl::StrCat("10.", 98 + r / 250, ".", r % 250, ".", k % 250 + 1, ":",
                                       remote.http ? 8080 : 5432);
    }
    out.push_back(std::move(remote));
  }
  return out;
}

RoverMeterModel::RoverMeterModel(uint64_t seed, int64_t interval_ms, std::vector<std::string> uris,
                                 ConnectionShape shape)
    : seed_(seed), interval_ms_(interval_ms), uris_(std::move(uris)), shape_(shape) {}

v3::MeterDataCollection RoverMeterModel::Report(const std::vector<MeterProcess>& processes,
                                                size_t index, int64_t round,
                                                int64_t timestamp_ms) const {
  const MeterProcess& self = processes[index];
  const double scale = static_cast<double>(interval_ms_) / kRoverInterval;
  const uint64_t process_seed = DeriveSeed(seed_, self.key);
  const uint64_t round_seed = DeriveSeed(process_seed, static_cast<uint64_t>(round));
  v3::MeterDataCollection out;

  // Continuous profiling: a per-process level, moved a little every round.
  Rng base(process_seed);
  Rng rng(DeriveSeed(round_seed, 0));
  Rng node(DeriveSeed(DeriveSeed(seed_, ~0ull), static_cast<uint64_t>(round)));
  const Labels process_labels = {{"process_name", self.process_name}, {"layer", self.layer}};
  const double cpu = Uniform(base, 5, 90);
  const double threads = static_cast<double>(std::uniform_int_distribution<int>(20, 300)(base));
  AddSingle(&out, "rover_con_p_process_cpu", process_labels,
            Round2(std::max(0.1, cpu + Uniform(rng, -5, 5))));
  AddSingle(&out, "rover_con_p_process_thread_count", process_labels,
            threads + static_cast<double>(std::uniform_int_distribution<int>(-3, 3)(rng)));
  AddSingle(&out, "rover_con_p_system_load", process_labels, Round2(Uniform(node, 0.2, 4)));
  for (const std::string& uri : uris_) {
    Labels labels = process_labels;
    labels.emplace_back("uri", uri);
    AddSingle(&out, "rover_con_p_http_error_rate", labels, Round2(Uniform(rng, 0, 5)));
    AddSingle(&out, "rover_con_p_http_avg_response_time", labels,
              std::round(Uniform(rng, 5, 500) * 10) / 10);
  }

  // Network profiling, per connection.
  std::vector<MeterConnection> connections = ConnectionsOf(processes, index, shape_);
  for (size_t c = 0; c < connections.size(); ++c) {
    Rng conn(DeriveSeed(round_seed, c + 1));
    const Labels labels = ConnectionLabels(self, connections[c]);
    const std::string side = connections[c].client ? "client" : "server";
    AddLayer4(&out, labels, side, conn, scale);
    if (connections[c].http) AddHttp1(&out, labels, side, conn, scale);
  }

  v3::MeterData* first = out.mutable_meterdata(0);
  first->set_service(self.service);
  first->set_serviceinstance(self.instance);
  first->set_timestamp(timestamp_ms);
  return out;
}

}  // namespace stackhouse::sim
