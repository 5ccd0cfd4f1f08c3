#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace stackhouse::sim {

// The random source of the simulator: seedable, so that `--seed` makes plans repeatable.
using Rng = std::mt19937_64;

// What a request spends a stretch of its time on. Each kind has its own Java stack shape and,
// for calls to other systems, its own span.
enum class PhaseKind {
  kAuth,       // JWT signature check in the Spring Security filter chain (CPU)
  kPoolWait,   // waiting for a JDBC connection from HikariCP at transaction start (rare)
  kCache,      // Redis GET through Lettuce (network wait)
  kDbQuery,    // MySQL query through JdbcTemplate (network wait, mostly)
  kDbRows,     // mapping result-set rows (CPU)
  kHttpCall,   // call to another service through RestTemplate/Apache HttpClient
  kMapping,    // entities to DTOs: prices, dates, formatting (CPU)
  kLogging,    // synchronous logback append (rare)
  kSerialize,  // Jackson writing the response body (CPU)
};

// A stretch [begin_ms, end_ms) of a request, offsets from its start.
struct Phase {
  PhaseKind kind;
  int64_t begin_ms = 0;
  int64_t end_ms = 0;
};

// One phase a route may go through: included with `probability`, taking a share of the request
// drawn uniformly from [min_share, max_share] (shares are normalised over included phases).
struct PhaseTemplate {
  PhaseKind kind;
  double probability;
  double min_share;
  double max_share;
};

// A handler of the simulated Spring Boot application: the endpoint name agents see (the entry
// span's operation name), the code that serves it, and how long it takes. Immutable.
struct Route {
  std::string endpoint;     // "GET:/orders"
  std::string http_method;  // "GET"
  std::string path;         // "/orders"
  std::string controller;   // "com.example.shop.web.OrderController"
  std::string handler;      // "listOrders"
  int handler_line = 0;
  std::string service;           // "com.example.shop.service.OrderService"
  std::string service_method;    // "listOrders"
  int service_line = 0;          // first line of the service method's body
  int accessor_number = 0;       // jdk.internal.reflect.GeneratedMethodAccessor<N>
  std::string repository_frame;  // "com.example.shop.repository.OrderRepository.findRecent:41"
  std::string db_operation;      // exit span name of the query
  std::string db_statement;
  std::string client_frame;         // our HTTP client wrapper, e.g. "...InventoryClient.stock:44"
  std::string rest_template_frame;  // "org.springframework.web.client.RestTemplate.exchange:681"
  std::string remote_peer;          // "inventory-svc:8080"
  std::string remote_method;        // "GET"
  std::string remote_path;          // "/api/stock"
  // Request duration: log-normal with this median and sigma, clamped to [min_ms, max_ms].
  double median_ms = 100;
  double sigma = 0.6;
  int64_t min_ms = 1;
  int64_t max_ms = 1000;
  double error_rate = 0.01;
  std::vector<PhaseTemplate> phases;
};

// What one request will do, decided when it starts.
struct RequestPlan {
  const Route* route = nullptr;
  int64_t duration_ms = 0;
  std::vector<Phase> phases;  // in order, covering [0, duration_ms)
  bool error = false;
  bool http_connects = false;  // the HTTP call first opens a new connection
};

// The simulated application: a primary route (the endpoint profiling tasks usually target, slow
// enough to be profiled: 200 ms - 3 s) and a few other routes, and the Java stacks a thread
// dump shows while a request runs. Stacks are 40-80 frames deep, root (`java.lang.Thread.run`)
// first, like the Java agent's codeSignatures; the innermost frames follow the request's phases
// and vary between a few hot variants and occasional rare branches, so a merged tree has
// structure. Thread-compatible: const methods may run concurrently.
class JavaAppModel {
 public:
  // `primary_endpoint` names the primary route (e.g. "GET:/orders"); its HTTP method is the
  // part before ':' (GET when there is none). Other routes keep their own names, except one
  // with the same name, which is left out.
  explicit JavaAppModel(absl::string_view primary_endpoint);

  // routes()[0] is the primary route.
  const std::vector<Route>& routes() const { return routes_; }

  // The route a new request takes: the primary route with probability `primary_share`, else
  // one of the others.
  const Route& PickRoute(double primary_share, Rng& rng) const;

  // Draws a request's duration, phases and error flag.
  RequestPlan Plan(const Route& route, Rng& rng) const;

  // The stack of the request's thread `offset_ms` after it started (clamped to the plan).
  std::vector<std::string> Dump(const RequestPlan& plan, int64_t offset_ms, Rng& rng) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace stackhouse::sim
