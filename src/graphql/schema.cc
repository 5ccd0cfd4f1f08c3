#include "graphql/schema.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graphql/coercion.h"
#include "graphql/introspection.h"
#include "graphql/parser.h"

namespace stackhouse::graphql {
namespace {

constexpr absl::string_view kBuiltinSdl = R"graphql(
"The `Int` scalar type represents non-fractional signed whole numeric values between -2^31 and 2^31-1."
scalar Int
"The `Float` scalar type represents signed double-precision fractional values."
scalar Float
"The `String` scalar type represents textual data, represented as UTF-8 character sequences."
scalar String
"The `Boolean` scalar type represents `true` or `false`."
scalar Boolean
"The `ID` scalar type represents a unique identifier, serialized as a String."
scalar ID

"Directs the executor to include this field or fragment only when the `if` argument is true."
directive @include("Included when true." if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT

"Directs the executor to skip this field or fragment when the `if` argument is true."
directive @skip("Skipped when true." if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT

"Marks an element of a GraphQL schema as no longer supported."
directive @deprecated(
  "Explains why this element was deprecated, usually also including a suggestion for how to access supported similar data."
  reason: String = "No longer supported"
) on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE

"Exposes a URL that specifies the behaviour of this scalar."
directive @specifiedBy("The URL that specifies the behaviour of this scalar." url: String!) on SCALAR
)graphql";

constexpr absl::string_view kDefaultDeprecationReason = "No longer supported";

TypeKind ToTypeKind(ast::TypeDefinition::Kind kind) {
  switch (kind) {
    case ast::TypeDefinition::Kind::kScalar:
      return TypeKind::kScalar;
    case ast::TypeDefinition::Kind::kObject:
      return TypeKind::kObject;
    case ast::TypeDefinition::Kind::kInterface:
      return TypeKind::kInterface;
    case ast::TypeDefinition::Kind::kUnion:
      return TypeKind::kUnion;
    case ast::TypeDefinition::Kind::kEnum:
      return TypeKind::kEnum;
    case ast::TypeDefinition::Kind::kInputObject:
      return TypeKind::kInputObject;
  }
  return TypeKind::kScalar;
}

ScalarKind ScalarKindOf(absl::string_view name) {
  if (name == "Int") return ScalarKind::kInt;
  if (name == "Float") return ScalarKind::kFloat;
  if (name == "String") return ScalarKind::kString;
  if (name == "Boolean") return ScalarKind::kBoolean;
  if (name == "ID") return ScalarKind::kId;
  if (name == "Long") return ScalarKind::kLong;
  return ScalarKind::kCustom;
}

// The `@deprecated` directive among `directives`, or nullptr.
const ast::Directive* FindDirective(const std::vector<ast::Directive>& directives,
                                    absl::string_view name) {
  for (const ast::Directive& directive : directives) {
    if (directive.name == name) return &directive;
  }
  return nullptr;
}

// Applies `@deprecated(reason:)`, if present.
void ReadDeprecation(const std::vector<ast::Directive>& directives, bool* deprecated,
                     std::string* reason) {
  const ast::Directive* directive = FindDirective(directives, "deprecated");
  if (directive == nullptr) return;
  *deprecated = true;
  *reason = std::string(kDefaultDeprecationReason);
  for (const ast::Argument& argument : directive->arguments) {
    if (argument.name == "reason" && argument.value.kind == ast::Value::Kind::kString) {
      *reason = argument.value.text;
    }
  }
}

}  // namespace

// Builds one schema; holds the state shared by the steps of `SchemaBuilder::Build`.
class SchemaAssembler {
 public:
  explicit SchemaAssembler(Schema* schema) : schema_(schema) {}

  std::vector<std::string>& errors() { return errors_; }

  void Error(std::string message) { errors_.push_back(std::move(message)); }

  TypeDef* FindType(absl::string_view name) {
    auto it = schema_->types_.find(name);
    return it == schema_->types_.end() ? nullptr : it->second;
  }

