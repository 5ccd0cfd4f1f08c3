#pragma once

#include <string>

#include "absl/strings/string_view.h"

// Helpers shared by the export tests. Thread-compatible.
namespace stackhouse::exporter::testing {

// The decompressed content of a gzip stream; fails the current test on a malformed one.
std::string Gunzip(absl::string_view gzipped);

}  // namespace stackhouse::exporter::testing
