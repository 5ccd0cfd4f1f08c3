#pragma once

#include "http/http_server.h"
#include "profile/profile_selection.h"

namespace stackhouse::exporter {

// The profile downloads of the HTTP port (docs/architecture.md, "Exports and diff"):
//   GET /export/trace?format=F&segmentId=S&start=MS&end=MS[&segmentId=..&start=..&end=..]
//   GET /export/ebpf?format=F&scheduleId=A[&scheduleId=..]&start=MS&end=MS[&start=..&end=..]
//       [&aggregateType=COUNT|DURATION]
// with F one of pprof, folded, speedscope. The i-th segmentId, start and end form the i-th
// trace query; every eBPF time range applies to every schedule. Times are milliseconds, both
// ends inclusive. A good request is answered 200 with `Content-Disposition: attachment;
// filename="stackhouse-<trace|ebpf>.<pb.gz|folded|speedscope.json>"` and the body streamed
// while it is encoded; a bad one with a plain-text message: 400 (unknown format, missing or
// mismatched parameters, a range with start > end, mixed On/Off-CPU schedules), 404 ("no
// profiling data for ..."), 405 (not GET), 500 (storage failure).
// Thread-safe; the stores of `sources` must outlive the handler and its responses.
class ExportHandler {
 public:
  explicit ExportHandler(const profile::ProfileSources& sources) : sources_(sources) {}

  http::StreamingHttpResponse Trace(const http::HttpRequest& request) const;
  http::StreamingHttpResponse Ebpf(const http::HttpRequest& request) const;

 private:
  // Loads `selection` and answers with it in the requested format.
  http::StreamingHttpResponse Export(
      const http::HttpRequest& request, absl::string_view kind,
      const absl::StatusOr<profile::ProfileSelection>& selection) const;

  const profile::ProfileSources sources_;
};

}  // namespace stackhouse::exporter
