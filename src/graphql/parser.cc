#include "graphql/parser.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "graphql/lexer.h"

namespace stackhouse::graphql {
namespace {

using ast::Location;

class Parser {
 public:
  Parser(absl::string_view source, const ParseOptions& options)
      : lexer_(source, options.max_tokens), max_depth_(options.max_depth) {
    Advance();
  }

  bool ParseExecutable(ast::Document* doc) {
    if (Peek(TokenKind::kEof)) return Unexpected("an operation or fragment definition");
    while (!failed_ && !Peek(TokenKind::kEof)) {
      if (Peek(TokenKind::kBraceL)) {
        ast::OperationDefinition op;
        op.location = tok_.location;
        if (!ParseSelectionSet(&op.selection_set)) return false;
        doc->operations.push_back(std::move(op));
      } else if (PeekKeyword("query") || PeekKeyword("mutation") || PeekKeyword("subscription")) {
        ast::OperationDefinition op;
        if (!ParseOperation(&op)) return false;
        doc->operations.push_back(std::move(op));
      } else if (PeekKeyword("fragment")) {
        ast::FragmentDefinition fragment;
        if (!ParseFragmentDefinition(&fragment)) return false;
        doc->fragments.push_back(std::move(fragment));
      } else {
        return Unexpected("an operation or fragment definition");
      }
    }
    return !failed_;
  }

  bool ParseTypeSystem(ast::TypeSystemDocument* doc) {
    while (!failed_ && !Peek(TokenKind::kEof)) {
      std::string description;
      if (Peek(TokenKind::kString) || Peek(TokenKind::kBlockString)) {
        description = tok_.value;
        Advance();
      }
      bool extension = false;
      if (PeekKeyword("extend")) {
        extension = true;
        Advance();
      }
      if (PeekKeyword("schema")) {
        ast::SchemaDefinition schema;
        schema.is_extension = extension;
        schema.description = std::move(description);
        if (!ParseSchemaDefinition(&schema)) return false;
        doc->schemas.push_back(std::move(schema));
      } else if (PeekKeyword("directive") && !extension) {
        ast::DirectiveDefinition directive;
        directive.description = std::move(description);
        if (!ParseDirectiveDefinition(&directive)) return false;
        doc->directives.push_back(std::move(directive));
      } else {
        ast::TypeDefinition type;
        type.is_extension = extension;
        type.description = std::move(description);
        if (!ParseTypeDefinition(&type)) return false;
        doc->types.push_back(std::move(type));
      }
    }
    return !failed_;
  }

  const ParseError& error() const { return error_; }

 private:
  void Advance() {
    lexer_.Next(&tok_);
    if (tok_.kind == TokenKind::kError && !failed_) {
      failed_ = true;
      error_.location = tok_.location;
      error_.limit_exceeded = lexer_.token_limit_exceeded();
      error_.message = absl::StrCat(lexer_.error(), " at line ", tok_.location.line, " column ",
                                    tok_.location.column);
    }
  }

  bool Peek(TokenKind kind) const { return tok_.kind == kind; }
  bool PeekKeyword(absl::string_view word) const {
    return tok_.kind == TokenKind::kName && tok_.raw == word;
  }

  bool Unexpected(absl::string_view expected) {
    if (failed_) return false;
    failed_ = true;
    error_.location = tok_.location;
    absl::string_view shown = tok_.kind == TokenKind::kEof ? "<EOF>" : tok_.raw;
    if (shown.size() > 40) shown = shown.substr(0, 40);
    error_.message = absl::StrCat("offending token '", shown, "' at line ", tok_.location.line,
                                  " column ", tok_.location.column, " (expected ", expected, ")");
    return false;
  }

  bool Expect(TokenKind kind) {
    if (tok_.kind != kind) return Unexpected(TokenKindName(kind));
    Advance();
    return !failed_;
  }

  bool ExpectKeyword(absl::string_view word) {
    if (!PeekKeyword(word)) return Unexpected(absl::StrCat("'", word, "'"));
    Advance();
    return !failed_;
  }

