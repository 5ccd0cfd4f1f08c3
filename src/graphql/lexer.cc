#include "graphql/lexer.h"

#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace stackhouse::graphql {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameContinue(char c) { return IsNameStart(c) || IsDigit(c); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A printable rendering of the character at `pos` for error messages.
std::string DescribeChar(absl::string_view source, size_t pos) {
  if (pos >= source.size()) return "<EOF>";
  unsigned char c = static_cast<unsigned char>(source[pos]);
  if (c < 0x20 || c == 0x7F) return absl::StrFormat("\\u%04X", c);
  if (c >= 0x80) return absl::StrFormat("\\x%02X", c);
  return std::string(1, static_cast<char>(c));
}

// The spec's BlockStringValue(rawValue): common indentation removed, blank first/last lines
// dropped, line terminators normalised to \n.
std::string BlockStringValue(absl::string_view raw) {
  std::vector<absl::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\n' || raw[i] == '\r') {
      lines.push_back(raw.substr(start, i - start));
      if (raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  lines.push_back(raw.substr(start));

  auto indent_of = [](absl::string_view line) {
    size_t n = 0;
    while (n < line.size() && (line[n] == ' ' || line[n] == '\t')) ++n;
    return n;
  };
  size_t common = absl::string_view::npos;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t indent = indent_of(lines[i]);
    if (indent < lines[i].size() && indent < common) common = indent;
  }
  if (common != absl::string_view::npos) {
    for (size_t i = 1; i < lines.size(); ++i) {
      lines[i].remove_prefix(std::min(common, lines[i].size()));
    }
  }
  size_t first = 0;
  size_t last = lines.size();
  while (first < last && indent_of(lines[first]) == lines[first].size()) ++first;
  while (last > first && indent_of(lines[last - 1]) == lines[last - 1].size()) --last;
  std::string out;
  for (size_t i = first; i < last; ++i) {
    if (i > first) out.push_back('\n');
    out.append(lines[i].data(), lines[i].size());
  }
  return out;
}

}  // namespace

absl::string_view TokenKindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kEof:
      return "<EOF>";
    case TokenKind::kError:
      return "<error>";
    case TokenKind::kBang:
      return "'!'";
    case TokenKind::kDollar:
      return "'$'";
    case TokenKind::kAmp:
      return "'&'";
    case TokenKind::kParenL:
      return "'('";
    case TokenKind::kParenR:
      return "')'";
    case TokenKind::kSpread:
      return "'...'";
    case TokenKind::kColon:
      return "':'";
    case TokenKind::kEquals:
      return "'='";
    case TokenKind::kAt:
      return "'@'";
    case TokenKind::kBracketL:
      return "'['";
    case TokenKind::kBracketR:
      return "']'";
    case TokenKind::kBraceL:
      return "'{'";
    case TokenKind::kPipe:
      return "'|'";
    case TokenKind::kBraceR:
      return "'}'";
    case TokenKind::kName:
      return "Name";
    case TokenKind::kInt:
      return "Int";
    case TokenKind::kFloat:
      return "Float";
    case TokenKind::kString:
      return "String";
    case TokenKind::kBlockString:
      return "BlockString";
  }
  return "?";
}

Lexer::Lexer(absl::string_view source, size_t max_tokens)
    : source_(source), max_tokens_(max_tokens) {}

ast::Location Lexer::LocationAt(size_t pos) {
  // Columns count code points: advance the counter from where it stopped (linear overall).
  if (column_pos_ < line_start_) {
    column_pos_ = line_start_;
    column_ = 1;
  }
  for (; column_pos_ < pos && column_pos_ < source_.size(); ++column_pos_) {
    if ((static_cast<unsigned char>(source_[column_pos_]) & 0xC0) != 0x80) ++column_;
  }
  return ast::Location{line_, column_};
}

void Lexer::Fail(Token* token, size_t pos, std::string message) {
  token->kind = TokenKind::kError;
  // A position before the current line (the start of a multi-line block string) keeps the
  // token's own location, which was computed when the token started.
  if (pos >= line_start_) token->location = LocationAt(pos);
  token->raw = source_.substr(std::min(pos, source_.size()), 0);
  error_ = std::move(message);
  pos_ = source_.size();
}

void Lexer::SkipIgnored() {
  while (pos_ < source_.size()) {
    char c = source_[pos_];
    if (c == ' ' || c == '\t' || c == ',') {
      ++pos_;
    } else if (c == '\n' || c == '\r') {
      ++pos_;
      if (c == '\r' && pos_ < source_.size() && source_[pos_] == '\n') ++pos_;
      ++line_;
      line_start_ = pos_;
    } else if (c == '#') {
      while (pos_ < source_.size() && source_[pos_] != '\n' && source_[pos_] != '\r') ++pos_;
    } else if (c == '\xEF' && source_.substr(pos_, 3) == "\xEF\xBB\xBF") {
      pos_ += 3;
    } else {
      return;
    }
  }
}

