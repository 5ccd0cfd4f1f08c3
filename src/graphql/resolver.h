// The resolver API: what a field resolver receives (`ResolverContext`) and returns (`Result`).
//
// A resolver is bound to a schema coordinate "Type.field" and returns
// `absl::StatusOr<Result>`; a failed status becomes a field error in the response (never a
// failed request). A `Result` is one of:
//   * null, a boolean, a 64-bit integer, a double or a string (enums are returned as their name);
//   * a list of results (`Result::List`);
//   * an object, in one of three forms:
//       - `Result::Map`: pre-computed field values by field name, read by the default resolver
//         (fields without a bound resolver). Convenient for small objects.
//       - `Result::Object(const T*)`: a pointer to the caller's own struct; each field of the
//         GraphQL type is then produced by its bound resolver, which reads the struct with
//         `context.Source<T>()`. No allocation per object.
//       - `Result::ObjectArray(std::shared_ptr<const std::vector<T>>)`: a list of such structs,
//         kept alive by the result itself. This is the form for large lists (flame graphs): the
//         engine walks the vector in place, plans the selection once for all items and calls one
//         getter per selected field and item.
//
// An object of an interface or union type needs a concrete type name: pass `type_name` to the
// factory (it must outlive the request, e.g. a string literal, for `Object`/`ObjectArray`; `Map`
// copies it), or bind a type resolver for the abstract type in the schema builder.
//
// Thread-safety: `Result` and `ObjectRef` are immutable values; copying a `Result` shares its
// payload (lists and maps are reference counted). Resolvers may be called concurrently for
// different requests, so a bound resolver must be thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graphql/value.h"

namespace stackhouse::graphql {

class FieldDef;

// An identity for a C++ type without RTTI: the address of a per-type static.
template <typename T>
const void* TypeTag() {
  static const char kTag = 0;
  return &kTag;
}

// A borrowed, typed pointer to an object produced by a resolver (or to the caller's context).
class ObjectRef {
 public:
  ObjectRef() = default;
  ObjectRef(const void* ptr, const void* tag, absl::string_view type_name)
      : ptr_(ptr), tag_(tag), type_name_(type_name) {}

  // A reference to `*object` (borrowed), e.g. a per-request context for the engine.
  template <typename T>
  static ObjectRef Of(const T* object, absl::string_view type_name = {}) {
    return ObjectRef(object, TypeTag<T>(), type_name);
  }

  // The object as a `T`, or nullptr when it holds another type.
  template <typename T>
  const T* As() const {
    return tag_ == TypeTag<T>() ? static_cast<const T*>(ptr_) : nullptr;
  }
  bool empty() const { return ptr_ == nullptr; }
  // The concrete GraphQL type name given by the resolver; may be empty.
  absl::string_view type_name() const { return type_name_; }
  const void* tag() const { return tag_; }
  const void* ptr() const { return ptr_; }

 private:
  const void* ptr_ = nullptr;
  const void* tag_ = nullptr;
  absl::string_view type_name_;
};

class Result;

class Result {
 public:
  enum class Kind { kNull, kBool, kInt, kFloat, kString, kList, kObject, kObjectArray };

  Result() = default;  // null

  static Result Null() { return Result(); }
  static Result Bool(bool b) { return Result(Payload(std::in_place_index<1>, b)); }
  static Result Int(int64_t i) { return Result(Payload(std::in_place_index<2>, i)); }
  static Result Float(double d) { return Result(Payload(std::in_place_index<3>, d)); }
  static Result String(std::string s) {
    return Result(Payload(std::in_place_index<4>, std::move(s)));
  }
  // A borrowed string, not copied: `*s` must outlive the request's execution (as a borrowed
  // Object). For large results whose strings are already stored, e.g. a tree's frames.
  static Result BorrowedString(const std::string* s) {
    if (s == nullptr) return Null();
    return Result(Payload(std::in_place_index<kBorrowedString>, s));
  }
  static Result List(std::vector<Result> items);
  static Result Map(std::vector<std::pair<std::string, Result>> fields, std::string type_name = {});
  // A borrowed object: `object` must outlive the request's execution.
  template <typename T>
  static Result Object(const T* object, absl::string_view type_name = {}) {
    if (object == nullptr) return Null();
    return Result(Payload(std::in_place_index<6>,
                          ObjectPayload{ObjectRef(object, TypeTag<T>(), type_name), nullptr}));
  }
  // An object kept alive by the result.
  template <typename T>
  static Result Object(std::shared_ptr<const T> object, absl::string_view type_name = {}) {
    if (object == nullptr) return Null();
    ObjectRef ref(object.get(), TypeTag<T>(), type_name);
    return Result(Payload(std::in_place_index<6>, ObjectPayload{ref, std::move(object)}));
  }
  // A list of objects stored contiguously; each item is `ObjectRef` to `(*items)[i]`.
  template <typename T>
  static Result ObjectArray(std::shared_ptr<const std::vector<T>> items,
                            absl::string_view type_name = {}) {
    if (items == nullptr) return Null();
    ArrayPayload array{items->data(), items->size(), sizeof(T),
                       TypeTag<T>(),  type_name,     std::move(items)};
    return Result(Payload(std::in_place_index<7>, std::move(array)));
  }

