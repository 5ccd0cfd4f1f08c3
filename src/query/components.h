#pragma once

#include <string>

namespace stackhouse::query {

// The name of a span component id from SkyWalking's component catalog (the embedded
// components.tsv); unknown ids give the name of id 0, "Unknown". Thread-safe.
const std::string& ComponentName(int id);

}  // namespace stackhouse::query
