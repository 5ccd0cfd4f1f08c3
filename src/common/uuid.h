#pragma once

#include <string>

namespace stackhouse {

// A random (version 4) UUID in the canonical 8-4-4-4-12 lower-case form, as the agents'
// SerialNumber command argument expects. Thread-safe.
std::string NewUuid();

}  // namespace stackhouse
