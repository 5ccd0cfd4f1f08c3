#include "graphql/coercion.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/json_writer.h"

namespace stackhouse::graphql {
namespace {

constexpr double kTwoPow63 = 9223372036854775808.0;

// A short description of a value for messages: its literal form, truncated.
std::string Describe(const Value& value) {
  std::string text = value.ToLiteral();
  if (text.size() > 64) text = absl::StrCat(text.substr(0, 61), "...");
  return text;
}

absl::Status ExpectedType(const TypeDef& type, const Value& value) {
  return absl::InvalidArgumentError(
      absl::StrCat("Expected type '", type.name, "' but was '", Describe(value), "'"));
}

// An integral double that fits int64, as an int64.
bool IntegralDouble(double d, int64_t* out) {
  if (!std::isfinite(d) || std::trunc(d) != d || d < -kTwoPow63 || d >= kTwoPow63) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

bool ParseInt64(absl::string_view text, int64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

bool InInt32(int64_t i) {
  return i >= std::numeric_limits<int32_t>::min() && i <= std::numeric_limits<int32_t>::max();
}

std::string JoinPath(const std::string& path, absl::string_view field) {
  return path.empty() ? std::string(field) : absl::StrCat(path, ".", field);
}

absl::Status AtPath(const absl::Status& status, const std::string& path) {
  if (path.empty()) return status;
  return absl::InvalidArgumentError(absl::StrCat(status.message(), " at '", path, "'"));
}

absl::StatusOr<Value> CoerceInput(const Value& value, const TypeRef& type, const std::string& path);

absl::StatusOr<Value> CoerceInputObject(const Value& value, const TypeDef& type,
                                        const std::string& path) {
  if (value.kind() != Value::Kind::kObject) {
    return AtPath(absl::InvalidArgumentError(absl::StrCat("Expected an object of type '", type.name,
                                                          "' but was '", Describe(value), "'")),
                  path);
  }
  for (const auto& [name, unused] : value.members()) {
    if (type.FindInputField(name) == nullptr) {
      return AtPath(absl::InvalidArgumentError(absl::StrCat(
                        "Field '", name, "' is not defined in input type '", type.name, "'")),
                    path);
    }
  }
  std::vector<Value::Member> members;
  members.reserve(type.input_fields.size());
  for (const InputValueDef& field : type.input_fields) {
    const Value* given = value.Find(field.name);
    if (given == nullptr) {
      if (field.default_value.has_value()) {
        members.emplace_back(field.name, *field.default_value);
      } else if (field.type->is_non_null()) {
        return AtPath(
            absl::InvalidArgumentError(absl::StrCat("Field '", field.name, "' of required type '",
                                                    field.type->ToString(), "' was not provided")),
            path);
      }
      continue;
    }
    absl::StatusOr<Value> coerced = CoerceInput(*given, *field.type, JoinPath(path, field.name));
    if (!coerced.ok()) return coerced.status();
    members.emplace_back(field.name, *std::move(coerced));
  }
  return Value::Object(std::move(members));
}

absl::StatusOr<Value> CoerceInput(const Value& value, const TypeRef& type,
                                  const std::string& path) {
  if (type.is_non_null()) {
    if (value.is_null()) {
      return AtPath(absl::InvalidArgumentError(
                        absl::StrCat("Expected a non-null value of type '", type.ToString(), "'")),
                    path);
    }
    return CoerceInput(value, *type.of_type, path);
  }
  if (value.is_null()) return Value::Null();
  if (type.is_list()) {
    if (value.kind() != Value::Kind::kList) {
      absl::StatusOr<Value> item = CoerceInput(value, *type.of_type, path);
      if (!item.ok()) return item.status();
      return Value::List({*std::move(item)});
    }
    std::vector<Value> items;
    items.reserve(value.list().size());
    for (size_t i = 0; i < value.list().size(); ++i) {
      absl::StatusOr<Value> item =
          CoerceInput(value.list()[i], *type.of_type, absl::StrCat(path, "[", i, "]"));
      if (!item.ok()) return item.status();
      items.push_back(*std::move(item));
    }
    return Value::List(std::move(items));
  }
  const TypeDef& named = *type.named;
  if (named.kind == TypeKind::kInputObject) return CoerceInputObject(value, named, path);
  absl::StatusOr<Value> leaf = CoerceLeaf(named, value, /*from_literal=*/false);
  if (!leaf.ok()) return AtPath(leaf.status(), path);
  return leaf;
}

// The variable `name` from `variables`, or nullptr when absent.
const Value* FindVariable(const Value& variables, const std::string& name) {
  return variables.Find(name);
}

absl::StatusOr<Value> CoerceLiteralImpl(const ast::Value& literal, const TypeRef& type,
                                        const Value& variables) {
  if (literal.kind == ast::Value::Kind::kVariable) {
    // Variables were coerced to their declared type, which validation proved compatible.
    const Value* value = FindVariable(variables, literal.text);
    if (value == nullptr || value->is_null()) {
      if (type.is_non_null()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Variable '", literal.text, "' of non-null type '", type.ToString(), "' has no value"));
      }
      return Value::Null();
    }
    if (type.Nullable()->is_list() && value->kind() != Value::Kind::kList) {
      return Value::List({*value});
    }
    return *value;
  }
  if (type.is_non_null()) {
    if (literal.kind == ast::Value::Kind::kNull) {
      return absl::InvalidArgumentError(
          absl::StrCat("Expected a non-null value of type '", type.ToString(), "'"));
    }
    return CoerceLiteralImpl(literal, *type.of_type, variables);
  }
  if (literal.kind == ast::Value::Kind::kNull) return Value::Null();
  if (type.is_list()) {
    if (literal.kind != ast::Value::Kind::kList) {
      absl::StatusOr<Value> item = CoerceLiteralImpl(literal, *type.of_type, variables);
      if (!item.ok()) return item.status();
      return Value::List({*std::move(item)});
    }
    std::vector<Value> items;
    items.reserve(literal.list.size());
    for (const ast::Value& element : literal.list) {
      absl::StatusOr<Value> item = CoerceLiteralImpl(element, *type.of_type, variables);
      if (!item.ok()) return item.status();
      items.push_back(*std::move(item));
    }
    return Value::List(std::move(items));
  }
  const TypeDef& named = *type.named;
  if (named.kind == TypeKind::kInputObject) {
    if (literal.kind != ast::Value::Kind::kObject) {
      return absl::InvalidArgumentError(
          absl::StrCat("Expected an object of type '", named.name, "'"));
    }
    std::vector<Value::Member> members;
    for (const InputValueDef& field : named.input_fields) {
      const ast::ObjectField* given = nullptr;
      for (const ast::ObjectField& f : literal.fields) {
        if (f.name == field.name) given = &f;
      }
      bool absent = given == nullptr || (given->value.kind == ast::Value::Kind::kVariable &&
                                         FindVariable(variables, given->value.text) == nullptr);
      if (absent) {
        if (field.default_value.has_value()) {
          members.emplace_back(field.name, *field.default_value);
        } else if (field.type->is_non_null()) {
          return absl::InvalidArgumentError(
              absl::StrCat("Field '", field.name, "' of required type '", field.type->ToString(),
                           "' was not provided"));
        }
        continue;
      }
      absl::StatusOr<Value> coerced = CoerceLiteralImpl(given->value, *field.type, variables);
      if (!coerced.ok()) return coerced.status();
      members.emplace_back(field.name, *std::move(coerced));
    }
    return Value::Object(std::move(members));
  }
  return CoerceLeaf(named, LiteralToValue(literal), /*from_literal=*/true);
}

}  // namespace

Value LiteralToValue(const ast::Value& literal) {
  switch (literal.kind) {
    case ast::Value::Kind::kVariable:
    case ast::Value::Kind::kNull:
      return Value::Null();
    case ast::Value::Kind::kInt: {
      int64_t i = 0;
      if (ParseInt64(literal.text, &i)) return Value::Int(i);
      double d = 0;
      (void)absl::SimpleAtod(literal.text, &d);
      return Value::Float(d);
    }
    case ast::Value::Kind::kFloat: {
      double d = 0;
      (void)absl::SimpleAtod(literal.text, &d);
      return Value::Float(d);
    }
    case ast::Value::Kind::kString:
      return Value::String(literal.text);
    case ast::Value::Kind::kBoolean:
      return Value::Bool(literal.boolean);
    case ast::Value::Kind::kEnum:
      return Value::Enum(literal.text);
    case ast::Value::Kind::kList: {
      std::vector<Value> items;
      items.reserve(literal.list.size());
      for (const ast::Value& item : literal.list) items.push_back(LiteralToValue(item));
      return Value::List(std::move(items));
    }
    case ast::Value::Kind::kObject: {
      std::vector<Value::Member> members;
      members.reserve(literal.fields.size());
      for (const ast::ObjectField& field : literal.fields) {
        members.emplace_back(field.name, LiteralToValue(field.value));
      }
      return Value::Object(std::move(members));
    }
  }
  return Value::Null();
}

absl::StatusOr<Value> CoerceLeaf(const TypeDef& type, const Value& value, bool from_literal) {
  using K = Value::Kind;
  if (type.kind == TypeKind::kEnum) {
    bool named_form = from_literal ? value.kind() == K::kEnum
                                   : value.kind() == K::kString || value.kind() == K::kEnum;
    if (!named_form) return ExpectedType(type, value);
    if (type.FindEnumValue(value.string_value()) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("Invalid input for enum '", type.name,
                                                     "'. No value found for name '",
                                                     value.string_value(), "'"));
    }
    return Value::Enum(value.string_value());
  }
  switch (type.scalar_kind) {
    case ScalarKind::kInt: {
      int64_t i = 0;
      if (value.kind() == K::kInt) {
        i = value.int_value();
      } else if (!(value.kind() == K::kFloat && !from_literal &&
                   IntegralDouble(value.float_value(), &i))) {
        return ExpectedType(type, value);
      }
      if (!InInt32(i)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Expected type 'Int' but was '", Describe(value), "' (outside the 32-bit range)"));
      }
      return Value::Int(i);
    }
    case ScalarKind::kFloat:
      if (value.kind() == K::kInt) return Value::Float(static_cast<double>(value.int_value()));
      if (value.kind() == K::kFloat) return value;
      return ExpectedType(type, value);
    case ScalarKind::kString:
      if (value.kind() == K::kString) return value;
      return ExpectedType(type, value);
    case ScalarKind::kBoolean:
      if (value.kind() == K::kBool) return value;
      return ExpectedType(type, value);
    case ScalarKind::kId:
      if (value.kind() == K::kString) return value;
      if (value.kind() == K::kInt) return Value::String(absl::StrCat(value.int_value()));
      return ExpectedType(type, value);
    case ScalarKind::kLong: {
      int64_t i = 0;
      if (value.kind() == K::kInt) return value;
      if (value.kind() == K::kFloat && IntegralDouble(value.float_value(), &i)) {
        return Value::Int(i);
      }
      if (value.kind() == K::kString && ParseInt64(value.string_value(), &i)) {
        return Value::Int(i);
      }
      return ExpectedType(type, value);
    }
    case ScalarKind::kCustom:
      return value;
  }
  return ExpectedType(type, value);
}

absl::StatusOr<Value> CoerceInputValue(const Value& value, const TypeRef& type) {
  return CoerceInput(value, type, "");
}

absl::StatusOr<Value> CoerceLiteral(const ast::Value& literal, const TypeRef& type,
                                    const Value& variables) {
  return CoerceLiteralImpl(literal, type, variables);
}

absl::StatusOr<Arguments> CoerceArguments(const std::vector<InputValueDef>& definitions,
                                          const std::vector<ast::Argument>& arguments,
                                          const Value& variables) {
  std::vector<Value::Member> members;
  members.reserve(definitions.size());
  for (const InputValueDef& definition : definitions) {
    const ast::Argument* given = nullptr;
    for (const ast::Argument& argument : arguments) {
      if (argument.name == definition.name) given = &argument;
    }
    bool absent = given == nullptr || (given->value.kind == ast::Value::Kind::kVariable &&
                                       FindVariable(variables, given->value.text) == nullptr);
    if (absent) {
      if (definition.default_value.has_value()) {
        members.emplace_back(definition.name, *definition.default_value);
      } else if (definition.type->is_non_null()) {
        return absl::InvalidArgumentError(
            absl::StrCat("Argument '", definition.name, "' of required type '",
                         definition.type->ToString(), "' was not provided"));
      }
      continue;
    }
    absl::StatusOr<Value> value = CoerceLiteral(given->value, *definition.type, variables);
    if (!value.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Argument '", definition.name, "': ", value.status().message()));
    }
    members.emplace_back(definition.name, *std::move(value));
  }
  return Arguments(std::move(members));
}

const TypeRef* ResolveTypeRef(const Schema& schema, const ast::Type& type,
                              std::deque<TypeRef>* arena) {
  if (type.kind == ast::Type::Kind::kNamed) {
    const TypeDef* named = schema.FindType(type.name);
    return named == nullptr ? nullptr : named->ref;
  }
  const TypeRef* inner = ResolveTypeRef(schema, *type.of_type, arena);
  if (inner == nullptr) return nullptr;
  TypeRef& ref = arena->emplace_back();
  ref.kind = type.kind == ast::Type::Kind::kList ? TypeKind::kList : TypeKind::kNonNull;
  ref.of_type = inner;
  ref.named = inner->named;
  return &ref;
}

absl::StatusOr<Value> CoerceVariables(const Schema& schema,
                                      const ast::OperationDefinition& operation,
                                      const Value& inputs, ast::Location* error_location) {
  std::deque<TypeRef> arena;
  std::vector<Value::Member> coerced;
  for (const ast::VariableDefinition& definition : operation.variables) {
    if (error_location != nullptr) *error_location = definition.location;
    const TypeRef* type = ResolveTypeRef(schema, definition.type, &arena);
    if (type == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("Unknown type of variable '", definition.name, "'"));
    }
    const Value* given = inputs.Find(definition.name);
    if (given == nullptr) {
      if (definition.default_value.has_value()) {
        absl::StatusOr<Value> value =
            CoerceLiteral(*definition.default_value, *type, Value::Object({}));
        if (!value.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("Variable '", definition.name,
                           "' has an invalid default value: ", value.status().message()));
        }
        coerced.emplace_back(definition.name, *std::move(value));
      } else if (type->is_non_null()) {
        return absl::InvalidArgumentError(
            absl::StrCat("Variable '", definition.name,
                         "' has coerced Null value for NonNull type '", type->ToString(), "'"));
      }
      continue;
    }
    if (given->is_null() && type->is_non_null()) {
      return absl::InvalidArgumentError(absl::StrCat("Variable '", definition.name,
                                                     "' has coerced Null value for NonNull type '",
                                                     type->ToString(), "'"));
    }
    absl::StatusOr<Value> value = CoerceInputValue(*given, *type);
    if (!value.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Variable '", definition.name, "' has an invalid value: ", value.status().message()));
    }
    coerced.emplace_back(definition.name, *std::move(value));
  }
  return Value::Object(std::move(coerced));
}

