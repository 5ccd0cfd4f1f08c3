#include "http/static_site.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace stackhouse::http {
namespace {

namespace fs = std::filesystem;

HttpResponse NotFound() { return {404, "text/plain; charset=utf-8", "Not Found\n", {}}; }

// The client asked for an asset (under /static/, or with the extension of a type we serve),
// not an application route; route segments may hold dots (service ids, dashboard names).
bool LooksLikeAsset(const std::string& path) {
  if (path.rfind("/static/", 0) == 0) return true;
  const size_t slash = path.rfind('/');
  return ContentTypeOf(path.substr(slash == std::string::npos ? 0 : slash + 1)) !=
         "application/octet-stream";
}

}  // namespace

std::string ContentTypeOf(const std::string& file_name) {
  const size_t dot = file_name.rfind('.');
  const std::string ext =
      dot == std::string::npos ? "" : absl::AsciiStrToLower(file_name.substr(dot + 1));
  static const std::pair<const char*, const char*> kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"ico", "image/x-icon"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"txt", "text/plain; charset=utf-8"},
      {"wasm", "application/wasm"},
  };
  for (const auto& [e, type] : kTypes) {
    if (ext == e) return type;
  }
  return "application/octet-stream";
}

absl::StatusOr<std::unique_ptr<StaticSite>> StaticSite::Open(const std::string& dir) {
  std::error_code ec;
  fs::path root = fs::canonical(dir, ec);
  if (ec || !fs::is_directory(root, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("UI directory ", dir, " is not a readable directory"));
  }
  if (!fs::is_regular_file(root / "index.html", ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("UI directory ", dir,
                     " has no index.html (point it at booster-ui's dist/ after "
                     "`npm run build`)"));
  }
  return std::unique_ptr<StaticSite>(new StaticSite(root.string()));
}

std::string StaticSite::Resolve(const std::string& path) const {
  // Reject what could climb out or name hidden files before touching the file system.
  for (absl::string_view segment : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (segment.front() == '.' || segment.find('\\') != absl::string_view::npos ||
        segment.find('\0') != absl::string_view::npos) {
      return "";
    }
  }
  std::error_code ec;
  fs::path file = fs::weakly_canonical(fs::path(root_) / fs::path(path).relative_path(), ec);
  if (ec) return "";
  const std::string resolved = file.string();
  if (resolved.size() <= root_.size() || resolved.compare(0, root_.size(), root_) != 0 ||
      resolved[root_.size()] != '/') {
    return "";  // a symlink out of the directory
  }
  if (!fs::is_regular_file(file, ec)) return "";
  return resolved;
}

HttpResponse StaticSite::Serve(const HttpRequest& request) const {
  if (request.method != "GET" && request.method != "HEAD") return MethodNotAllowed();
  for (absl::string_view segment : absl::StrSplit(request.path, '/', absl::SkipEmpty())) {
    if (segment.front() == '.') return NotFound();  // hidden, or climbing out
  }
  std::string file = request.path == "/" ? "" : Resolve(request.path);
  if (file.empty()) {
    if (request.path != "/" && LooksLikeAsset(request.path)) return NotFound();
    file = root_ + "/index.html";
  }
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return NotFound();
  if (size > static_cast<uintmax_t>(kMaxFileBytes)) {
    return {500,
            "text/plain; charset=utf-8",
            absl::StrCat("file larger than ", kMaxFileBytes, " bytes\n"),
            {}};
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in) return NotFound();
  HttpResponse response{200, ContentTypeOf(file), content.str(), {}};
  // booster-ui's assets carry a content hash in their names; index.html must be re-read.
  const bool hashed = request.path.rfind("/static/", 0) == 0;
  response.headers.emplace_back("Cache-Control",
                                hashed ? "public, max-age=31536000, immutable" : "no-cache");
  return response;
}

}  // namespace stackhouse::http
