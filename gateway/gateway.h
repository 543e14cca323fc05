// The assembled gateway: upstream channels, readiness checker, every route and the HTTP server, wired from
// GatewaySettings. main() and the in-process server tests build exactly this.
#pragma once

#include <cstdint>
#include <memory>

#include "gateway/edge/admission.h"
#include "gateway/edge/rate_limiter.h"
#include "gateway/edge/token_cache.h"
#include "gateway/edge/token_store.h"
#include "gateway/gateway_settings.h"
#include "gateway/http/http_server.h"
#include "gateway/http/router.h"
#include "gateway/routes/token_routes.h"
#include "gateway/upstream/readiness_checker.h"
#include "gateway/upstream/upstream_channels.h"
#include "services/common/pg_pool.h"

namespace rally::common::metrics {
class Registry;
}

namespace rally::gateway {

class Gateway {
 public:
  // Creates the channels, registers the routes and starts serving. Throws std::runtime_error when the
  // listen address cannot be bound. `registry` receives the gateway's metrics and is what /metrics shows.
  Gateway(const GatewaySettings& settings, common::metrics::Registry& registry);
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  std::uint16_t port() const { return server_.port(); }
  // Every route, for listings (the OpenAPI coverage test).
  const http::Router& router() const { return router_; }
  // Graceful: stops accepting and drains for settings.shutdown_drain. Later calls return at once.
  void shutdown() { server_.shutdown(settings_.shutdown_drain); }

 private:
  // Declaration order is construction order: the server starts last, once every route exists, and stops
  // first, before what its handlers use.
  GatewaySettings settings_;
  upstream::UpstreamChannels channels_;
  upstream::ReadinessChecker readiness_;
  common::PgPool postgres_;  // the gateway's schema: API tokens
  edge::TokenStore token_store_;
  edge::TokenCache token_cache_;  // loads in the background: the gateway starts without PostgreSQL
  routes::TokenRoutes token_routes_;
  std::unique_ptr<edge::RateLimiter> rate_limiter_;  // null when rate limits are off
  edge::Admission admission_;                        // before the router: its routes' handlers go through it
  http::Router router_;
  http::HttpServer server_;
};

}  // namespace rally::gateway
