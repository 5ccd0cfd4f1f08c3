#include "query/query_service.h"

#include "absl/strings/match.h"
#include "common/embedded_files.h"
#include "common/status_macros.h"

namespace stackhouse::query {

absl::StatusOr<std::shared_ptr<const graphql::Schema>> BuildSchema(const QueryDeps& given) {
  QueryDeps deps = given;
  if (deps.ebpf_analyzer == nullptr && deps.ebpf_store != nullptr) {
    deps.ebpf_analyzer = std::make_shared<const profile::EbpfAnalyzer>(
        deps.ebpf_store, deps.config != nullptr ? deps.config->query.ebpf_analysis_max_samples
                                                : config::QueryConfig().ebpf_analysis_max_samples);
  }
  graphql::SchemaBuilder builder;
  for (const EmbeddedFile& file : EmbeddedFiles()) {
    if (!absl::EndsWith(file.name, ".graphqls")) continue;
    SH_RETURN_IF_ERROR(builder.AddSdl(file.content, file.name));
  }
  builder.BindResolver(
      "Query.version",
      [version = deps.version](const graphql::ResolverContext&) -> absl::StatusOr<graphql::Result> {
        return graphql::Result::String(version);
      });
  builder.BindResolver(
      "Mutation.version",
      [version = deps.version](const graphql::ResolverContext&) -> absl::StatusOr<graphql::Result> {
        return graphql::Result::String(version);
      });
  BindMetadataResolvers(deps, &builder);
  BindProfileResolvers(deps, &builder);
  BindEbpfResolvers(deps, &builder);
  BindContinuousResolvers(deps, &builder);
  BindMetricsResolvers(deps, &builder);
  BindTopologyResolvers(deps, &builder);
  BindTraceResolvers(deps, &builder);
  BindUiResolvers(deps, &builder);
  BindDiffResolvers(deps, &builder);
  SH_ASSIGN_OR_RETURN(auto schema, builder.Build());
  return std::shared_ptr<const graphql::Schema>(std::move(schema));
}

absl::StatusOr<std::unique_ptr<graphql::HttpEndpoint>> BuildQueryEndpoint(const QueryDeps& deps) {
  SH_ASSIGN_OR_RETURN(auto schema, BuildSchema(deps));
  graphql::Limits limits;
  limits.max_body_bytes = static_cast<size_t>(deps.config->query.max_body_bytes);
  limits.max_query_depth = static_cast<size_t>(deps.config->query.max_depth);
  limits.max_fields = static_cast<size_t>(deps.config->query.max_fields);
  limits.max_tokens = static_cast<size_t>(deps.config->query.max_tokens);
  return std::make_unique<graphql::HttpEndpoint>(std::move(schema), limits);
}

}  // namespace stackhouse::query