  bool ParseName(std::string* name, Location* location = nullptr) {
    if (tok_.kind != TokenKind::kName) return Unexpected("Name");
    if (location != nullptr) *location = tok_.location;
    name->assign(tok_.raw.data(), tok_.raw.size());
    Advance();
    return !failed_;
  }

  // Guards recursion: every nested construct enters one level.
  bool Enter() {
    if (++depth_ <= max_depth_) return true;
    if (!failed_) {
      failed_ = true;
      error_.location = tok_.location;
      error_.limit_exceeded = true;
      error_.message = absl::StrCat("Document nesting exceeds the limit of ", max_depth_,
                                    " levels (limit max_query_depth) at line ", tok_.location.line,
                                    " column ", tok_.location.column);
    }
    return false;
  }
  void Leave() { --depth_; }

  bool ParseOperation(ast::OperationDefinition* op) {
    op->location = tok_.location;
    if (PeekKeyword("mutation")) {
      op->operation = ast::OperationType::kMutation;
    } else if (PeekKeyword("subscription")) {
      op->operation = ast::OperationType::kSubscription;
    }
    Advance();
    if (Peek(TokenKind::kName) && !ParseName(&op->name)) return false;
    if (Peek(TokenKind::kParenL)) {
      Advance();
      do {
        ast::VariableDefinition var;
        var.location = tok_.location;
        if (!Expect(TokenKind::kDollar) || !ParseName(&var.name) || !Expect(TokenKind::kColon) ||
            !ParseType(&var.type)) {
          return false;
        }
        if (Peek(TokenKind::kEquals)) {
          Advance();
          var.default_value.emplace();
          if (!ParseValue(/*is_const=*/true, &*var.default_value)) return false;
        }
        if (!ParseDirectives(/*is_const=*/true, &var.directives)) return false;
        op->variables.push_back(std::move(var));
      } while (!failed_ && !Peek(TokenKind::kParenR));
      if (!Expect(TokenKind::kParenR)) return false;
    }
    return ParseDirectives(/*is_const=*/false, &op->directives) &&
           ParseSelectionSet(&op->selection_set);
  }

  bool ParseFragmentDefinition(ast::FragmentDefinition* fragment) {
    fragment->location = tok_.location;
    Advance();  // fragment
    if (PeekKeyword("on")) return Unexpected("a fragment name other than 'on'");
    if (!ParseName(&fragment->name) || !ExpectKeyword("on") ||
        !ParseName(&fragment->type_condition, &fragment->type_condition_location)) {
      return false;
    }
    return ParseDirectives(/*is_const=*/false, &fragment->directives) &&
           ParseSelectionSet(&fragment->selection_set);
  }

  bool ParseSelectionSet(std::vector<ast::Selection>* selections) {
    if (!Enter()) return false;
    if (!Expect(TokenKind::kBraceL)) return false;
    do {
      ast::Selection selection;
      if (!ParseSelection(&selection)) return false;
      selections->push_back(std::move(selection));
    } while (!failed_ && !Peek(TokenKind::kBraceR));
    if (!Expect(TokenKind::kBraceR)) return false;
    Leave();
    return true;
  }

  bool ParseSelection(ast::Selection* selection) {
    selection->location = tok_.location;
    if (Peek(TokenKind::kSpread)) {
      Advance();
      if (Peek(TokenKind::kName) && !PeekKeyword("on")) {
        selection->kind = ast::Selection::Kind::kFragmentSpread;
        return ParseName(&selection->name) &&
               ParseDirectives(/*is_const=*/false, &selection->directives);
      }
      selection->kind = ast::Selection::Kind::kInlineFragment;
      if (PeekKeyword("on")) {
        Advance();
        if (!ParseName(&selection->type_condition)) return false;
      }
      return ParseDirectives(/*is_const=*/false, &selection->directives) &&
             ParseSelectionSet(&selection->selection_set);
    }
    selection->kind = ast::Selection::Kind::kField;
    if (!ParseName(&selection->name)) return false;
    if (Peek(TokenKind::kColon)) {
      Advance();
      selection->alias = std::move(selection->name);
      if (!ParseName(&selection->name)) return false;
    }
    if (!ParseArguments(/*is_const=*/false, &selection->arguments) ||
        !ParseDirectives(/*is_const=*/false, &selection->directives)) {
      return false;
    }
    if (Peek(TokenKind::kBraceL)) return ParseSelectionSet(&selection->selection_set);
    return true;
  }

