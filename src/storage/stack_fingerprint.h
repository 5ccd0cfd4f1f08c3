#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/strings/string_view.h"

namespace stackhouse::storage {

// The 128-bit content fingerprint of a stack (a list of frame strings), the same in every
// process and build: `slot` is where the stack dictionary stores it (probing past collisions),
// `check` tells a hit from a collision in caches without reading the frames back.
struct StackFingerprint {
  uint64_t slot = 0;
  uint64_t check = 0;

  friend bool operator==(const StackFingerprint&, const StackFingerprint&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const StackFingerprint& f) {
    return H::combine(std::move(h), f.slot, f.check);
  }
};

// Computes StackFingerprints frame by frame, reading eight bytes at a time (two independent
// 64-bit lanes of multiply-fold mixing). A frame is hashed as its first byte (a tag) and the
// rest, so that a caller holding the tag and the rest apart (eBPF frames are 'k' or 'u' +
// symbol) gets the same fingerprint without building the frame string:
// AddFrame(f) == AddFrame(f[0], f.substr(1)). Frame boundaries and lengths are part of the
// hash, so ("ab", "c") and ("a", "bc") differ. Not thread-safe; cheap to create.
class StackHasher {
 public:
  void AddFrame(absl::string_view frame) {
    if (frame.empty()) {
      Add(kEmptyFrameTag, frame);
    } else {
      Add(static_cast<unsigned char>(frame[0]), frame.substr(1));
    }
  }
  void AddFrame(char tag, absl::string_view rest) { Add(static_cast<unsigned char>(tag), rest); }

  StackFingerprint Finish() const {
    return {Mix(a_ ^ kSecret[4], frames_ ^ kSecret[5]), Mix(b_ ^ kSecret[6], frames_ ^ kSecret[7])};
  }

  // The fingerprint of whole frame strings.
  static StackFingerprint Of(const std::vector<std::string>& frames) {
    StackHasher hasher;
    for (const std::string& frame : frames) hasher.AddFrame(frame);
    return hasher.Finish();
  }

 private:
  // Tags are bytes (0–255); an empty frame has no first byte.
  static constexpr uint64_t kEmptyFrameTag = 0x100;
  static constexpr uint64_t kSecret[8] = {
      0xa0761d6478bd642full, 0xe7037ed1a0b428dbull, 0x8ebc6af09c88c6e3ull, 0x589965cc75374cc3ull,
      0x1d8e4e27c47d124full, 0xd6e8feb86659fd93ull, 0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full};

  // The 128-bit product of a and b, folded to 64 bits.
  static uint64_t Mix(uint64_t a, uint64_t b) {
    const absl::uint128 r = absl::uint128(a) * b;
    return absl::Uint128Low64(r) ^ absl::Uint128High64(r);
  }
  static uint64_t Load64(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
    return v;
  }
  static uint64_t Load32(const char* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
    return v;
  }

  // One 16-byte step of a lane pair. The xor with the old state keeps the history when a
  // product is zero, but such a (crafted) block itself then does not count: the fingerprint
  // guards against accidents, not adversaries, so caches that must not be fooled by a crafted
  // stack also compare a per-process seeded hash (StackDictionary) or only serve one stream.
  void Step(uint64_t w0, uint64_t w1, uint64_t* a, uint64_t* b) {
    *a ^= Mix(w0 ^ *a ^ kSecret[0], w1 ^ kSecret[1]);
    *b ^= Mix(w1 ^ *b ^ kSecret[2], w0 ^ kSecret[3]);
  }

  void Add(uint64_t tag, absl::string_view rest) {
    const char* p = rest.data();
    size_t n = rest.size();
    uint64_t a = Mix(a_ ^ tag ^ kSecret[0], static_cast<uint64_t>(n) ^ kSecret[1]) ^ a_;
    uint64_t b = Mix(b_ ^ tag ^ kSecret[2], static_cast<uint64_t>(n) ^ kSecret[3]) ^ b_;
    for (; n >= 16; p += 16, n -= 16) Step(Load64(p), Load64(p + 8), &a, &b);
    // The last 1–15 bytes as two words that may overlap: with the length already hashed, every
    // byte lands in a word and equal words mean equal bytes.
    if (n >= 8) {
      Step(Load64(p), Load64(p + n - 8), &a, &b);
    } else if (n >= 4) {
      Step(Load32(p), Load32(p + n - 4), &a, &b);
    } else if (n > 0) {
      const auto byte = [p](size_t i) {
        return static_cast<uint64_t>(static_cast<unsigned char>(p[i]));
      };
      Step((byte(0) << 16) | (byte(n / 2) << 8) | byte(n - 1), 0, &a, &b);
    }
    a_ = a;
    b_ = b;
    ++frames_;
  }

  uint64_t a_ = kSecret[6];
  uint64_t b_ = kSecret[7];
  uint64_t frames_ = 0;
};

// A stack to resolve to its dictionary id: its fingerprint (StackHasher over `*frames`) and its
// frames.
struct PendingStack {
  StackFingerprint fingerprint;
  const std::vector<std::string>* frames = nullptr;
};

}  // namespace stackhouse::storage
