#include "graphql/http_endpoint.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace stackhouse::graphql {
namespace {

class HttpEndpointTest : public ::testing::Test {
 protected:
  HttpResponse Post(absl::string_view body, absl::string_view content_type = "application/json",
                    absl::string_view accept = "application/json") {
    HttpRequest request;
    request.method = "POST";
    request.content_type = content_type;
    request.accept = accept;
    request.body = body;
    return endpoint_.Handle(request);
  }
  HttpResponse Get(std::map<std::string, std::string, std::less<>> params) {
    HttpRequest request;
    request.method = "GET";
    request.query_params = std::move(params);
    return endpoint_.Handle(request);
  }

  Limits SmallBodyLimits() {
    Limits limits;
    limits.max_body_bytes = 64;
    return limits;
  }

  HttpEndpoint endpoint_{testing::TestSchema(), Limits()};
};

constexpr absl::string_view kJson = "application/json; charset=utf-8";
constexpr absl::string_view kText = "text/plain; charset=utf-8";

TEST_F(HttpEndpointTest, PostJson) {
  HttpResponse r = Post(
      R"({"query":"query Q($n: String) { hello(name: $n) }","variables":{"n":"x"},"operationName":"Q"})",
      "application/json; charset=utf-8", "application/json; charset=utf-8");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, kJson);
  EXPECT_EQ(r.body, R"({"data":{"hello":"hello x"}})");
  // variables and operationName may be null or absent.
  EXPECT_EQ(Post(R"({"query":"{ version }","variables":null,"operationName":null})").body,
            R"({"data":{"version":"10.3.0-test"}})");
  EXPECT_EQ(Post(R"({"query":"{ version }"})", "application/graphql-response+json").status, 200);
}

TEST_F(HttpEndpointTest, PostGraphqlBody) {
  HttpResponse r = Post("{ version }", "application/graphql");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"data":{"version":"10.3.0-test"}})");
}