  bool ParseArguments(bool is_const, std::vector<ast::Argument>* arguments) {
    if (!Peek(TokenKind::kParenL)) return true;
    Advance();
    do {
      ast::Argument argument;
      if (!ParseName(&argument.name, &argument.location) || !Expect(TokenKind::kColon) ||
          !ParseValue(is_const, &argument.value)) {
        return false;
      }
      arguments->push_back(std::move(argument));
    } while (!failed_ && !Peek(TokenKind::kParenR));
    return Expect(TokenKind::kParenR);
  }

  bool ParseDirectives(bool is_const, std::vector<ast::Directive>* directives) {
    while (Peek(TokenKind::kAt)) {
      ast::Directive directive;
      directive.location = tok_.location;
      Advance();
      if (!ParseName(&directive.name) || !ParseArguments(is_const, &directive.arguments)) {
        return false;
      }
      directives->push_back(std::move(directive));
    }
    return !failed_;
  }

  bool ParseValue(bool is_const, ast::Value* value) {
    value->location = tok_.location;
    switch (tok_.kind) {
      case TokenKind::kDollar:
        if (is_const) return Unexpected("a constant value");
        Advance();
        value->kind = ast::Value::Kind::kVariable;
        return ParseName(&value->text);
      case TokenKind::kInt:
      case TokenKind::kFloat:
        value->kind =
            tok_.kind == TokenKind::kInt ? ast::Value::Kind::kInt : ast::Value::Kind::kFloat;
        value->text.assign(tok_.raw.data(), tok_.raw.size());
        Advance();
        return !failed_;
      case TokenKind::kString:
      case TokenKind::kBlockString:
        value->kind = ast::Value::Kind::kString;
        value->text = std::move(tok_.value);
        Advance();
        return !failed_;
      case TokenKind::kName:
        if (tok_.raw == "true" || tok_.raw == "false") {
          value->kind = ast::Value::Kind::kBoolean;
          value->boolean = tok_.raw == "true";
        } else if (tok_.raw == "null") {
          value->kind = ast::Value::Kind::kNull;
        } else {
          value->kind = ast::Value::Kind::kEnum;
          value->text.assign(tok_.raw.data(), tok_.raw.size());
        }
        Advance();
        return !failed_;
      case TokenKind::kBracketL: {
        if (!Enter()) return false;
        value->kind = ast::Value::Kind::kList;
        Advance();
        while (!failed_ && !Peek(TokenKind::kBracketR)) {
          ast::Value item;
          if (!ParseValue(is_const, &item)) return false;
          value->list.push_back(std::move(item));
        }
        if (!Expect(TokenKind::kBracketR)) return false;
        Leave();
        return true;
      }
      case TokenKind::kBraceL: {
        if (!Enter()) return false;
        value->kind = ast::Value::Kind::kObject;
        Advance();
        while (!failed_ && !Peek(TokenKind::kBraceR)) {
          ast::ObjectField field;
          if (!ParseName(&field.name, &field.location) || !Expect(TokenKind::kColon) ||
              !ParseValue(is_const, &field.value)) {
            return false;
          }
          value->fields.push_back(std::move(field));
        }
        if (!Expect(TokenKind::kBraceR)) return false;
        Leave();
        return true;
      }
      default:
        return Unexpected("a value");
    }
  }

  bool ParseType(ast::Type* type) {
    if (!Enter()) return false;
    type->location = tok_.location;
    if (Peek(TokenKind::kBracketL)) {
      Advance();
      type->kind = ast::Type::Kind::kList;
      type->of_type = std::make_unique<ast::Type>();
      if (!ParseType(type->of_type.get()) || !Expect(TokenKind::kBracketR)) return false;
    } else {
      type->kind = ast::Type::Kind::kNamed;
      if (!ParseName(&type->name)) return false;
    }
    if (Peek(TokenKind::kBang)) {
      Advance();
      auto inner = std::make_unique<ast::Type>(std::move(*type));
      *type = ast::Type();
      type->kind = ast::Type::Kind::kNonNull;
      type->location = inner->location;
      type->of_type = std::move(inner);
    }
    Leave();
    return !failed_;
  }