absl::Status SerializeLeaf(const TypeDef& type, const Result& result, JsonWriter* writer) {
  using K = Result::Kind;
  auto mismatch = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Expected a value that can be converted to type '", type.name, "' but it was ", what));
  };
  auto kind_name = [&]() -> std::string {
    switch (result.kind()) {
      case K::kBool:
        return "a 'Boolean'";
      case K::kInt:
        return absl::StrCat("'", result.int_value(), "'");
      case K::kFloat:
        return "a 'Float'";
      case K::kString:
        return "a 'String'";
      case K::kList:
      case K::kObjectArray:
        return "a list";
      case K::kObject:
        return "an object";
      case K::kNull:
        return "null";
    }
    return "?";
  };
  if (type.kind == TypeKind::kEnum) {
    if (result.kind() != K::kString) return mismatch(kind_name());
    if (type.FindEnumValue(result.string_value()) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("Invalid value '", result.string_value(), "' for enum '", type.name, "'"));
    }
    writer->String(result.string_value());
    return absl::OkStatus();
  }
  int64_t i = 0;
  switch (type.scalar_kind) {
    case ScalarKind::kInt:
    case ScalarKind::kLong: {
      bool ok = false;
      if (result.kind() == K::kInt) {
        i = result.int_value();
        ok = true;
      } else if (result.kind() == K::kFloat) {
        ok = IntegralDouble(result.float_value(), &i);
      } else if (result.kind() == K::kString) {
        ok = ParseInt64(result.string_value(), &i);
      }
      if (!ok) return mismatch(kind_name());
      if (type.scalar_kind == ScalarKind::kInt && !InInt32(i)) {
        return mismatch(absl::StrCat("'", i, "' (outside the 32-bit range)"));
      }
      writer->Int(i);
      return absl::OkStatus();
    }
    case ScalarKind::kFloat: {
      if (result.kind() == K::kFloat) {
        writer->Double(result.float_value());
      } else if (result.kind() == K::kInt) {
        writer->Double(static_cast<double>(result.int_value()));
      } else {
        double d = 0;
        if (result.kind() != K::kString || !absl::SimpleAtod(result.string_value(), &d)) {
          return mismatch(kind_name());
        }
        writer->Double(d);
      }
      return absl::OkStatus();
    }
    case ScalarKind::kString:
    case ScalarKind::kId: {
      switch (result.kind()) {
        case K::kString:
          writer->String(result.string_value());
          return absl::OkStatus();
        case K::kInt:
          writer->String(absl::StrCat(result.int_value()));
          return absl::OkStatus();
        default:
          break;
      }
      if (type.scalar_kind == ScalarKind::kString) {
        if (result.kind() == K::kBool) {
          writer->String(result.bool_value() ? "true" : "false");
          return absl::OkStatus();
        }
        if (result.kind() == K::kFloat) {
          writer->String(absl::StrCat(result.float_value()));
          return absl::OkStatus();
        }
      }
      return mismatch(kind_name());
    }
    case ScalarKind::kBoolean:
      if (result.kind() != K::kBool) return mismatch(kind_name());
      writer->Bool(result.bool_value());
      return absl::OkStatus();
    case ScalarKind::kCustom:
      switch (result.kind()) {
        case K::kBool:
          writer->Bool(result.bool_value());
          return absl::OkStatus();
        case K::kInt:
          writer->Int(result.int_value());
          return absl::OkStatus();
        case K::kFloat:
          writer->Double(result.float_value());
          return absl::OkStatus();
        case K::kString:
          writer->String(result.string_value());
          return absl::OkStatus();
        default:
          return mismatch(kind_name());
      }
  }
  return mismatch(kind_name());
}

}  // namespace stackhouse::graphql