  Kind kind() const {
    return payload_.index() == kBorrowedString ? Kind::kString
                                               : static_cast<Kind>(payload_.index());
  }
  bool is_null() const { return payload_.index() == 0; }

  // Accessors; each requires the matching kind.
  bool bool_value() const { return std::get<1>(payload_); }
  int64_t int_value() const { return std::get<2>(payload_); }
  double float_value() const { return std::get<3>(payload_); }
  const std::string& string_value() const {
    return payload_.index() == kBorrowedString ? *std::get<kBorrowedString>(payload_)
                                               : std::get<4>(payload_);
  }
  // kList: the items.
  const std::vector<Result>& list() const { return *std::get<5>(payload_); }
  // kObject: the object.
  const ObjectRef& object() const { return std::get<6>(payload_).ref; }
  // kList and kObjectArray: the number of items.
  size_t size() const;
  // kObjectArray: the i-th item.
  ObjectRef ArrayItem(size_t i) const {
    const ArrayPayload& a = std::get<7>(payload_);
    return ObjectRef(static_cast<const char*>(a.data) + i * a.stride, a.tag, a.type_name);
  }

 private:
  struct ObjectPayload {
    ObjectRef ref;
    std::shared_ptr<const void> owner;
  };
  struct ArrayPayload {
    const void* data;
    size_t size;
    size_t stride;
    const void* tag;
    absl::string_view type_name;
    std::shared_ptr<const void> owner;
  };
  // Indices 0-7 are the Kinds; a borrowed string is a kString.
  using Payload = std::variant<std::monostate, bool, int64_t, double, std::string,
                               std::shared_ptr<const std::vector<Result>>, ObjectPayload,
                               ArrayPayload, const std::string*>;
  static constexpr size_t kBorrowedString = 8;

  explicit Result(Payload payload) : payload_(std::move(payload)) {}

  Payload payload_;
};

// The payload of a `Result::Map`: field values by field name, in insertion order.
struct MapObject {
  std::vector<std::pair<std::string, Result>> fields;
  std::string type_name;

  // The value for `field`, or nullptr.
  const Result* Find(absl::string_view field) const;
};

// What a resolver receives. Valid only during the resolver call.
class ResolverContext {
 public:
  ResolverContext(const ObjectRef& source, const Arguments& args, const FieldDef& field,
                  const ObjectRef& user_context)
      : source_(source), args_(args), field_(field), user_context_(user_context) {}

  // The parent object (for root fields: the root object given to the engine, or an empty map).
  const ObjectRef& source() const { return source_; }
  // The parent object as a `T`, or nullptr when the parent is not a `T`.
  template <typename T>
  const T* Source() const {
    return source_.As<T>();
  }
  // The coerced arguments of the field, defaults applied.
  const Arguments& args() const { return args_; }
  // The field being resolved (its name, type and declaration).
  const FieldDef& field() const { return field_; }
  // The per-request context given to the engine, as a `T`; nullptr if absent or another type.
  template <typename T>
  const T* UserContext() const {
    return user_context_.As<T>();
  }

 private:
  const ObjectRef& source_;
  const Arguments& args_;
  const FieldDef& field_;
  const ObjectRef& user_context_;
};

// A field resolver. Must be thread-safe (see file comment).
using Resolver = std::function<absl::StatusOr<Result>(const ResolverContext&)>;

// Decides the concrete object type name of a value of an interface or union type.
// Returns an empty view when it cannot tell.
using TypeResolver = std::function<absl::string_view(const ObjectRef&)>;

}  // namespace stackhouse::graphql