TEST_F(HttpEndpointTest, GetQueriesButNotMutations) {
  HttpResponse r = Get({{"query", "query Q($n: String) { hello(name: $n) }"},
                        {"variables", R"({"n":"g"})"},
                        {"operationName", "Q"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"data":{"hello":"hello g"}})");
  HttpResponse m = Get({{"query", "mutation { append(entry: \"x\") }"}});
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.content_type, kJson);
  EXPECT_NE(m.body.find("Mutations are not allowed in GET requests"), std::string::npos);
  EXPECT_EQ(Get({}).body, "Missing query");
  HttpResponse bad = Get({{"query", "{ version }"}, {"variables", "{nope"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, "Failed to parse a JSON document: {nope");
}

TEST_F(HttpEndpointTest, TransportErrors) {
  struct Case {
    HttpResponse response;
    int status;
    std::string body;
  };
  HttpRequest put;
  put.method = "PUT";
  HttpResponse put_response = endpoint_.Handle(put);
  EXPECT_EQ(put_response.headers,
            (std::vector<std::pair<std::string, std::string>>{{"Allow", "GET, POST"}}));
  for (const Case& c : std::vector<Case>{
           {put_response, 405, "Method Not Allowed"},
           {Post("", "application/json"), 400, "Missing request body"},
           {Post("{not json", "application/json"), 400,
            "Failed to parse a JSON document: {not json"},
           {Post("{}"), 400, "Missing query"},
           {Post(R"({"query":""})"), 400, "Missing query"},
           {Post(R"({"query":null})"), 400, "Missing query"},
           {Post(R"({"query":42})"), 400, "Invalid request: 'query' must be a string"},
           {Post(R"([1])"), 400, "Invalid request: the body must be a JSON object"},
           {Post(R"({"query":"{a}","variables":[1]})"), 400,
            "Invalid request: 'variables' must be a JSON object"},
           {Post(R"({"query":"{a}","operationName":1})"), 400,
            "Invalid request: 'operationName' must be a string"},
           {Post("{}", "text/plain"), 415,
            "Unsupported Media Type: 'text/plain'; use application/json or application/graphql"},
           {Post("{}", ""), 415,
            "Unsupported Media Type: ''; use application/json or application/graphql"},
           {Post("{}", "application/json", "text/html"), 406,
            "Not Acceptable: the response is application/json"},
           {Post("{}", "application/json", "application/json;q=0, text/html"), 406,
            "Not Acceptable: the response is application/json"},
       }) {
    EXPECT_EQ(c.response.status, c.status) << c.body;
    EXPECT_EQ(c.response.content_type, kText) << c.body;
    EXPECT_EQ(c.response.body, c.body);
  }
  for (absl::string_view accept :
       {"", "*/*", "text/html, application/*;q=0.5", "application/graphql-response+json"}) {
    EXPECT_EQ(Post(R"({"query":"{ version }"})", "application/json", accept).status, 200) << accept;
  }
}

TEST_F(HttpEndpointTest, BodyLimit) {
  HttpEndpoint small(testing::TestSchema(), SmallBodyLimits());
  HttpRequest request;
  request.method = "POST";
  request.content_type = "application/json";
  std::string body(65, ' ');
  request.body = body;
  HttpResponse r = small.Handle(request);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body,
            "Request body of 65 bytes exceeds the limit of 64 bytes (limit max_body_bytes)");
}

TEST_F(HttpEndpointTest, GraphqlErrorStatuses) {
  HttpResponse validation = Post(R"({"query":"{ nope }"})");
  EXPECT_EQ(validation.status, 400);
  EXPECT_EQ(validation.content_type, kJson);
  EXPECT_EQ(
      validation.body,
      R"({"errors":[{"message":"Validation error (FieldUndefined@[nope]) : Field 'nope' in type 'Query' is undefined","locations":[{"line":1,"column":3}],"extensions":{"classification":"ValidationError"}}]})");
  HttpResponse syntax = Post(R"({"query":"{ version"})");
  EXPECT_EQ(syntax.status, 200);
  EXPECT_EQ(
      syntax.body,
      R"j({"errors":[{"message":"Invalid Syntax : offending token '<EOF>' at line 1 column 10 (expected Name)","locations":[{"line":1,"column":10}],"extensions":{"classification":"InvalidSyntax"}}]})j");
  HttpResponse coercion =
      Post(R"({"query":"query ($n: Int!) { nodes(count: $n) { id } }","variables":{"n":"x"}})");
  EXPECT_EQ(coercion.status, 200);
  EXPECT_EQ(
      coercion.body,
      R"({"errors":[{"message":"Variable 'n' has an invalid value: Expected type 'Int' but was '\"x\"'","locations":[{"line":1,"column":8}],"extensions":{"classification":"ValidationError"}}]})");
  HttpResponse execution = Post(R"({"query":"{ failingNonNull }"})");
  EXPECT_EQ(execution.status, 200);
  EXPECT_EQ(
      execution.body,
      R"({"errors":[{"message":"Exception while fetching data (/failingNonNull) : please provide the service id or instance id","locations":[{"line":1,"column":3}],"path":["failingNonNull"],"extensions":{"classification":"DataFetchingException"}}],"data":null})");
}

TEST_F(HttpEndpointTest, HostileBodies) {
  std::string deep_json = "{\"query\":\"{ version }\",\"variables\":" + std::string(1 << 20, '[');
  HttpResponse r = Post(deep_json);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            "Failed to parse a JSON document: JSON nesting exceeds the limit of 64 (limit "
            "max_json_depth)");
  std::string deep_query = "{\"query\":\"";
  for (int i = 0; i < 300000; ++i) deep_query += "{a";
  deep_query += "\"}";
  HttpResponse q = Post(deep_query);
  EXPECT_EQ(q.status, 200);
  EXPECT_NE(q.body.find("max_query_depth"), std::string::npos);
}

TEST_F(HttpEndpointTest, ServerAnswersTheSchemaProbe) {
  EXPECT_EQ(Post(R"({"query":"{ __schema { queryType { name } } }"})").body,
            R"({"data":{"__schema":{"queryType":{"name":"Query"}}}})");
}

// Collects what Handle streams; refuses pieces after the first `accepted_writes`.
class CollectingStream final : public ResponseStream {
 public:
  void Begin(int status, absl::string_view content_type) override {
    EXPECT_EQ(writes, 0) << "Begin after a Write";
    ++begins;
    this->status = status;
    this->content_type = std::string(content_type);
  }
  bool Write(absl::string_view chunk) override {
    EXPECT_EQ(begins, 1) << "Write before Begin";
    body.append(chunk.data(), chunk.size());
    return ++writes <= accepted_writes;
  }

  int begins = 0;
  int writes = 0;
  int accepted_writes = 1 << 30;
  int status = 0;
  std::string content_type;
  std::string body;
};

HttpResponse PostStreamed(const HttpEndpoint& endpoint, absl::string_view body,
                          CollectingStream* stream) {
  HttpRequest request;
  request.method = "POST";
  request.content_type = "application/json";
  request.body = body;
  Engine::Options options;
  options.stream_chunk_bytes = 4096;
  return endpoint.Handle(request, options, stream);
}

// A large response is streamed byte for byte as it would have been returned, errors met
// before its first piece (here a failing root field resolved before the list) included; a
// small one is returned as without a stream.
TEST_F(HttpEndpointTest, LargeResponsesStreamExactlyTheBodyTheyWouldReturn) {
  for (const std::string query : {
           R"({"query":"{ nodes(count: 20000) { id value } }"})",
           R"({"query":"{ failing version nodes(count: 20000) { id } }"})",
           R"({"query":"{ nodes(count: 3000) { id children { id value } } }"})",
       }) {
    SCOPED_TRACE(query);
    const HttpResponse whole = Post(query);
    ASSERT_EQ(whole.status, 200);
    ASSERT_GT(whole.body.size(), 40'000u);
    CollectingStream stream;
    const HttpResponse streamed = PostStreamed(endpoint_, query, &stream);
    EXPECT_EQ(streamed.streamed, Engine::Streamed::kComplete) << streamed.cut_reason;
    EXPECT_TRUE(streamed.body.empty());
    EXPECT_EQ(stream.begins, 1);
    EXPECT_EQ(stream.status, 200);
    EXPECT_EQ(stream.content_type, kJson);
    EXPECT_GT(stream.writes, 10);
    EXPECT_EQ(stream.body, whole.body);
  }
  for (const std::string query : {R"({"query":"{ version nodes(count: 3) { id } }"})",
                                  R"({"query":"{ failingNonNull nodes(count: 20000) { id } }"})"}) {
    SCOPED_TRACE(query);
    CollectingStream stream;
    const HttpResponse small = PostStreamed(endpoint_, query, &stream);
    EXPECT_EQ(small.streamed, Engine::Streamed::kNo);
    EXPECT_EQ(stream.begins, 0);
    EXPECT_EQ(small.body, Post(query).body);
  }
}

// Errors found before execution keep their statuses and bodies when a stream is offered.
TEST_F(HttpEndpointTest, ErrorsBeforeTheFirstByteAreAnsweredAsUsual) {
  for (const std::string query : {
           R"({"query":"{ nodes(count: 20000) { id nope } }"})",          // validation: 400
           R"({"query":"{ nodes(count: 20000) { id "})",                  // syntax: 200
           R"({"query":"query($n: Int!) { nodes(count: $n) { id } }"})",  // variables
           R"({"query":"{ nodes(count: -1) { id } }"})",                  // the resolver fails
       }) {
    SCOPED_TRACE(query);
    const HttpResponse whole = Post(query);
    CollectingStream stream;
    const HttpResponse answered = PostStreamed(endpoint_, query, &stream);
    EXPECT_EQ(answered.streamed, Engine::Streamed::kNo);
    EXPECT_EQ(stream.begins, 0);
    EXPECT_EQ(answered.status, whole.status);
    EXPECT_EQ(answered.content_type, whole.content_type);
    EXPECT_EQ(answered.body, whole.body);
    EXPECT_NE(answered.body.find("\"errors\""), std::string::npos) << answered.body;
  }
}

// Errors met after the first piece follow the data when none came before it: the same JSON
// object as the unstreamed body, its `errors` last. When the head already listed errors, a later
// one would belong in what was sent, so the stream is cut; so is one whose client takes no
// more.
TEST_F(HttpEndpointTest, LateErrorsFollowTheDataOrCutTheStream) {
  {
    // The list streams first; the failing field after it is the response's first error.
    const std::string query = R"({"query":"{ nodes(count: 20000) { id } node { fail } }"})";
    CollectingStream stream;
    const HttpResponse late = PostStreamed(endpoint_, query, &stream);
    EXPECT_EQ(late.streamed, Engine::Streamed::kComplete) << late.cut_reason;
    const HttpResponse whole = Post(query);
    const size_t data_at = whole.body.find("\"data\":");
    ASSERT_TRUE(absl::StartsWith(whole.body, "{\"errors\":")) << whole.body.substr(0, 80);
    ASSERT_NE(data_at, std::string::npos);
    // {"errors":E,"data":D} streamed as {"data":D,"errors":E}.
    const std::string errors = whole.body.substr(10, data_at - 10 - 1);
    const std::string data = whole.body.substr(data_at + 7, whole.body.size() - data_at - 8);
    EXPECT_EQ(stream.body, absl::StrCat("{\"data\":", data, ",\"errors\":", errors, "}"));
    EXPECT_NE(errors.find("cannot compute fail of node"), std::string::npos);
  }
  {
    CollectingStream stream;
    const HttpResponse failing = PostStreamed(
        endpoint_, R"({"query":"{ failing nodes(count: 20000) { id fail } }"})", &stream);
    EXPECT_EQ(failing.streamed, Engine::Streamed::kCut);
    EXPECT_NE(failing.cut_reason.find("an error after the response had begun: "), std::string::npos)
        << failing.cut_reason;
    EXPECT_NE(failing.cut_reason.find("cannot compute fail of node"), std::string::npos);
    EXPECT_FALSE(absl::EndsWith(stream.body, "]}}")) << "cut in the middle, never ended as whole";
  }

  CollectingStream gone;
  gone.accepted_writes = 2;
  const HttpResponse refused =
      PostStreamed(endpoint_, R"({"query":"{ nodes(count: 20000) { id } }"})", &gone);
  EXPECT_EQ(refused.streamed, Engine::Streamed::kCut);
  EXPECT_EQ(refused.cut_reason, "the client took no more");
  EXPECT_EQ(gone.writes, 3);
}

}  // namespace
}  // namespace stackhouse::graphql
