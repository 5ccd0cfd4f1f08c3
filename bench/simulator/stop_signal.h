#pragma once

#include <cstdint>

namespace stackhouse::sim {

// Makes SIGINT and SIGTERM request a clean stop instead of killing the process. Call once, from
// main, before starting threads.
void InstallStopSignalHandlers();

// True once SIGINT or SIGTERM has arrived. Thread-safe.
bool StopRequested();

// Blocks until a stop signal arrives or, when `run_for_ms` > 0, that many milliseconds pass.
void WaitForStop(int64_t run_for_ms);

}  // namespace stackhouse::sim
