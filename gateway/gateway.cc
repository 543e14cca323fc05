#include "gateway/gateway.h"

#include <stdexcept>

#include "gateway/edge/rate_limit_classes.h"
#include "gateway/routes/arena_routes.h"
#include "gateway/routes/critique_routes.h"
#include "gateway/routes/health_routes.h"
#include "gateway/routes/leaderboard_mirror.h"
#include "gateway/routes/leaderboard_ws.h"
#include "gateway/routes/llm_routes.h"
#include "gateway/routes/openapi_routes.h"
#include "gateway/routes/scoring_routes.h"
#include "gateway/routes/scoring_ws.h"

namespace rally::gateway {
namespace {

http::Router make_router(const GatewaySettings& settings, const upstream::UpstreamChannels& channels,
                         upstream::ReadinessChecker& readiness, edge::Admission& admission,
                         routes::TokenRoutes& token_routes, common::metrics::Registry& registry) {
  http::Router router;
  router.set_guard([&admission](const edge::RoutePolicy& policy, http::Handler handler) {
    // A typo in a route's class would otherwise surface only as failed requests.
    if (!policy.rate_class.empty() && !edge::is_rate_limit_class(policy.rate_class)) {
      throw std::invalid_argument("unknown rate-limit class: " + policy.rate_class);
    }
    return admission.guard(policy, std::move(handler));
  });
  routes::add_health_routes(router, readiness, registry);
  routes::add_openapi_route(router);
  routes::add_llm_routes(router, channels.llm_proxy(), settings.llm, registry);
  auto leaderboard_mirror = std::make_shared<routes::LeaderboardMirror>(settings.leaderboard_max_age);
  routes::add_arena_routes(router, channels.arena(),
                           {settings.arena_timeout, settings.llm.stream_timeout, settings.llm.sse_heartbeat},
                           leaderboard_mirror, registry);
  routes::add_leaderboard_websocket(router, channels.arena(), settings.redis, settings.arena_timeout,
                                    leaderboard_mirror, registry);
  routes::add_scoring_routes(router, channels.scoring(), settings.scoring, registry);
  routes::add_critique_routes(router, channels.critique(), settings.critique_timeout, registry);
  routes::add_scoring_websocket(router, settings.redis);
  token_routes.add_to(router);
  return router;
}

}  // namespace

Gateway::Gateway(const GatewaySettings& settings, common::metrics::Registry& registry)
    : settings_(settings),
      channels_(settings_.upstreams),
      readiness_(channels_, settings_.ready_timeout),
      postgres_(settings_.postgres),
      token_store_(postgres_, {}),
      token_cache_(token_store_, settings_.redis, settings_.tokens),
      token_routes_(token_store_, token_cache_),
      rate_limiter_(edge::make_rate_limiter(settings_.rate_limits, settings_.redis, registry)),
      admission_(
          settings_.admission, &token_cache_, rate_limiter_.get(),
          [this](std::string_view route_class, const edge::Principal& caller) {
            return edge::rule_for(settings_.rate_limits, route_class, caller);
          },
          registry),
      router_(make_router(settings_, channels_, readiness_, admission_, token_routes_, registry)),
      server_(settings_.http, router_, registry) {}

}  // namespace rally::gateway
