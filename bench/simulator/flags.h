#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace stackhouse::sim {

// The command-line flags of one simulator mode. Each flag is bound to a variable that holds its
// default until Parse overwrites it. Accepted forms: `--name value`, `--name=value`, and for
// booleans `--name` alone (true) or `--name=false`. Not thread-safe; bound variables must outlive
// the set.
class FlagSet {
 public:
  // `usage_line` is the first line of Usage(), e.g. "stackhouse-sim java [flags]".
  explicit FlagSet(std::string usage_line) : usage_line_(std::move(usage_line)) {}

  void AddString(absl::string_view name, std::string* value, absl::string_view help);
  void AddInt(absl::string_view name, int64_t* value, absl::string_view help);
  void AddDouble(absl::string_view name, double* value, absl::string_view help);
  void AddBool(absl::string_view name, bool* value, absl::string_view help);

  // Parses `args` (without the program and mode names). Returns InvalidArgument for an unknown
  // flag, a missing or malformed value, or a positional argument. `--help`/`-h` sets
  // help_requested() and stops parsing with OK.
  absl::Status Parse(const std::vector<std::string>& args);

  bool help_requested() const { return help_requested_; }

  // The usage line followed by one line per flag with its help and default.
  std::string Usage() const;

 private:
  enum class Type { kString, kInt, kDouble, kBool };
  struct Flag {
    std::string name;
    Type type;
    void* value;
    std::string help;
    std::string default_text;
  };

  const Flag* Find(absl::string_view name) const;
  static absl::Status Assign(const Flag& flag, absl::string_view text);
  static std::string ValueText(const Flag& flag);

  std::string usage_line_;
  std::vector<Flag> flags_;
  bool help_requested_ = false;
};

}  // namespace stackhouse::sim
