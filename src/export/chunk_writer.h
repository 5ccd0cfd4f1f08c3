#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "absl/strings/string_view.h"

namespace stackhouse::exporter {

// Receives consecutive pieces of an output; false once it cannot take more (e.g. the client is
// gone), after which the producer should stop. The same signature as http::BodyWriter.
using ChunkSink = std::function<bool(absl::string_view chunk)>;

// Gathers an output in a buffer and hands it to a sink in chunks of about `chunk_bytes`, so an
// encoder can append small pieces without holding the whole output. Not thread-safe.
class ChunkWriter {
 public:
  static constexpr size_t kDefaultChunkBytes = 64 * 1024;

  // `sink` must outlive the writer.
  explicit ChunkWriter(const ChunkSink& sink, size_t chunk_bytes = kDefaultChunkBytes)
      : sink_(sink), chunk_bytes_(chunk_bytes) {}

  // Where to append output. Stays valid for the writer's lifetime.
  std::string* buffer() { return &buffer_; }

  // Sends the buffer if it holds at least `chunk_bytes`. False once the sink has refused a chunk
  // (what was buffered is then dropped).
  bool MaybeFlush() { return buffer_.size() < chunk_bytes_ ? ok_ : Flush(); }

  // Sends everything buffered. False once the sink has refused a chunk.
  bool Flush() {
    if (ok_ && !buffer_.empty()) ok_ = sink_(buffer_);
    buffer_.clear();
    return ok_;
  }

 private:
  const ChunkSink& sink_;
  const size_t chunk_bytes_;
  std::string buffer_;
  bool ok_ = true;
};

}  // namespace stackhouse::exporter
