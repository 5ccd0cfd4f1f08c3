// Input values: what request variables parse into and what field arguments coerce to.
//
// A `Value` is an immutable JSON-like tree with one extra kind, `kEnum`, for enum literals of a
// document (after coercion an enum argument is a `kEnum` whatever its source). Lists and objects
// share their payload, so copying a `Value` is cheap. Objects keep their members in source order.
//
// Thread-safety: a `Value` is immutable after construction and safe to read from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace stackhouse::graphql {

class Value {
 public:
  enum class Kind { kNull, kBool, kInt, kFloat, kString, kEnum, kList, kObject };
  using Member = std::pair<std::string, Value>;

  Value() = default;  // null

  static Value Null() { return Value(); }
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double d);
  static Value String(std::string s);
  static Value Enum(std::string name);
  static Value List(std::vector<Value> items);
  static Value Object(std::vector<Member> members);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }

  // Accessors; each requires the matching kind (others return a zero value).
  bool bool_value() const { return kind_ == Kind::kBool && int_ != 0; }
  int64_t int_value() const { return kind_ == Kind::kInt ? int_ : 0; }
  double float_value() const { return kind_ == Kind::kFloat ? float_ : 0.0; }
  // The text of a string or the name of an enum value; empty for other kinds.
  const std::string& string_value() const { return string_; }
  // Items of a list; empty for other kinds.
  const std::vector<Value>& list() const;
  // Members of an object in source order; empty for other kinds.
  const std::vector<Member>& members() const;

  // The member named `name` of an object, or nullptr when absent (or not an object).
  const Value* Find(absl::string_view name) const;

  // A compact GraphQL-literal rendering, used in error messages and introspection
  // (`defaultValue`): strings quoted and escaped, enums bare, objects as `{a: 1}`.
  std::string ToLiteral() const;

  // Deep structural equality (an int and a float are never equal).
  friend bool operator==(const Value& a, const Value& b);

 private:
  Kind kind_ = Kind::kNull;
  int64_t int_ = 0;
  double float_ = 0;
  std::string string_;
  std::shared_ptr<const std::vector<Value>> list_;
  std::shared_ptr<const std::vector<Member>> members_;
};

// Coerced field arguments: the arguments a resolver sees. An argument that was neither given nor
// defaulted is absent (`Has` is false), which a resolver can tell apart from an explicit null.
class Arguments {
 public:
  Arguments() = default;
  explicit Arguments(std::vector<Value::Member> members) : members_(std::move(members)) {}

  bool Has(absl::string_view name) const { return Find(name) != nullptr; }
  // The value of `name`, or nullptr when absent.
  const Value* Find(absl::string_view name) const;
  // The value of `name`; a null value when absent.
  const Value& Get(absl::string_view name) const;
  const std::vector<Value::Member>& members() const { return members_; }

 private:
  std::vector<Value::Member> members_;
};

}  // namespace stackhouse::graphql
