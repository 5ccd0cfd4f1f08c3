#include "graphql/value.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "common/json_writer.h"

namespace stackhouse::graphql {
namespace {

const std::vector<Value>& EmptyList() {
  static const auto* const kEmpty = new std::vector<Value>();
  return *kEmpty;
}

const std::vector<Value::Member>& EmptyMembers() {
  static const auto* const kEmpty = new std::vector<Value::Member>();
  return *kEmpty;
}

const Value& NullValue() {
  static const auto* const kNull = new Value();
  return *kNull;
}

void AppendLiteral(const Value& v, std::string* out) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      out->append("null");
      return;
    case Value::Kind::kBool:
      out->append(v.bool_value() ? "true" : "false");
      return;
    case Value::Kind::kInt:
      absl::StrAppend(out, v.int_value());
      return;
    case Value::Kind::kFloat: {
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v.float_value());
      out->append(buf, ec == std::errc() ? end : buf);
      return;
    }
    case Value::Kind::kString:
      JsonWriter::AppendQuoted(v.string_value(), out);  // JSON strings are GraphQL strings
      return;
    case Value::Kind::kEnum:
      out->append(v.string_value());
      return;
    case Value::Kind::kList: {
      out->push_back('[');
      bool first = true;
      for (const Value& item : v.list()) {
        if (!first) out->append(", ");
        first = false;
        AppendLiteral(item, out);
      }
      out->push_back(']');
      return;
    }
    case Value::Kind::kObject: {
      out->push_back('{');
      bool first = true;
      for (const auto& [name, member] : v.members()) {
        if (!first) out->append(", ");
        first = false;
        absl::StrAppend(out, name, ": ");
        AppendLiteral(member, out);
      }
      out->push_back('}');
      return;
    }
  }
}

}  // namespace

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.int_ = b ? 1 : 0;
  return v;
}

Value Value::Int(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.int_ = i;
  return v;
}

Value Value::Float(double d) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.float_ = d;
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.string_ = std::move(s);
  return v;
}

Value Value::Enum(std::string name) {
  Value v;
  v.kind_ = Kind::kEnum;
  v.string_ = std::move(name);
  return v;
}

Value Value::List(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::kList;
  v.list_ = std::make_shared<const std::vector<Value>>(std::move(items));
  return v;
}

Value Value::Object(std::vector<Member> members) {
  Value v;
  v.kind_ = Kind::kObject;
  v.members_ = std::make_shared<const std::vector<Member>>(std::move(members));
  return v;
}

const std::vector<Value>& Value::list() const { return list_ ? *list_ : EmptyList(); }

const std::vector<Value::Member>& Value::members() const {
  return members_ ? *members_ : EmptyMembers();
}

const Value* Value::Find(absl::string_view name) const {
  for (const auto& [member_name, value] : members()) {
    if (member_name == name) return &value;
  }
  return nullptr;
}

std::string Value::ToLiteral() const {
  std::string out;
  AppendLiteral(*this, &out);
  return out;
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Value::Kind::kNull:
      return true;
    case Value::Kind::kBool:
    case Value::Kind::kInt:
      return a.int_ == b.int_;
    case Value::Kind::kFloat:
      return a.float_ == b.float_;
    case Value::Kind::kString:
    case Value::Kind::kEnum:
      return a.string_ == b.string_;
    case Value::Kind::kList:
      return a.list() == b.list();
    case Value::Kind::kObject:
      return a.members() == b.members();
  }
  return false;
}

const Value* Arguments::Find(absl::string_view name) const {
  for (const auto& [member_name, value] : members_) {
    if (member_name == name) return &value;
  }
  return nullptr;
}

const Value& Arguments::Get(absl::string_view name) const {
  const Value* v = Find(name);
  return v != nullptr ? *v : NullValue();
}

}  // namespace stackhouse::graphql
