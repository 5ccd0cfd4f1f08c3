#include "simulator/modes.h"

#include <cstdio>
#include <random>

#include "common/logging.h"

namespace stackhouse::sim {

void AddCommonFlags(FlagSet* flags, CommonFlags* common) {
  flags->AddString("target", &common->target, "server gRPC address host:port");
  flags->AddString("token", &common->token,
                   "sent as gRPC metadata `authentication` when non-empty");
  flags->AddInt("seed", &common->seed, "random seed; 0 = a random one");
  flags->AddString("log-level", &common->log_level,
                   "trace, debug, info, warn, error, critical or off (logs go to stderr)");
}

int ParseModeFlags(FlagSet* flags, const CommonFlags& common,
                   const std::vector<std::string>& args) {
  if (absl::Status s = flags->Parse(args); !s.ok()) {
    std::fprintf(stderr, "stackhouse-sim: %s\n\n%s", std::string(s.message()).c_str(),
                 flags->Usage().c_str());
    return 2;
  }
  if (flags->help_requested()) {
    std::fputs(flags->Usage().c_str(), stdout);
    return 0;
  }
  if (absl::Status s = SetLogLevel(common.log_level); !s.ok()) {
    std::fprintf(stderr, "stackhouse-sim: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  return -1;
}

uint64_t EffectiveSeed(int64_t seed) {
  if (seed != 0) return static_cast<uint64_t>(seed);
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) | device();
}

uint64_t DeriveSeed(uint64_t seed, uint64_t index) {
  uint64_t z = seed + (index + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace stackhouse::sim