  void DeclareType(const ast::TypeDefinition& definition, absl::string_view source) {
    if (FindType(definition.name) != nullptr) {
      Error(absl::StrCat(source, ": type '", definition.name, "' is defined more than once"));
      return;
    }
    TypeDef& type = schema_->type_storage_.emplace_back();
    type.kind = ToTypeKind(definition.kind);
    type.name = definition.name;
    if (type.kind == TypeKind::kScalar) type.scalar_kind = ScalarKindOf(type.name);
    TypeRef& ref = schema_->ref_storage_.emplace_back();
    ref.kind = type.kind;
    ref.named = &type;
    type.ref = &ref;
    schema_->types_[type.name] = &type;
    schema_->refs_[type.name] = &ref;
  }

  // Adds the members of `definition` (a definition or an extension) to its type.
  void AddMembers(const ast::TypeDefinition& definition, absl::string_view source) {
    TypeDef* type = FindType(definition.name);
    if (type == nullptr) {
      Error(absl::StrCat(source, ": cannot extend undefined type '", definition.name, "'"));
      return;
    }
    if (type->kind != ToTypeKind(definition.kind)) {
      Error(absl::StrCat(source, ": extension of '", definition.name,
                         "' does not match the kind of its definition"));
      return;
    }
    if (!definition.description.empty()) type->description = definition.description;
    for (const ast::FieldDefinition& field_ast : definition.fields) {
      if (type->FindField(field_ast.name) != nullptr) {
        Error(absl::StrCat(source, ": field '", type->name, ".", field_ast.name,
                           "' is defined more than once"));
        continue;
      }
      FieldDef& field = type->fields.emplace_back();
      field.name = field_ast.name;
      field.description = field_ast.description;
      field.location = field_ast.location;
      ReadDeprecation(field_ast.directives, &field.deprecated, &field.deprecation_reason);
      pending_field_types_.push_back({type, type->fields.size() - 1, &field_ast, source});
      type->field_index_[field.name] = type->fields.size() - 1;
    }
    for (const std::string& name : definition.interfaces) interface_names_[type].push_back(name);
    for (const std::string& name : definition.members) member_names_[type].push_back(name);
    for (const ast::EnumValueDefinition& value_ast : definition.enum_values) {
      if (type->FindEnumValue(value_ast.name) != nullptr) {
        Error(absl::StrCat(source, ": enum value '", type->name, ".", value_ast.name,
                           "' is defined more than once"));
        continue;
      }
      EnumValueDef& value = type->enum_values.emplace_back();
      value.name = value_ast.name;
      value.description = value_ast.description;
      ReadDeprecation(value_ast.directives, &value.deprecated, &value.deprecation_reason);
    }
    for (const ast::InputValueDefinition& field_ast : definition.input_fields) {
      if (type->FindInputField(field_ast.name) != nullptr) {
        Error(absl::StrCat(source, ": input field '", type->name, ".", field_ast.name,
                           "' is defined more than once"));
        continue;
      }
      type->input_fields.emplace_back();
      pending_input_fields_.push_back({type, type->input_fields.size() - 1, &field_ast, source});
    }
    if (const ast::Directive* specified = FindDirective(definition.directives, "specifiedBy")) {
      for (const ast::Argument& argument : specified->arguments) {
        if (argument.name == "url") type->specified_by_url = argument.value.text;
      }
    }
  }

  // Interns a type reference; nullptr (with an error) when a named type is unknown.
  const TypeRef* Intern(const ast::Type& type, absl::string_view where) {
    if (type.kind == ast::Type::Kind::kNamed) {
      const TypeDef* named = FindType(type.name);
      if (named == nullptr) {
        Error(absl::StrCat(where, " refers to unknown type '", type.name, "'"));
        return nullptr;
      }
      return named->ref;
    }
    const TypeRef* inner = Intern(*type.of_type, where);
    if (inner == nullptr) return nullptr;
    return Wrap(type.kind == ast::Type::Kind::kList ? TypeKind::kList : TypeKind::kNonNull, inner);
  }

  const TypeRef* Wrap(TypeKind kind, const TypeRef* inner) {
    std::string key = kind == TypeKind::kList ? absl::StrCat("[", inner->ToString(), "]")
                                              : absl::StrCat(inner->ToString(), "!");
    auto it = schema_->refs_.find(key);
    if (it != schema_->refs_.end()) return it->second;
    TypeRef& ref = schema_->ref_storage_.emplace_back();
    ref.kind = kind;
    ref.of_type = inner;
    ref.named = inner->named;
    schema_->refs_[key] = &ref;
    return &ref;
  }

