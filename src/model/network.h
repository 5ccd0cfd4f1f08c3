#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

// Network profiling's sampling rules (graphql-protocol.md §2.6, grpc-protocol.md §3.3). Plain
// values; thread-compatible.
namespace stackhouse::model {

// What Rover keeps of a sampled request (graphql EBPFNetworkDataCollectingSettings).
struct NetworkCollectSettings {
  bool require_complete_request = false;
  std::optional<int64_t> max_request_size;  // bytes
  bool require_complete_response = false;
  std::optional<int64_t> max_response_size;  // bytes
};

// One sampling rule of a NETWORK task (graphql EBPFNetworkSamplingRule).
struct NetworkSamplingRule {
  std::optional<std::string> uri_regex;  // absent or empty: the default rule
  std::optional<int64_t> min_duration_ms;
  bool when_4xx = false;
  bool when_5xx = false;
  std::optional<NetworkCollectSettings> settings;
};

// A NETWORK task's extension as OAP stores it (grpc-protocol.md §5.11.3):
// `{"networkSamplings":[{"uriRegex":…,"minDuration":…,"when4xx":…,"when5xx":…,"settings":{…}}]}`,
// camelCase, absent values left out; "" when there are no rules.
std::string NetworkExtensionJson(const std::vector<NetworkSamplingRule>& rules);

// The `ExtensionConfigJSON` argument Rover reads (§3.3) from a stored extension: the same
// document with Rover's PascalCase keys (`NetworkSamplings`, `URIRegex`, `MinDuration`,
// `When4xx`, ...), or the literal `null` when `stored` is empty, not a JSON object or has no
// sampling rule (Rover refuses an empty string).
std::string RoverExtensionConfigJson(absl::string_view stored);

}  // namespace stackhouse::model
