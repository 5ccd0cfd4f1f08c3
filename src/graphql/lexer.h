// Tokenizer for GraphQL source text (October 2021 specification, §2.1).
//
// `Lexer` turns a source into tokens one at a time, in time linear in the source length
// (including line/column bookkeeping). It skips ignored tokens (whitespace, line terminators,
// commas, comments, a byte order mark), decodes string values (escapes, `\u` surrogate pairs,
// block-string indentation) and stops with an error at the first malformed token or when more
// than `max_tokens` tokens were produced.
//
// Thread-safety: a `Lexer` is a single-use, single-thread object; it borrows `source`, which must
// outlive it.
#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "graphql/ast.h"

namespace stackhouse::graphql {

enum class TokenKind {
  kEof,
  kError,
  kBang,
  kDollar,
  kAmp,
  kParenL,
  kParenR,
  kSpread,
  kColon,
  kEquals,
  kAt,
  kBracketL,
  kBracketR,
  kBraceL,
  kPipe,
  kBraceR,
  kName,
  kInt,
  kFloat,
  kString,
  kBlockString,
};

struct Token {
  TokenKind kind = TokenKind::kEof;
  ast::Location location;
  // The source text of the token (for strings: including the quotes).
  absl::string_view raw;
  // kString/kBlockString: the decoded value.
  std::string value;
};

// A human-readable name of a token kind, e.g. "Name" or "'{'".
absl::string_view TokenKindName(TokenKind kind);

class Lexer {
 public:
  Lexer(absl::string_view source, size_t max_tokens);

  // Reads the next token into `*token`. At the end of input returns kEof (repeatedly). On a
  // malformed token or the token limit returns kError; `error()` then describes the problem and
  // `token->location` points at it.
  void Next(Token* token);

  const std::string& error() const { return error_; }
  // True when the error was the token limit.
  bool token_limit_exceeded() const { return token_limit_exceeded_; }

 private:
  void SkipIgnored();
  ast::Location LocationAt(size_t pos);
  void Fail(Token* token, size_t pos, std::string message);
  void ReadName(Token* token, size_t start);
  void ReadNumber(Token* token, size_t start);
  void ReadString(Token* token, size_t start);
  void ReadBlockString(Token* token, size_t start);
  // Appends the code point of a `\u` escape at pos_ (after the `u`) to `out`.
  bool ReadUnicodeEscape(Token* token, size_t escape_start, std::string* out);

  // Constant after construction.
  const absl::string_view source_;
  const size_t max_tokens_;

  size_t pos_ = 0;
  size_t tokens_ = 0;
  // Line bookkeeping: `line_` starts at `line_start_`; columns were counted up to `column_pos_`.
  uint32_t line_ = 1;
  size_t line_start_ = 0;
  size_t column_pos_ = 0;
  uint32_t column_ = 1;
  std::string error_;
  bool token_limit_exceeded_ = false;
};

}  // namespace stackhouse::graphql