  // Fills an argument or input field from its definition; reports type and default problems.
  void FillInputValue(const ast::InputValueDefinition& definition, absl::string_view where,
                      InputValueDef* input) {
    input->name = definition.name;
    input->description = definition.description;
    input->location = definition.location;
    ReadDeprecation(definition.directives, &input->deprecated, &input->deprecation_reason);
    input->type = Intern(definition.type, where);
    if (input->type == nullptr) return;
    if (!input->type->named->is_input()) {
      Error(absl::StrCat(where, " has type '", input->type->ToString(),
                         "', which is not an input type"));
      input->type = nullptr;
      return;
    }
    if (definition.default_value.has_value()) {
      pending_defaults_.push_back({input, &*definition.default_value, std::string(where)});
    }
  }

  void ResolveFieldsAndInputs() {
    for (const PendingField& pending : pending_field_types_) {
      FieldDef& field = pending.type->fields[pending.index];
      std::string where =
          absl::StrCat(pending.source, ": field '", pending.type->name, ".", field.name, "'");
      field.parent = pending.type;
      field.type = Intern(pending.ast->type, where);
      if (field.type != nullptr && field.type->named->kind == TypeKind::kInputObject) {
        Error(absl::StrCat(where, " has input type '", field.type->ToString(),
                           "', which is not an output type"));
      }
      for (const ast::InputValueDefinition& arg_ast : pending.ast->arguments) {
        if (field.FindArg(arg_ast.name) != nullptr) {
          Error(absl::StrCat(where, " declares argument '", arg_ast.name, "' twice"));
          continue;
        }
        InputValueDef& arg = field.args.emplace_back();
        FillInputValue(arg_ast, absl::StrCat(where, " argument '", arg_ast.name, "'"), &arg);
      }
    }
    for (const PendingInput& pending : pending_input_fields_) {
      FillInputValue(*pending.ast,
                     absl::StrCat(pending.source, ": input field '", pending.type->name, ".",
                                  pending.ast->name, "'"),
                     &pending.type->input_fields[pending.index]);
    }
  }

  void ResolveInterfacesAndUnions() {
    for (TypeDef& type_storage : schema_->type_storage_) {
      TypeDef* type = &type_storage;
      auto it = interface_names_.find(type);
      if (it == interface_names_.end()) continue;
      for (const std::string& name : it->second) {
        TypeDef* interface = FindType(name);
        if (interface == nullptr || interface->kind != TypeKind::kInterface) {
          Error(absl::StrCat("type '", type->name, "' implements '", name,
                             "', which is not a defined interface"));
          continue;
        }
        if (std::find(type->interfaces.begin(), type->interfaces.end(), interface) !=
            type->interfaces.end()) {
          continue;
        }
        type->interfaces.push_back(interface);
        if (type->kind == TypeKind::kObject) interface->possible_types.push_back(type);
      }
    }
    for (TypeDef& type_storage : schema_->type_storage_) {
      TypeDef* type = &type_storage;
      auto it = member_names_.find(type);
      if (it == member_names_.end()) continue;
      for (const std::string& name : it->second) {
        TypeDef* member = FindType(name);
        if (member == nullptr || member->kind != TypeKind::kObject) {
          Error(absl::StrCat("union '", type->name, "' member '", name,
                             "' is not a defined object type"));
          continue;
        }
        type->possible_types.push_back(member);
      }
    }
  }

  void CheckTypes() {
    for (TypeDef& type : schema_->type_storage_) {
      if ((type.kind == TypeKind::kObject || type.kind == TypeKind::kInterface) &&
          type.fields.empty()) {
        Error(absl::StrCat("type '", type.name, "' must define one or more fields"));
      }
      if (type.kind == TypeKind::kEnum && type.enum_values.empty()) {
        Error(absl::StrCat("enum '", type.name, "' must define one or more values"));
      }
      if (type.kind == TypeKind::kInputObject && type.input_fields.empty()) {
        Error(absl::StrCat("input '", type.name, "' must define one or more fields"));
      }
      if (type.kind == TypeKind::kUnion && type.possible_types.empty()) {
        Error(absl::StrCat("union '", type.name, "' must have one or more members"));
      }
      for (const TypeDef* interface : type.interfaces) {
        for (const FieldDef& expected : interface->fields) {
          const FieldDef* actual = type.FindField(expected.name);
          if (actual == nullptr) {
            Error(absl::StrCat("type '", type.name, "' implements '", interface->name,
                               "' but has no field '", expected.name, "'"));
            continue;
          }
          for (const InputValueDef& arg : expected.args) {
            if (actual->FindArg(arg.name) == nullptr) {
              Error(absl::StrCat("field '", type.name, ".", expected.name, "' lacks argument '",
                                 arg.name, "' of interface '", interface->name, "'"));
            }
          }
        }
      }
    }
  }

