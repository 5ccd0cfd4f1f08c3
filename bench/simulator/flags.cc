#include "simulator/flags.h"

#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace stackhouse::sim {

void FlagSet::AddString(absl::string_view name, std::string* value, absl::string_view help) {
  flags_.push_back({std::string(name), Type::kString, value, std::string(help), ""});
  flags_.back().default_text = ValueText(flags_.back());
}

void FlagSet::AddInt(absl::string_view name, int64_t* value, absl::string_view help) {
  flags_.push_back({std::string(name), Type::kInt, value, std::string(help), ""});
  flags_.back().default_text = ValueText(flags_.back());
}

void FlagSet::AddDouble(absl::string_view name, double* value, absl::string_view help) {
  flags_.push_back({std::string(name), Type::kDouble, value, std::string(help), ""});
  flags_.back().default_text = ValueText(flags_.back());
}

void FlagSet::AddBool(absl::string_view name, bool* value, absl::string_view help) {
  flags_.push_back({std::string(name), Type::kBool, value, std::string(help), ""});
  flags_.back().default_text = ValueText(flags_.back());
}

const FlagSet::Flag* FlagSet::Find(absl::string_view name) const {
  for (const Flag& flag : flags_) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

absl::Status FlagSet::Assign(const Flag& flag, absl::string_view text) {
  bool ok = true;
  switch (flag.type) {
    case Type::kString:
      *static_cast<std::string*>(flag.value) = std::string(text);
      break;
    case Type::kInt:
      ok = absl::SimpleAtoi(text, static_cast<int64_t*>(flag.value));
      break;
    case Type::kDouble:
      ok = absl::SimpleAtod(text, static_cast<double*>(flag.value));
      break;
    case Type::kBool:
      ok = absl::SimpleAtob(text, static_cast<bool*>(flag.value));
      break;
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat("invalid value '", text, "' for --", flag.name));
  }
  return absl::OkStatus();
}

std::string FlagSet::ValueText(const Flag& flag) {
  switch (flag.type) {
    case Type::kString:
      return *static_cast<const std::string*>(flag.value);
    case Type::kInt:
      return absl::StrCat(*static_cast<const int64_t*>(flag.value));
    case Type::kDouble:
      return absl::StrCat(*static_cast<const double*>(flag.value));
    case Type::kBool:
      return *static_cast<const bool*>(flag.value) ? "true" : "false";
  }
  return "";
}

absl::Status FlagSet::Parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      return absl::OkStatus();
    }
    if (!absl::ConsumePrefix(&arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    }
    std::optional<absl::string_view> inline_value;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const Flag* flag = Find(arg);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", arg));
    }
    if (inline_value.has_value()) {
      if (absl::Status s = Assign(*flag, *inline_value); !s.ok()) return s;
    } else if (flag->type == Type::kBool) {
      *static_cast<bool*>(flag->value) = true;
    } else if (i + 1 < args.size()) {
      if (absl::Status s = Assign(*flag, args[++i]); !s.ok()) return s;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("flag --", arg, " needs a value"));
    }
  }
  return absl::OkStatus();
}

std::string FlagSet::Usage() const {
  constexpr size_t kIndent = 25;
  constexpr size_t kWidth = 100;
  std::string out = absl::StrCat("usage: ", usage_line_, "\n\nflags:\n");
  auto append = [&out](absl::string_view name, absl::string_view text) {
    std::string line = absl::StrFormat("  %-22s", name);
    for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
      if (line.size() + 1 + word.size() > kWidth && line.size() > kIndent) {
        absl::StrAppend(&out, line, "\n");
        line = std::string(kIndent - 1, ' ');
      }
      absl::StrAppend(&line, " ", word);
    }
    absl::StrAppend(&out, line, "\n");
  };
  for (const Flag& flag : flags_) {
    std::string help = flag.help;
    if (!flag.default_text.empty()) absl::StrAppend(&help, " (default ", flag.default_text, ")");
    append(absl::StrCat("--", flag.name, flag.type == Type::kBool ? "" : " V"), help);
  }
  append("--help", "this text");
  return out;
}

}  // namespace stackhouse::sim
