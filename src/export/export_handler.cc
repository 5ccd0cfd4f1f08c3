#include "export/export_handler.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "export/profile_writers.h"

namespace stackhouse::exporter {
namespace {

using http::HttpResponse;
using http::StreamingHttpResponse;

enum class Format { kPprof, kFolded, kSpeedscope };

struct FormatInfo {
  Format format;
  const char* name;
  const char* content_type;
  const char* extension;
};

constexpr FormatInfo kFormats[] = {
    {Format::kPprof, "pprof", "application/octet-stream", "pb.gz"},
    {Format::kFolded, "folded", "text/plain; charset=utf-8", "folded"},
    {Format::kSpeedscope, "speedscope", "application/json", "speedscope.json"},
};
constexpr char kFormatList[] = "pprof, folded, speedscope";

StreamingHttpResponse Error(int status, absl::string_view message) {
  return StreamingHttpResponse{
      HttpResponse{status, "text/plain; charset=utf-8", absl::StrCat(message, "\n"), {}}, nullptr};
}

// The HTTP status for a failed load or parse.
int HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    default:
      return 500;
  }
}

std::vector<std::string> Params(const http::HttpRequest& request, const std::string& name) {
  std::vector<std::string> values;
  auto [begin, end] = request.params.equal_range(name);
  for (auto it = begin; it != end; ++it) values.push_back(it->second);
  return values;
}

absl::StatusOr<std::vector<int64_t>> Millis(const http::HttpRequest& request,
                                            const std::string& name) {
  std::vector<int64_t> out;
  for (const std::string& text : Params(request, name)) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(text, &value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "parameter ", name, " must be an integer (milliseconds), got \"", text, "\""));
    }
    out.push_back(value);
  }
  return out;
}

absl::StatusOr<profile::ProfileSelection> TraceSelectionOf(const http::HttpRequest& request) {
  std::vector<std::string> segments = Params(request, "segmentId");
  absl::StatusOr<std::vector<int64_t>> starts = Millis(request, "start");
  if (!starts.ok()) return starts.status();
  absl::StatusOr<std::vector<int64_t>> ends = Millis(request, "end");
  if (!ends.ok()) return ends.status();
  if (segments.empty()) return absl::InvalidArgumentError("missing parameter segmentId");
  if (starts->size() != segments.size() || ends->size() != segments.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("each segmentId needs its own start and end: got ", segments.size(),
                     " segmentId, ", starts->size(), " start, ", ends->size(), " end"));
  }
  profile::TraceSelection selection;
  for (size_t i = 0; i < segments.size(); ++i) {
    selection.queries.push_back({segments[i], (*starts)[i], (*ends)[i]});
  }
  return selection;
}

absl::StatusOr<profile::ProfileSelection> EbpfSelectionOf(const http::HttpRequest& request) {
  profile::EbpfSelection selection;
  selection.schedule_ids = Params(request, "scheduleId");
  absl::StatusOr<std::vector<int64_t>> starts = Millis(request, "start");
  if (!starts.ok()) return starts.status();
  absl::StatusOr<std::vector<int64_t>> ends = Millis(request, "end");
  if (!ends.ok()) return ends.status();
  if (selection.schedule_ids.empty()) {
    return absl::InvalidArgumentError("missing parameter scheduleId");
  }
  if (starts->empty() || starts->size() != ends->size()) {
    return absl::InvalidArgumentError(absl::StrCat("each time range needs a start and an end: got ",
                                                   starts->size(), " start, ", ends->size(),
                                                   " end"));
  }
  for (size_t i = 0; i < starts->size(); ++i) {
    selection.ranges.push_back({(*starts)[i], (*ends)[i]});
  }
  std::vector<std::string> aggregate = Params(request, "aggregateType");
  if (aggregate.size() > 1) {
    return absl::InvalidArgumentError("parameter aggregateType is given more than once");
  }
  if (!aggregate.empty() && aggregate[0] != "COUNT" && aggregate[0] != "DURATION") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown aggregateType \"", aggregate[0], "\"; use COUNT or DURATION"));
  }
  selection.by_duration = !aggregate.empty() && aggregate[0] == "DURATION";
  return selection;
}

}  // namespace

StreamingHttpResponse ExportHandler::Trace(const http::HttpRequest& request) const {
  return Export(request, "trace", TraceSelectionOf(request));
}

StreamingHttpResponse ExportHandler::Ebpf(const http::HttpRequest& request) const {
  return Export(request, "ebpf", EbpfSelectionOf(request));
}

StreamingHttpResponse ExportHandler::Export(
    const http::HttpRequest& request, absl::string_view kind,
    const absl::StatusOr<profile::ProfileSelection>& selection) const {
  if (request.method != "GET") {
    return StreamingHttpResponse{
        HttpResponse{405, "text/plain; charset=utf-8", "Method Not Allowed\n", {{"Allow", "GET"}}},
        nullptr};
  }
  std::vector<std::string> formats = Params(request, "format");
  if (formats.size() != 1) {
    return Error(400, absl::StrCat(formats.empty() ? "missing parameter format"
                                                   : "parameter format is given more than once",
                                   "; use one of: ", kFormatList));
  }
  std::optional<FormatInfo> format;
  for (const FormatInfo& f : kFormats) {
    if (formats[0] == f.name) format = f;
  }
  if (!format) {
    return Error(400,
                 absl::StrCat("unknown format \"", formats[0], "\"; use one of: ", kFormatList));
  }
  if (!selection.ok()) return Error(400, selection.status().message());
  absl::StatusOr<std::unique_ptr<const analysis::FlameGraph>> loaded =
      profile::LoadFlameGraph(sources_, *selection);
  if (!loaded.ok()) {
    const int status = HttpStatusOf(loaded.status());
    if (status == 500) {
      GetLogger("export")->error("exporting a {} profile: {}", kind, loaded.status().ToString());
    }
    return Error(status, loaded.status().message());
  }
  std::shared_ptr<const analysis::FlameGraph> graph = std::move(*loaded);
  StreamingHttpResponse response;
  response.head.content_type = format->content_type;
  response.head.headers.emplace_back(
      "Content-Disposition",
      absl::StrCat("attachment; filename=\"stackhouse-", kind, ".", format->extension, "\""));
  response.body = [graph, format = format->format](const http::BodyWriter& write) {
    absl::Status status;
    switch (format) {
      case Format::kPprof:
        status = WritePprof(*graph, write);
        break;
      case Format::kFolded:
        status = WriteFolded(*graph, write);
        break;
      case Format::kSpeedscope:
        status =
            WriteSpeedscope(*graph, absl::StrCat("stackhouse ", graph->kind(), " profile"), write);
        break;
    }
    if (!status.ok() && !absl::IsCancelled(status)) {
      GetLogger("export")->error("writing an export: {}", status.ToString());
    }
    return status.ok();
  };
  return response;
}

}  // namespace stackhouse::exporter