  void CoerceDefaults() {
    for (const PendingDefault& pending : pending_defaults_) {
      if (pending.input->type == nullptr) continue;
      absl::StatusOr<Value> value =
          CoerceLiteral(*pending.literal, *pending.input->type, Value::Object({}));
      if (!value.ok()) {
        Error(absl::StrCat(pending.where,
                           " has an invalid default value: ", value.status().message()));
        continue;
      }
      pending.input->default_value = *std::move(value);
      pending.input->default_value_literal = LiteralToValue(*pending.literal).ToLiteral();
    }
  }

  void AddDirective(const ast::DirectiveDefinition& definition, absl::string_view source) {
    if (schema_->directives_.contains(definition.name)) {
      Error(absl::StrCat(source, ": directive '@", definition.name, "' is defined more than once"));
      return;
    }
    DirectiveDef& directive = schema_->directive_storage_.emplace_back();
    directive.name = definition.name;
    directive.description = definition.description;
    directive.locations = definition.locations;
    directive.repeatable = definition.repeatable;
    for (const ast::InputValueDefinition& arg_ast : definition.arguments) {
      InputValueDef& arg = directive.args.emplace_back();
      pending_directive_args_.push_back({&arg, &arg_ast,
                                         absl::StrCat(source, ": directive '@", definition.name,
                                                      "' argument '", arg_ast.name, "'")});
    }
    schema_->directives_[directive.name] = &directive;
    schema_->directive_list_.push_back(&directive);
  }

  void ResolveDirectiveArgs() {
    for (const PendingDirectiveArg& pending : pending_directive_args_) {
      FillInputValue(*pending.ast, pending.where, pending.arg);
    }
  }

  void SetRootTypes(const std::vector<const ast::SchemaDefinition*>& definitions) {
    std::string query = "Query";
    std::string mutation = "Mutation";
    std::string subscription = "Subscription";
    bool explicit_roots = false;
    for (const ast::SchemaDefinition* definition : definitions) {
      if (!definition->description.empty()) schema_->description_ = definition->description;
      for (const auto& [operation, name] : definition->root_types) {
        if (!explicit_roots) {
          explicit_roots = true;
          query.clear();
          mutation.clear();
          subscription.clear();
        }
        switch (operation) {
          case ast::OperationType::kQuery:
            query = name;
            break;
          case ast::OperationType::kMutation:
            mutation = name;
            break;
          case ast::OperationType::kSubscription:
            subscription = name;
            break;
        }
      }
    }
    auto root = [&](const std::string& name, bool required) -> const TypeDef* {
      if (name.empty()) return nullptr;
      const TypeDef* type = FindType(name);
      if (type == nullptr) {
        if (required || explicit_roots) {
          Error(absl::StrCat("root type '", name, "' is not defined"));
        }
        return nullptr;
      }
      if (type->kind != TypeKind::kObject) {
        Error(absl::StrCat("root type '", name, "' must be an object type"));
        return nullptr;
      }
      return type;
    };
    schema_->query_type_ = root(query, /*required=*/true);
    schema_->mutation_type_ = root(mutation, /*required=*/false);
    schema_->subscription_type_ = root(subscription, /*required=*/false);
  }

  FieldDef* AddMetaField(std::string name, const TypeRef* type) {
    FieldDef& field = schema_->meta_fields_.emplace_back();
    field.name = std::move(name);
    field.type = type;
    return &field;
  }

 private:
  struct PendingField {
    TypeDef* type;
    size_t index;
    const ast::FieldDefinition* ast;
    absl::string_view source;
  };
  struct PendingInput {
    TypeDef* type;
    size_t index;
    const ast::InputValueDefinition* ast;
    absl::string_view source;
  };
  struct PendingDefault {
    InputValueDef* input;
    const ast::Value* literal;
    std::string where;
  };
  struct PendingDirectiveArg {
    InputValueDef* arg;
    const ast::InputValueDefinition* ast;
    std::string where;
  };