  // SDL.

  std::string ParseOptionalDescription() {
    std::string description;
    if (Peek(TokenKind::kString) || Peek(TokenKind::kBlockString)) {
      description = std::move(tok_.value);
      Advance();
    }
    return description;
  }

  bool ParseSchemaDefinition(ast::SchemaDefinition* schema) {
    schema->location = tok_.location;
    Advance();  // schema
    if (!ParseDirectives(/*is_const=*/true, &schema->directives)) return false;
    if (!Peek(TokenKind::kBraceL)) return schema->is_extension || Unexpected("'{'");
    Advance();
    do {
      ast::OperationType op;
      if (PeekKeyword("query")) {
        op = ast::OperationType::kQuery;
      } else if (PeekKeyword("mutation")) {
        op = ast::OperationType::kMutation;
      } else if (PeekKeyword("subscription")) {
        op = ast::OperationType::kSubscription;
      } else {
        return Unexpected("'query', 'mutation' or 'subscription'");
      }
      Advance();
      std::string name;
      if (!Expect(TokenKind::kColon) || !ParseName(&name)) return false;
      schema->root_types.emplace_back(op, std::move(name));
    } while (!failed_ && !Peek(TokenKind::kBraceR));
    return Expect(TokenKind::kBraceR);
  }

  bool ParseDirectiveDefinition(ast::DirectiveDefinition* directive) {
    directive->location = tok_.location;
    Advance();  // directive
    if (!Expect(TokenKind::kAt) || !ParseName(&directive->name)) return false;
    if (!ParseArgumentDefinitions(&directive->arguments)) return false;
    if (PeekKeyword("repeatable")) {
      directive->repeatable = true;
      Advance();
    }
    if (!ExpectKeyword("on")) return false;
    if (Peek(TokenKind::kPipe)) Advance();
    do {
      std::string location;
      if (!ParseName(&location)) return false;
      directive->locations.push_back(std::move(location));
      if (!Peek(TokenKind::kPipe)) break;
      Advance();
    } while (!failed_);
    return !failed_;
  }

  bool ParseArgumentDefinitions(std::vector<ast::InputValueDefinition>* arguments) {
    if (!Peek(TokenKind::kParenL)) return true;
    Advance();
    do {
      ast::InputValueDefinition argument;
      if (!ParseInputValueDefinition(&argument)) return false;
      arguments->push_back(std::move(argument));
    } while (!failed_ && !Peek(TokenKind::kParenR));
    return Expect(TokenKind::kParenR);
  }

  bool ParseInputValueDefinition(ast::InputValueDefinition* input) {
    input->description = ParseOptionalDescription();
    if (!ParseName(&input->name, &input->location) || !Expect(TokenKind::kColon) ||
        !ParseType(&input->type)) {
      return false;
    }
    if (Peek(TokenKind::kEquals)) {
      Advance();
      input->default_value.emplace();
      if (!ParseValue(/*is_const=*/true, &*input->default_value)) return false;
    }
    return ParseDirectives(/*is_const=*/true, &input->directives);
  }

