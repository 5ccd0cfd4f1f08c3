#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "export/chunk_writer.h"

namespace stackhouse::exporter {

// Compresses a stream into the gzip format (RFC 1952, zlib's deflate) and passes the compressed
// bytes to a sink as they come. Not thread-safe.
class GzipWriter {
 public:
  // `sink` must outlive the writer.
  explicit GzipWriter(const ChunkSink& sink);
  ~GzipWriter();

  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  // Compresses `data`. False once the sink has refused output or zlib failed (see status()).
  bool Write(absl::string_view data);

  // Ends the gzip stream (its trailer). False as for Write.
  bool Finish();

  // OK, Cancelled when the sink refused output, Internal on a zlib error.
  const absl::Status& status() const { return status_; }

 private:
  bool Deflate(absl::string_view data, int flush);

  struct Stream;
  const ChunkSink& sink_;
  std::unique_ptr<Stream> stream_;
  std::string out_;
  absl::Status status_;
};

}  // namespace stackhouse::exporter