  Schema* const schema_;
  std::vector<std::string> errors_;
  std::vector<PendingField> pending_field_types_;
  std::vector<PendingInput> pending_input_fields_;
  std::vector<PendingDefault> pending_defaults_;
  std::vector<PendingDirectiveArg> pending_directive_args_;
  // Read in the declaration order of the types, so the result is deterministic.
  absl::flat_hash_map<TypeDef*, std::vector<std::string>> interface_names_;
  absl::flat_hash_map<TypeDef*, std::vector<std::string>> member_names_;
};

std::string TypeRef::ToString() const {
  switch (kind) {
    case TypeKind::kList:
      return absl::StrCat("[", of_type->ToString(), "]");
    case TypeKind::kNonNull:
      return absl::StrCat(of_type->ToString(), "!");
    default:
      return named->name;
  }
}

const InputValueDef* FieldDef::FindArg(absl::string_view arg_name) const {
  for (const InputValueDef& arg : args) {
    if (arg.name == arg_name) return &arg;
  }
  return nullptr;
}

const FieldDef* TypeDef::FindField(absl::string_view field_name) const {
  auto it = field_index_.find(field_name);
  return it == field_index_.end() ? nullptr : &fields[it->second];
}

const EnumValueDef* TypeDef::FindEnumValue(absl::string_view value_name) const {
  for (const EnumValueDef& value : enum_values) {
    if (value.name == value_name) return &value;
  }
  return nullptr;
}

const InputValueDef* TypeDef::FindInputField(absl::string_view field_name) const {
  for (const InputValueDef& field : input_fields) {
    if (field.name == field_name) return &field;
  }
  return nullptr;
}

bool TypeDef::IsPossibleType(const TypeDef* object_type) const {
  if (object_type == this) return true;
  return std::find(possible_types.begin(), possible_types.end(), object_type) !=
         possible_types.end();
}

bool DirectiveDef::AllowedAt(absl::string_view location) const {
  return std::find(locations.begin(), locations.end(), location) != locations.end();
}

const InputValueDef* DirectiveDef::FindArg(absl::string_view arg_name) const {
  for (const InputValueDef& arg : args) {
    if (arg.name == arg_name) return &arg;
  }
  return nullptr;
}

const TypeDef* Schema::FindType(absl::string_view name) const {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : it->second;
}

const DirectiveDef* Schema::FindDirective(absl::string_view name) const {
  auto it = directives_.find(name);
  return it == directives_.end() ? nullptr : it->second;
}

const FieldDef* Schema::FindFieldIncludingMeta(const TypeDef& parent,
                                               absl::string_view name) const {
  if (name.size() > 2 && name[0] == '_' && name[1] == '_') {
    if (name == "__typename") return parent.is_composite() ? typename_field_ : nullptr;
    if (&parent == query_type_) {
      if (name == "__schema") return schema_field_;
      if (name == "__type") return type_field_;
    }
  }
  if (parent.kind != TypeKind::kObject && parent.kind != TypeKind::kInterface) return nullptr;
  return parent.FindField(name);
}

absl::Status SchemaBuilder::AddSdl(absl::string_view sdl, absl::string_view source_name) {
  ParseOptions options;
  options.max_tokens = SIZE_MAX;
  options.max_depth = 256;
  absl::StatusOr<ast::TypeSystemDocument> document = ParseTypeSystemDocument(sdl, options);
  if (!document.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_name, ": Invalid Syntax : ", document.status().message()));
  }
  sources_.push_back(Source{std::string(source_name), *std::move(document)});
  return absl::OkStatus();
}

void SchemaBuilder::BindResolver(absl::string_view coordinate, Resolver resolver) {
  resolvers_.emplace_back(std::string(coordinate), std::move(resolver));
}

void SchemaBuilder::BindTypeResolver(absl::string_view abstract_type, TypeResolver resolver) {
  type_resolvers_.emplace_back(std::string(abstract_type), std::move(resolver));
}

