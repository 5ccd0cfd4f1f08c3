#include "export/gzip_writer.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace stackhouse::exporter {
namespace {

constexpr size_t kOutBytes = 64 * 1024;
constexpr int kGzipWindowBits = 15 + 16;  // the largest window, with a gzip header and trailer
constexpr int kMemLevel = 8;              // zlib's default

}  // namespace

struct GzipWriter::Stream {
  z_stream z{};
  bool initialized = false;
};

GzipWriter::GzipWriter(const ChunkSink& sink)
    : sink_(sink), stream_(std::make_unique<Stream>()), out_(kOutBytes, '\0') {
  const int rc = deflateInit2(&stream_->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits,
                              kMemLevel, Z_DEFAULT_STRATEGY);
  if (rc != Z_OK) {
    status_ = absl::InternalError(absl::StrCat("zlib deflateInit2 failed: ", rc));
  } else {
    stream_->initialized = true;
  }
}

GzipWriter::~GzipWriter() {
  if (stream_->initialized) deflateEnd(&stream_->z);
}

bool GzipWriter::Write(absl::string_view data) { return Deflate(data, Z_NO_FLUSH); }

bool GzipWriter::Finish() { return Deflate({}, Z_FINISH); }

bool GzipWriter::Deflate(absl::string_view data, int flush) {
  if (!status_.ok()) return false;
  z_stream& z = stream_->z;
  // zlib's avail_in is 32-bit: feed larger inputs in parts.
  constexpr size_t kMaxIn = std::numeric_limits<uInt>::max();
  do {
    const size_t part = std::min(data.size(), kMaxIn);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(part);
    const bool last = part == data.size();
    const int mode = last ? flush : Z_NO_FLUSH;
    int rc;
    do {
      z.next_out = reinterpret_cast<Bytef*>(out_.data());
      z.avail_out = static_cast<uInt>(out_.size());
      rc = deflate(&z, mode);
      if (rc == Z_STREAM_ERROR) {
        status_ = absl::InternalError("zlib deflate failed");
        return false;
      }
      const size_t produced = out_.size() - z.avail_out;
      if (produced > 0 && !sink_(absl::string_view(out_.data(), produced))) {
        status_ = absl::CancelledError("the receiver stopped reading");
        return false;
      }
      // Z_FINISH is done only when deflate says the stream ended.
    } while (z.avail_out == 0 || (mode == Z_FINISH && rc != Z_STREAM_END));
    data.remove_prefix(part);
  } while (!data.empty());
  return true;
}

}  // namespace stackhouse::exporter
