#include "gateway/routes/health_routes.h"

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "gateway/http/exchange.h"
#include "gateway/http/router.h"
#include "gateway/upstream/readiness_checker.h"
#include "services/common/metrics.h"

namespace rally::gateway::routes {
namespace {

// {"status":"ready","services":{"llm-proxy":"SERVING",...}}, or "not_ready" with 503 when any is not
// serving: the same shape either way, so a person or a probe reads each service's state from it.
http::Response readiness_response(const upstream::ReadinessReport& report) {
  boost::json::object services;
  for (const auto& service : report.services) {
    services[service.service] = service.state;
  }
  const bool ready = report.ready();
  boost::json::object body{{"status", ready ? "ready" : "not_ready"}, {"services", std::move(services)}};
  return http::Response::json(ready ? 200 : 503, boost::json::serialize(body));
}

}  // namespace

void add_health_routes(http::Router& router, upstream::ReadinessChecker& readiness,
                       common::metrics::Registry& registry) {
  router.add(http::Method::kGet, "/healthz", [](const std::shared_ptr<http::Exchange>& exchange) {
    exchange->respond(http::Response::json(200, R"({"status":"ok"})"));
  });

  router.add(http::Method::kGet, "/readyz", [&readiness](const std::shared_ptr<http::Exchange>& exchange) {
    const std::string& request_id = exchange->request().request_id();
    readiness.check(request_id, [exchange](const upstream::ReadinessReport& report) {
      exchange->respond(readiness_response(report));
    });
  });

  router.add(http::Method::kGet, "/metrics", [&registry](const std::shared_ptr<http::Exchange>& exchange) {
    exchange->respond(http::Response::text(200, registry.render(), common::metrics::kTextFormatContentType));
  });
}

}  // namespace rally::gateway::routes
