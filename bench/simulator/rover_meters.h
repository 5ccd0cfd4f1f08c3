#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "language-agent/Meter.pb.h"

namespace stackhouse::sim {

// One process whose meters the simulated Rover reports: its server-assigned id and entity.
struct MeterProcess {
  uint64_t key = 0;  // stable per process for the whole run (seeds its values)
  std::string id;    // process id the server answered
  std::string service;
  std::string instance;
  std::string process_name;
  std::string layer;
};

// Who is at the other end of a connection, as Rover labels it
// (pkg/profiling/task/network/analyze/base/metrics.go, appendRemoteAddressInfo).
enum class PeerKind {
  kProcess,  // a profiled process of the same service instance: `<role>_process_id`
  kLocal,    // a local address: `<role>_local=true` (the server makes it UNKNOWN_LOCAL)
  kRemote,   // anything else: `<role>_address=ip:port` (UNKNOWN_REMOTE without k8s metadata)
};

// One connection network profiling follows, seen from the reporting process.
struct MeterConnection {
  bool client = true;  // the reporting process's role ("side")
  PeerKind peer = PeerKind::kRemote;
  std::string peer_value;  // kProcess: its id; kRemote: "ip:port"; kLocal: ""
  bool http = true;        // protocol "http" (with the http1_* meters), else "tcp"
  bool ssl = false;
};

// Rover's histogram bounds (lower bounds, ascending): layer 4 execute times in ns and RTT in µs
// (SocketHistogramBucketsNs/Us), HTTP/1 package sizes in bytes and durations in ms.
const std::vector<double>& SocketBucketsNs();
const std::vector<double>& SocketBucketsUs();
const std::vector<double>& HttpPackageSizeBuckets();
const std::vector<double>& HttpDurationBuckets();

// The index of the bucket of `value` among `bounds`: the last bound <= value, and the first
// bucket for a value below the second bound (Rover's rule).
size_t BucketIndex(const std::vector<double>& bounds, double value);

// How many connections each process has (the defaults: a pod of a few processes).
struct ConnectionShape {
  // Remote addresses each process is a client of: the first is an HTTP service (TLS for odd
  // keys), the second a TCP database, the others alternately HTTP and TCP services.
  int remote_peers = 2;
  // Connect each process only to the next one of its instance (as client) and the previous one
  // (as server), instead of to every other process: a large pod of chained processes.
  bool chain = false;
};

// The connections of `processes[index]`: to every other process of its service instance (a
// lower index is the client, by process id, so both ends report the same connection; with
// `shape.chain`, to its two neighbours only), one server connection from a local peer (http)
// and client connections to `shape.remote_peers` remote addresses.
std::vector<MeterConnection> ConnectionsOf(const std::vector<MeterProcess>& processes, size_t index,
                                           const ConnectionShape& shape = {});

// The meters SkyWalking Rover reports for one process every check/report interval, with values
// drawn deterministically from (seed, process key, round): continuous-profiling meters
// (rover_con_p_*: process CPU %, thread count, system load, HTTP error rate % and average
// response time ms per URI; labels process_name, layer[, uri]; addendum §2.3) and, per
// connection of ConnectionsOf, network-profiling meters (rover_net_p_<side>_* counters and
// histograms, and for HTTP connections rover_net_p_http1_*; labels in Rover's order
// `<role>_process_id`, the peer's label, side, protocol, is_ssl[, code]; addendum §2.2).
// Counters of connect/close/retransmit/drop are sent only when non-zero, as Rover does; every
// histogram carries all its buckets, per-bucket counts keyed by lower bound, whose total equals
// the operations of its counter (writes, reads, requests). Thread-safe (immutable).
class RoverMeterModel {
 public:
  // `interval_ms` scales the counts (a report covers that long); `uris` are the continuous
  // HTTP URIs (policy items: a fixed URI, a regex or "global").
  RoverMeterModel(uint64_t seed, int64_t interval_ms,
                  std::vector<std::string> uris = {"/reviews", "global"},
                  ConnectionShape shape = {});

  // The data set of `processes[index]` for report number `round`: one MeterDataCollection
  // whose first element carries the process's service, instance and `timestamp_ms`.
  skywalking::v3::MeterDataCollection Report(const std::vector<MeterProcess>& processes,
                                             size_t index, int64_t round,
                                             int64_t timestamp_ms) const;

 private:
  uint64_t seed_;
  int64_t interval_ms_;
  std::vector<std::string> uris_;
  ConnectionShape shape_;
};

}  // namespace stackhouse::sim
