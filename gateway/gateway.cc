#include "gateway/gateway.h"

#include "gateway/routes/arena_routes.h"
#include "gateway/routes/health_routes.h"
#include "gateway/routes/leaderboard_ws.h"
#include "gateway/routes/llm_routes.h"

namespace rally::gateway {
namespace {

http::Router make_router(const GatewaySettings& settings, const upstream::UpstreamChannels& channels,
                         upstream::ReadinessChecker& readiness, common::metrics::Registry& registry) {
  http::Router router;
  routes::add_health_routes(router, readiness, registry);
  routes::add_llm_routes(router, channels.llm_proxy(), settings.llm);
  routes::add_arena_routes(router, channels.arena(),
                           {settings.arena_timeout, settings.llm.stream_timeout, settings.llm.sse_heartbeat});
  routes::add_leaderboard_websocket(router, channels.arena(), settings.redis, settings.arena_timeout);
  return router;
}

}  // namespace

Gateway::Gateway(const GatewaySettings& settings, common::metrics::Registry& registry)
    : settings_(settings),
      channels_(settings_.upstreams),
      readiness_(channels_, settings_.ready_timeout),
      router_(make_router(settings_, channels_, readiness_, registry)),
      server_(settings_.http, router_, registry) {}

}  // namespace rally::gateway
