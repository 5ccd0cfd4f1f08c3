#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "http/http_server.h"

namespace stackhouse::http {

// A single-page application's build directory (booster-ui's `dist/`) served read-only: a GET
// or HEAD of a file under the directory answers it with the content type of its extension;
// a missing asset (under /static/, or named with such an extension) is 404, and any other path
// answers index.html, so that the application's own routes (/dashboard/...) survive a reload. Paths
// that climb out of the directory, hidden files and symlinks leading outside are 404. Files are
// read at each request (an operator may rebuild the UI while the server runs). Thread-safe.
class StaticSite {
 public:
  // Files above this size are refused (500), so that a stray file cannot exhaust memory.
  static constexpr int64_t kMaxFileBytes = 64LL << 20;

  // `dir` must be a directory holding index.html; otherwise FailedPrecondition naming what is
  // missing.
  static absl::StatusOr<std::unique_ptr<StaticSite>> Open(const std::string& dir);

  HttpResponse Serve(const HttpRequest& request) const;

  const std::string& root() const { return root_; }

 private:
  explicit StaticSite(std::string root) : root_(std::move(root)) {}

  // The file answering `path`, as an absolute path inside root_, or "" for none.
  std::string Resolve(const std::string& path) const;

  const std::string root_;  // canonical, without a trailing slash
};

// The Content-Type of a file name, by extension ("application/octet-stream" when unknown).
std::string ContentTypeOf(const std::string& file_name);

}  // namespace stackhouse::http
