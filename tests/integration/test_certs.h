#pragma once

#include <string>

namespace stackhouse::testing {

// A throw-away certificate authority and what it signed, as PEM, generated in memory with
// OpenSSL (EC P-256, valid for a day), so that the TLS tests need no files of their own.
struct TestPki {
  std::string ca_cert;
  std::string server_key;
  std::string server_cert;  // for localhost and 127.0.0.1
  std::string client_key;
  std::string client_cert;  // subject CN=test-agent
};

// Empty PEMs if OpenSSL fails (the caller's expectations then fail).
TestPki MakeTestPki();

// Writes `contents` to `path`; false on error.
bool WriteFile(const std::string& path, const std::string& contents);

}  // namespace stackhouse::testing