  bool ParseTypeDefinition(ast::TypeDefinition* type) {
    using Kind = ast::TypeDefinition::Kind;
    type->location = tok_.location;
    if (PeekKeyword("scalar")) {
      type->kind = Kind::kScalar;
    } else if (PeekKeyword("type")) {
      type->kind = Kind::kObject;
    } else if (PeekKeyword("interface")) {
      type->kind = Kind::kInterface;
    } else if (PeekKeyword("union")) {
      type->kind = Kind::kUnion;
    } else if (PeekKeyword("enum")) {
      type->kind = Kind::kEnum;
    } else if (PeekKeyword("input")) {
      type->kind = Kind::kInputObject;
    } else {
      return Unexpected("a type system definition");
    }
    Advance();
    if (!ParseName(&type->name)) return false;
    if ((type->kind == Kind::kObject || type->kind == Kind::kInterface) &&
        PeekKeyword("implements")) {
      Advance();
      if (Peek(TokenKind::kAmp)) Advance();
      do {
        std::string name;
        if (!ParseName(&name)) return false;
        type->interfaces.push_back(std::move(name));
        if (!Peek(TokenKind::kAmp)) break;
        Advance();
      } while (!failed_);
    }
    if (!ParseDirectives(/*is_const=*/true, &type->directives)) return false;
    switch (type->kind) {
      case Kind::kScalar:
        return true;
      case Kind::kObject:
      case Kind::kInterface:
        if (!Peek(TokenKind::kBraceL)) return true;
        Advance();
        do {
          ast::FieldDefinition field;
          field.description = ParseOptionalDescription();
          if (!ParseName(&field.name, &field.location) ||
              !ParseArgumentDefinitions(&field.arguments) || !Expect(TokenKind::kColon) ||
              !ParseType(&field.type) || !ParseDirectives(/*is_const=*/true, &field.directives)) {
            return false;
          }
          type->fields.push_back(std::move(field));
        } while (!failed_ && !Peek(TokenKind::kBraceR));
        return Expect(TokenKind::kBraceR);
      case Kind::kUnion:
        if (!Peek(TokenKind::kEquals)) return true;
        Advance();
        if (Peek(TokenKind::kPipe)) Advance();
        do {
          std::string name;
          if (!ParseName(&name)) return false;
          type->members.push_back(std::move(name));
          if (!Peek(TokenKind::kPipe)) break;
          Advance();
        } while (!failed_);
        return !failed_;
      case Kind::kEnum:
        if (!Peek(TokenKind::kBraceL)) return true;
        Advance();
        do {
          ast::EnumValueDefinition value;
          value.description = ParseOptionalDescription();
          if (PeekKeyword("true") || PeekKeyword("false") || PeekKeyword("null")) {
            return Unexpected("an enum value name");
          }
          if (!ParseName(&value.name, &value.location) ||
              !ParseDirectives(/*is_const=*/true, &value.directives)) {
            return false;
          }
          type->enum_values.push_back(std::move(value));
        } while (!failed_ && !Peek(TokenKind::kBraceR));
        return Expect(TokenKind::kBraceR);
      case Kind::kInputObject:
        if (!Peek(TokenKind::kBraceL)) return true;
        Advance();
        do {
          ast::InputValueDefinition field;
          if (!ParseInputValueDefinition(&field)) return false;
          type->input_fields.push_back(std::move(field));
        } while (!failed_ && !Peek(TokenKind::kBraceR));
        return Expect(TokenKind::kBraceR);
    }
    return false;
  }

  Lexer lexer_;
  Token tok_;
  const size_t max_depth_;
  size_t depth_ = 0;
  bool failed_ = false;
  ParseError error_;
};

absl::Status ToStatus(const ParseError& error) {
  return error.limit_exceeded ? absl::ResourceExhaustedError(error.message)
                              : absl::InvalidArgumentError(error.message);
}

}  // namespace

absl::StatusOr<ast::Document> ParseExecutableDocument(absl::string_view source,
                                                      const ParseOptions& options,
                                                      ParseError* error) {
  Parser parser(source, options);
  ast::Document doc;
  if (!parser.ParseExecutable(&doc)) {
    if (error != nullptr) *error = parser.error();
    return ToStatus(parser.error());
  }
  return doc;
}

absl::StatusOr<ast::TypeSystemDocument> ParseTypeSystemDocument(absl::string_view source,
                                                                const ParseOptions& options,
                                                                ParseError* error) {
  Parser parser(source, options);
  ast::TypeSystemDocument doc;
  if (!parser.ParseTypeSystem(&doc)) {
    if (error != nullptr) *error = parser.error();
    return ToStatus(parser.error());
  }
  return doc;
}

}  // namespace stackhouse::graphql
