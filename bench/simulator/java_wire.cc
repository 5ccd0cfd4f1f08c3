#include "simulator/java_wire.h"

#include <algorithm>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace stackhouse::sim {
namespace {

// Component ids from SkyWalking's component-libraries.yml (shared/data/components.tsv).
constexpr int kSpringMvc = 14;
constexpr int kSpringRestTemplate = 13;
constexpr int kMysqlConnectorJava = 33;
constexpr int kLettuce = 57;
constexpr int kHikariCp = 116;

std::string RandomHex(Rng& rng, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(static_cast<size_t>(digits), '0');
  for (char& c : out) c = kHex[rng() % 16];
  return out;
}

std::string RandomLower(Rng& rng, int length) {
  static constexpr char kChars[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out(static_cast<size_t>(length), 'x');
  for (char& c : out) c = kChars[rng() % (sizeof(kChars) - 1)];
  return out;
}

void AddTag(skywalking::v3::SpanObject* span, absl::string_view key, absl::string_view value) {
  auto* tag = span->add_tags();
  tag->set_key(std::string(key));
  tag->set_value(std::string(value));
}

void AddErrorLog(skywalking::v3::SpanObject* span, int64_t time_ms, absl::string_view kind,
                 absl::string_view message, absl::string_view stack) {
  auto* log = span->add_logs();
  log->set_time(time_ms);
  for (auto [key, value] :
       {std::pair{"event", absl::string_view("error")}, std::pair{"error.kind", kind},
        std::pair{"message", message}, std::pair{"stack", stack}}) {
    auto* data = log->add_data();
    data->set_key(key);
    data->set_value(std::string(value));
  }
}

// "yyyy-MM-dd HH:mm:ss" in UTC, the agent's `Start Time` format.
std::string FormatTime(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return absl::StrFormat("%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace

JavaIdentity MakeJavaIdentity(const std::string& service, int index, int64_t now_ms, Rng& rng) {
  JavaIdentity id;
  id.service = service;
  id.process_id = RandomHex(rng, 32);
  id.hostname = absl::StrCat(service, "-", RandomHex(rng, 9), "-", RandomLower(rng, 5));
  id.ipv4s = {absl::StrCat("10.", 40 + index / 250, ".", index % 250, ".", 10 + rng() % 240),
              absl::StrCat("172.17.0.", 2 + index % 250)};
  id.instance = absl::StrCat(RandomHex(rng, 32), "@", id.ipv4s[0]);
  id.pid = 1 + static_cast<int>(rng() % 30000);
  id.start_time_ms = now_ms;
  return id;
}

std::string JavaIdGenerator::Next(int thread_id, int64_t now_ms) {
  int64_t seq = seq_;
  seq_ = (seq_ + 1) % 10000;
  return absl::StrCat(process_id_, ".", thread_id, ".", now_ms * 10000 + seq);
}

skywalking::v3::InstanceProperties MakeInstanceProperties(const JavaIdentity& identity) {
  skywalking::v3::InstanceProperties props;
  props.set_service(identity.service);
  props.set_serviceinstance(identity.instance);
  auto add = [&props](absl::string_view key, absl::string_view value) {
    auto* kv = props.add_properties();
    kv->set_key(std::string(key));
    kv->set_value(std::string(value));
  };
  add("OS Name", "Linux");
  add("hostname", identity.hostname);
  for (const std::string& ip : identity.ipv4s) add("ipv4", ip);
  add("Process No.", absl::StrCat(identity.pid));
  add("language", identity.language);
  add("Start Time", FormatTime(identity.start_time_ms));
  if (identity.language != "java") return props;
  add("JVM Arguments",
      "[\"-javaagent:/skywalking/agent/skywalking-agent.jar\",\"-Xms512m\",\"-Xmx1g\","
      "\"-XX:+UseG1GC\"]");
  add("Jar Dependencies",
      "[\"spring-webmvc-5.3.31.jar\",\"tomcat-embed-core-9.0.83.jar\","
      "\"jackson-databind-2.15.3.jar\",\"mysql-connector-j-8.2.0.jar\",\"HikariCP-5.0.1.jar\","
      "\"lettuce-core-6.2.7.RELEASE.jar\",\"httpclient-4.5.14.jar\"]");
  return props;
}

skywalking::v3::SegmentObject MakeSegment(const JavaIdentity& identity, const RequestPlan& plan,
                                          const std::string& trace_id,
                                          const std::string& segment_id, int64_t start_ms,
                                          int64_t end_ms, Rng& rng) {
  const Route& r = *plan.route;
  skywalking::v3::SegmentObject segment;
  segment.set_traceid(trace_id);
  segment.set_tracesegmentid(segment_id);
  segment.set_service(identity.service);
  segment.set_serviceinstance(identity.instance);

  int64_t ran_ms = end_ms - start_ms;
  std::vector<skywalking::v3::SpanObject> children;
  auto new_child = [&](int64_t begin_offset, int64_t end_offset) {
    skywalking::v3::SpanObject span;
    span.set_spanid(static_cast<int32_t>(children.size() + 1));
    span.set_parentspanid(0);
    span.set_starttime(start_ms + begin_offset);
    span.set_endtime(start_ms + std::min(end_offset, ran_ms));
    return span;
  };

  bool connection_taken = false;
  for (const Phase& phase : plan.phases) {
    if (phase.begin_ms >= ran_ms) break;  // not reached before the simulator stopped
    bool db = phase.kind == PhaseKind::kPoolWait || phase.kind == PhaseKind::kDbQuery;
    if (db && !connection_taken) {
      connection_taken = true;
      bool waited = phase.kind == PhaseKind::kPoolWait;
      auto span = new_child(phase.begin_ms, waited ? phase.end_ms : phase.begin_ms);
      span.set_operationname("HikariCP/Connection/getConnection");
      span.set_spantype(skywalking::v3::Local);
      span.set_spanlayer(skywalking::v3::Unknown);
      span.set_componentid(kHikariCp);
      children.push_back(std::move(span));
    }
    switch (phase.kind) {
      case PhaseKind::kCache: {
        auto span = new_child(phase.begin_ms, phase.end_ms);
        span.set_operationname("Lettuce/GET");
        span.set_peer("redis-master:6379");
        span.set_spantype(skywalking::v3::Exit);
        span.set_spanlayer(skywalking::v3::Cache);
        span.set_componentid(kLettuce);
        AddTag(&span, "cache.type", "Redis");
        AddTag(&span, "cache.cmd", "GET");
        AddTag(&span, "cache.op", "read");
        AddTag(&span, "cache.key", absl::StrCat("orders:recent:", 1000 + rng() % 90000));
        children.push_back(std::move(span));
        break;
      }
      case PhaseKind::kDbQuery: {
        auto span = new_child(phase.begin_ms, phase.end_ms);
        span.set_operationname(r.db_operation);
        span.set_peer("mysql-primary:3306");
        span.set_spantype(skywalking::v3::Exit);
        span.set_spanlayer(skywalking::v3::Database);
        span.set_componentid(kMysqlConnectorJava);
        AddTag(&span, "db.type", "Mysql");
        AddTag(&span, "db.instance", "shop");
        AddTag(&span, "db.statement", r.db_statement);
        children.push_back(std::move(span));
        break;
      }
      case PhaseKind::kHttpCall: {
        auto span = new_child(phase.begin_ms, phase.end_ms);
        span.set_operationname(r.remote_path);
        span.set_peer(r.remote_peer);
        span.set_spantype(skywalking::v3::Exit);
        span.set_spanlayer(skywalking::v3::Http);
        span.set_componentid(kSpringRestTemplate);
        AddTag(&span, "url", absl::StrCat("http://", r.remote_peer, r.remote_path));
        AddTag(&span, "http.method", r.remote_method);
        children.push_back(std::move(span));
        break;
      }
      default:
        break;
    }
  }

  skywalking::v3::SpanObject entry;
  entry.set_spanid(0);
  entry.set_parentspanid(-1);
  entry.set_starttime(start_ms);
  entry.set_endtime(end_ms);
  entry.set_operationname(r.endpoint);
  entry.set_peer(absl::StrCat("10.", 30 + rng() % 4, ".", rng() % 250, ".", 2 + rng() % 250, ":",
                              32768 + rng() % 28000));
  entry.set_spantype(skywalking::v3::Entry);
  entry.set_spanlayer(skywalking::v3::Http);
  entry.set_componentid(kSpringMvc);
  AddTag(&entry, "url", absl::StrCat("http://", identity.hostname, ":8080", r.path));
  AddTag(&entry, "http.method", r.http_method);

  std::string status = "200";
  if (plan.error) {
    // Fail the last remote call, else the request itself.
    skywalking::v3::SpanObject* failed = nullptr;
    for (auto& span : children) {
      if (span.spantype() == skywalking::v3::Exit) failed = &span;
    }
    std::string kind = "java.lang.IllegalStateException";
    std::string message = "order total mismatch";
    if (failed != nullptr && failed->spanlayer() == skywalking::v3::Http) {
      kind = "org.springframework.web.client.HttpServerErrorException$ServiceUnavailable";
      message =
          absl::StrCat("503 Service Unavailable: [no healthy upstream] from ", failed->peer());
      AddTag(failed, "http.status_code", "503");
    } else if (failed != nullptr && failed->spanlayer() == skywalking::v3::Database) {
      kind = "com.mysql.cj.jdbc.exceptions.MySQLTimeoutException";
      message = "Statement cancelled due to timeout or client request";
    } else if (failed != nullptr) {
      kind = "io.lettuce.core.RedisCommandTimeoutException";
      message = "Command timed out after 1 second(s)";
    }
    absl::string_view file = r.service;
    file.remove_prefix(file.rfind('.') + 1);
    std::string stack =
        absl::StrCat(kind, ": ", message, "\n\tat ", r.service, ".", r.service_method, "(", file,
                     ".java:", r.service_line + 3, ")\n");
    if (failed != nullptr) {
      failed->set_iserror(true);
      AddErrorLog(failed, failed->endtime(), kind, message, stack);
    }
    status = "500";
    entry.set_iserror(true);
    AddErrorLog(&entry, end_ms, kind, message, stack);
  }
  AddTag(&entry, "http.status_code", status);

  // The agent archives a span when it finishes: children by end time, the entry span last.
  std::stable_sort(children.begin(), children.end(),
                   [](const auto& a, const auto& b) { return a.endtime() < b.endtime(); });
  for (auto& span : children) *segment.add_spans() = std::move(span);
  *segment.add_spans() = std::move(entry);
  return segment;
}

}  // namespace stackhouse::sim