void Lexer::Next(Token* token) {
  token->value.clear();
  if (!error_.empty()) {
    token->kind = TokenKind::kError;
    return;
  }
  SkipIgnored();
  size_t start = pos_;
  token->location = LocationAt(start);
  if (pos_ >= source_.size()) {
    token->kind = TokenKind::kEof;
    token->raw = source_.substr(source_.size());
    return;
  }
  if (++tokens_ > max_tokens_) {
    token_limit_exceeded_ = true;
    Fail(token, start,
         absl::StrCat("More than ", max_tokens_,
                      " tokens have been presented; parsing has been cancelled (limit "
                      "max_tokens)"));
    return;
  }
  auto punct = [&](TokenKind kind, size_t len) {
    token->kind = kind;
    token->raw = source_.substr(start, len);
    pos_ += len;
  };
  char c = source_[pos_];
  switch (c) {
    case '!':
      return punct(TokenKind::kBang, 1);
    case '$':
      return punct(TokenKind::kDollar, 1);
    case '&':
      return punct(TokenKind::kAmp, 1);
    case '(':
      return punct(TokenKind::kParenL, 1);
    case ')':
      return punct(TokenKind::kParenR, 1);
    case ':':
      return punct(TokenKind::kColon, 1);
    case '=':
      return punct(TokenKind::kEquals, 1);
    case '@':
      return punct(TokenKind::kAt, 1);
    case '[':
      return punct(TokenKind::kBracketL, 1);
    case ']':
      return punct(TokenKind::kBracketR, 1);
    case '{':
      return punct(TokenKind::kBraceL, 1);
    case '|':
      return punct(TokenKind::kPipe, 1);
    case '}':
      return punct(TokenKind::kBraceR, 1);
    case '.':
      if (source_.substr(pos_, 3) == "...") return punct(TokenKind::kSpread, 3);
      return Fail(token, start, "Unexpected character '.'; did you mean '...'?");
    case '"':
      if (source_.substr(pos_, 3) == "\"\"\"") return ReadBlockString(token, start);
      return ReadString(token, start);
    default:
      break;
  }
  if (IsNameStart(c)) return ReadName(token, start);
  if (IsDigit(c) || c == '-') return ReadNumber(token, start);
  Fail(token, start, absl::StrCat("Unexpected character '", DescribeChar(source_, start), "'"));
}

void Lexer::ReadName(Token* token, size_t start) {
  ++pos_;
  while (pos_ < source_.size() && IsNameContinue(source_[pos_])) ++pos_;
  token->kind = TokenKind::kName;
  token->raw = source_.substr(start, pos_ - start);
}

void Lexer::ReadNumber(Token* token, size_t start) {
  auto peek = [&]() { return pos_ < source_.size() ? source_[pos_] : '\0'; };
  auto read_digits = [&]() {
    if (!IsDigit(peek())) return false;
    while (IsDigit(peek())) ++pos_;
    return true;
  };
  bool is_float = false;
  if (peek() == '-') ++pos_;
  if (peek() == '0') {
    ++pos_;
    if (IsDigit(peek())) {
      return Fail(token, pos_, "Invalid number, unexpected digit after 0");
    }
  } else if (!read_digits()) {
    return Fail(
        token, pos_,
        absl::StrCat("Invalid number, expected digit but got '", DescribeChar(source_, pos_), "'"));
  }
  if (peek() == '.') {
    ++pos_;
    is_float = true;
    if (!read_digits()) {
      return Fail(token, pos_,
                  absl::StrCat("Invalid number, expected digit but got '",
                               DescribeChar(source_, pos_), "'"));
    }
  }
  if (peek() == 'e' || peek() == 'E') {
    ++pos_;
    is_float = true;
    if (peek() == '+' || peek() == '-') ++pos_;
    if (!read_digits()) {
      return Fail(token, pos_,
                  absl::StrCat("Invalid number, expected digit but got '",
                               DescribeChar(source_, pos_), "'"));
    }
  }
  if (peek() == '.' || IsNameStart(peek())) {
    return Fail(token, pos_,
                absl::StrCat("Invalid number, unexpected '", DescribeChar(source_, pos_), "'"));
  }
  token->kind = is_float ? TokenKind::kFloat : TokenKind::kInt;
  token->raw = source_.substr(start, pos_ - start);
}