absl::StatusOr<std::unique_ptr<const Schema>> SchemaBuilder::Build() {
  // The built-in definitions come first so user SDL can refer to them.
  std::vector<Source> builtins;
  for (absl::string_view builtin : {kBuiltinSdl, IntrospectionSdl()}) {
    ParseOptions options;
    options.max_tokens = SIZE_MAX;
    absl::StatusOr<ast::TypeSystemDocument> document = ParseTypeSystemDocument(builtin, options);
    if (!document.ok()) return document.status();
    builtins.push_back(Source{"<built-in>", *std::move(document)});
  }
  std::vector<const Source*> all;
  for (const Source& source : builtins) all.push_back(&source);
  for (const Source& source : sources_) all.push_back(&source);

  std::unique_ptr<Schema> schema(new Schema());
  SchemaAssembler assembler(schema.get());
  std::vector<const ast::SchemaDefinition*> schema_definitions;
  for (const Source* source : all) {
    for (const ast::TypeDefinition& type : source->document.types) {
      if (!type.is_extension) assembler.DeclareType(type, source->name);
    }
  }
  for (const Source* source : all) {
    for (const ast::TypeDefinition& type : source->document.types) {
      assembler.AddMembers(type, source->name);
    }
    for (const ast::DirectiveDefinition& directive : source->document.directives) {
      assembler.AddDirective(directive, source->name);
    }
    for (const ast::SchemaDefinition& definition : source->document.schemas) {
      schema_definitions.push_back(&definition);
    }
  }
  assembler.ResolveFieldsAndInputs();
  assembler.ResolveDirectiveArgs();
  assembler.ResolveInterfacesAndUnions();
  assembler.CheckTypes();
  assembler.CoerceDefaults();
  assembler.SetRootTypes(schema_definitions);

  // Meta fields.
  const TypeRef* string_ref = schema->FindType("String")->ref;
  const TypeRef* non_null_string = assembler.Wrap(TypeKind::kNonNull, string_ref);
  schema->typename_field_ = assembler.AddMetaField("__typename", non_null_string);
  FieldDef* schema_field = assembler.AddMetaField(
      "__schema", assembler.Wrap(TypeKind::kNonNull, schema->FindType("__Schema")->ref));
  FieldDef* type_field = assembler.AddMetaField("__type", schema->FindType("__Type")->ref);
  InputValueDef& name_arg = type_field->args.emplace_back();
  name_arg.name = "name";
  name_arg.type = non_null_string;
  schema_field->resolver = SchemaMetaResolver(schema.get());
  type_field->resolver = TypeMetaResolver(schema.get());
  schema->schema_field_ = schema_field;
  schema->type_field_ = type_field;

  // Resolvers: introspection first, so that user bindings cannot be shadowed by them.
  std::vector<std::pair<std::string, Resolver>> bindings = IntrospectionResolvers();
  for (const auto& binding : resolvers_) bindings.push_back(binding);
  for (auto& [coordinate, resolver] : bindings) {
    size_t dot = coordinate.find('.');
    TypeDef* type =
        dot == std::string::npos ? nullptr : assembler.FindType(coordinate.substr(0, dot));
    FieldDef* field = nullptr;
    if (type != nullptr && type->kind == TypeKind::kObject) {
      auto it = type->field_index_.find(coordinate.substr(dot + 1));
      if (it != type->field_index_.end()) field = &type->fields[it->second];
    }
    if (field == nullptr) {
      assembler.Error(absl::StrCat("resolver bound to '", coordinate,
                                   "', which is not a field of an object type"));
      continue;
    }
    field->resolver = std::move(resolver);
  }
  for (auto& [name, resolver] : type_resolvers_) {
    TypeDef* type = assembler.FindType(name);
    if (type == nullptr || !type->is_abstract()) {
      assembler.Error(
          absl::StrCat("type resolver bound to '", name, "', which is not an interface or union"));
      continue;
    }
    type->type_resolver = std::move(resolver);
  }

  if (!assembler.errors().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid schema: ", absl::StrJoin(assembler.errors(), "; ")));
  }
  for (const TypeDef& type : schema->type_storage_) schema->sorted_types_.push_back(&type);
  std::sort(schema->sorted_types_.begin(), schema->sorted_types_.end(),
            [](const TypeDef* a, const TypeDef* b) { return a->name < b->name; });
  return std::unique_ptr<const Schema>(std::move(schema));
}

}  // namespace stackhouse::graphql
