// stackhouse-sim: plays SkyWalking agents against a Stackhouse (or OAP) server, for integration
// tests, benchmarks and demos. One sub-command per kind of client:
//
//   stackhouse-sim java --agents 2 --run-for 60000          # Java agents: traffic + profiling
//   stackhouse-sim java-load --snapshots 1000000 --streams 4 # snapshot ingest benchmark
//   stackhouse-sim rover --processes 3 --run-for 60000       # SkyWalking Rover: eBPF profiling
//   stackhouse-sim rover-load --messages 1000000 --streams 4 # eBPF stack ingest benchmark
//   stackhouse-sim meter-load --samples 2000000 --streams 4  # meter intake benchmark
//   stackhouse-sim stream-hold --streams 5000 --server-pid P # 5,000 open streams at once
//
// `stackhouse-sim <mode> --help` lists a mode's flags.
#include <cstdio>
#include <string>
#include <vector>

#include "simulator/modes.h"

namespace {

constexpr stackhouse::sim::Mode kModes[] = {
    {"java", "play N SkyWalking Java agents: heartbeats, traffic, task polling, profiling",
     stackhouse::sim::RunJavaMode},
    {"java-load", "send thread snapshots as fast as possible and print the ingest rate",
     stackhouse::sim::RunJavaLoadMode},
    {"rover", "play SkyWalking Rover: process reports, task polling, On/Off-CPU stack uploads",
     stackhouse::sim::RunRoverMode},
    {"rover-load", "send eBPF stack messages as fast as possible and print the ingest rate",
     stackhouse::sim::RunRoverLoadMode},
    {"meter-load", "send Rover's meters as fast as possible and print the intake rate",
     stackhouse::sim::RunMeterLoadMode},
    {"stream-hold", "hold thousands of client streams open; server threads, memory, unary latency",
     stackhouse::sim::RunStreamHoldMode},
};

void PrintUsage(std::FILE* out) {
  std::fputs("usage: stackhouse-sim <mode> [flags]\n\nmodes:\n", out);
  for (const auto& mode : kModes) std::fprintf(out, "  %-10s %s\n", mode.name, mode.summary);
  std::fputs("\n`stackhouse-sim <mode> --help` lists the flags of a mode.\n", out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  std::string mode_name = argv[1];
  if (mode_name == "--help" || mode_name == "-h" || mode_name == "help") {
    PrintUsage(stdout);
    return 0;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& mode : kModes) {
    if (mode_name == mode.name) return mode.run(args);
  }
  std::fprintf(stderr, "stackhouse-sim: unknown mode '%s'\n\n", mode_name.c_str());
  PrintUsage(stderr);
  return 2;
}