bool Lexer::ReadUnicodeEscape(Token* token, size_t escape_start, std::string* out) {
  auto read_code_point = [&](uint32_t* cp) {
    if (pos_ < source_.size() && source_[pos_] == '{') {
      // \u{X...}: variable-width form.
      ++pos_;
      uint32_t value = 0;
      size_t digits = 0;
      while (pos_ < source_.size() && HexValue(source_[pos_]) >= 0) {
        value = value * 16 + static_cast<uint32_t>(HexValue(source_[pos_]));
        if (value > 0x10FFFF) return false;
        ++pos_;
        ++digits;
      }
      if (digits == 0 || pos_ >= source_.size() || source_[pos_] != '}') return false;
      ++pos_;
      *cp = value;
      return true;
    }
    if (pos_ + 4 > source_.size()) return false;
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      int h = HexValue(source_[pos_ + i]);
      if (h < 0) return false;
      value = value * 16 + static_cast<uint32_t>(h);
    }
    pos_ += 4;
    *cp = value;
    return true;
  };
  auto fail = [&]() {
    size_t end = std::min(pos_ + 1, source_.size());
    Fail(token, escape_start,
         absl::StrCat("Invalid Unicode escape sequence '",
                      source_.substr(escape_start, std::min<size_t>(end - escape_start, 12)), "'"));
    return false;
  };
  uint32_t cp = 0;
  if (!read_code_point(&cp)) return fail();
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    // A leading surrogate must be followed by an escaped trailing one.
    uint32_t low = 0;
    if (source_.substr(pos_, 2) != "\\u") return fail();
    pos_ += 2;
    if (!read_code_point(&low) || low < 0xDC00 || low > 0xDFFF) return fail();
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
    return fail();
  }
  AppendUtf8(cp, out);
  return true;
}

void Lexer::ReadString(Token* token, size_t start) {
  ++pos_;  // opening quote
  std::string& out = token->value;
  while (pos_ < source_.size()) {
    char c = source_[pos_];
    if (c == '"') {
      ++pos_;
      token->kind = TokenKind::kString;
      token->raw = source_.substr(start, pos_ - start);
      return;
    }
    if (c == '\n' || c == '\r') break;
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
      return Fail(token, pos_,
                  absl::StrCat("Invalid character within String: ", DescribeChar(source_, pos_)));
    }
    if (c != '\\') {
      // Copy a run of plain characters at once.
      size_t run = pos_;
      while (run < source_.size()) {
        char r = source_[run];
        if (r == '"' || r == '\\' || r == '\n' || r == '\r' ||
            (static_cast<unsigned char>(r) < 0x20 && r != '\t')) {
          break;
        }
        ++run;
      }
      out.append(source_.data() + pos_, run - pos_);
      pos_ = run;
      continue;
    }
    size_t escape_start = pos_;
    ++pos_;
    if (pos_ >= source_.size()) break;
    char e = source_[pos_++];
    switch (e) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u':
        if (!ReadUnicodeEscape(token, escape_start, &out)) return;
        break;
      default:
        return Fail(token, escape_start,
                    absl::StrCat("Invalid character escape sequence: '\\",
                                 DescribeChar(source_, pos_ - 1), "'"));
    }
  }
  Fail(token, start, "Unterminated string");
}

void Lexer::ReadBlockString(Token* token, size_t start) {
  pos_ += 3;
  std::string raw;
  size_t chunk = pos_;
  while (pos_ < source_.size()) {
    char c = source_[pos_];
    if (c == '"' && source_.substr(pos_, 3) == "\"\"\"") {
      raw.append(source_.data() + chunk, pos_ - chunk);
      pos_ += 3;
      token->kind = TokenKind::kBlockString;
      token->raw = source_.substr(start, pos_ - start);
      token->value = BlockStringValue(raw);
      return;
    }
    if (c == '\\' && source_.substr(pos_, 4) == "\\\"\"\"") {
      raw.append(source_.data() + chunk, pos_ - chunk);
      raw.append("\"\"\"");
      pos_ += 4;
      chunk = pos_;
      continue;
    }
    if (c == '\n' || c == '\r') {
      ++pos_;
      if (c == '\r' && pos_ < source_.size() && source_[pos_] == '\n') ++pos_;
      ++line_;
      line_start_ = pos_;
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
      return Fail(token, pos_,
                  absl::StrCat("Invalid character within String: ", DescribeChar(source_, pos_)));
    }
    ++pos_;
  }
  Fail(token, start, "Unterminated string");
}

}  // namespace stackhouse::graphql
