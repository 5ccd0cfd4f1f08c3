#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "simulator/flags.h"

namespace stackhouse::sim {

// Flags every mode has.
struct CommonFlags {
  std::string target = "127.0.0.1:11800";
  std::string token;
  int64_t seed = 0;
  std::string log_level = "info";
};

// Registers --target, --token, --seed and --log-level on `flags`, bound to `common`.
void AddCommonFlags(FlagSet* flags, CommonFlags* common);

// Parses `args` into `flags`. Returns the exit code to end with (0 after printing --help, 2 after
// printing a usage error), or -1 to go on. Applies --log-level.
int ParseModeFlags(FlagSet* flags, const CommonFlags& common, const std::vector<std::string>& args);

// The seed to use: `seed` itself, or a random one when it is 0.
uint64_t EffectiveSeed(int64_t seed);

// Derives the independent seed of stream number `index` from `seed` (SplitMix64).
uint64_t DeriveSeed(uint64_t seed, uint64_t index);

// One sub-command of stackhouse-sim. `run` gets the arguments after the mode's name and returns
// the process's exit code.
struct Mode {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

// Plays N SkyWalking Java agents (java_mode.cc).
int RunJavaMode(const std::vector<std::string>& args);

// Sends thread snapshots as fast as possible and prints the rate (java_load_mode.cc).
int RunJavaLoadMode(const std::vector<std::string>& args);

// Plays one SkyWalking Rover: processes, task polling, stack uploads (rover_mode.cc).
int RunRoverMode(const std::vector<std::string>& args);

// Sends eBPF stack messages as fast as possible and prints the rate (rover_load_mode.cc).
int RunRoverLoadMode(const std::vector<std::string>& args);

// Sends Rover's meters as fast as possible and prints the rate in samples/s (meter_load_mode.cc).
int RunMeterLoadMode(const std::vector<std::string>& args);

// Holds thousands of client streams open at once and measures the server (stream_hold_mode.cc).
int RunStreamHoldMode(const std::vector<std::string>& args);

}  // namespace stackhouse::sim
