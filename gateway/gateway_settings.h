// Everything the gateway reads from configuration, with defaults, validated once at start.
#pragma once

#include <chrono>

#include "gateway/edge/admission.h"
#include "gateway/edge/rate_limit_classes.h"
#include "gateway/edge/token_cache.h"
#include "gateway/http/http_server.h"
#include "gateway/routes/llm_routes.h"
#include "gateway/routes/scoring_routes.h"
#include "gateway/upstream/upstream_channels.h"
#include "services/common/pg_pool.h"
#include "services/common/redis_client.h"

namespace rally::common {
class ConfigSource;
}

namespace rally::gateway {

struct GatewaySettings {
  // RALLY_GATEWAY_ADDR, RALLY_GATEWAY_THREADS, RALLY_GATEWAY_BODY_LIMIT, RALLY_GATEWAY_HEADER_TIMEOUT,
  // RALLY_GATEWAY_IDLE_TIMEOUT, RALLY_GATEWAY_JSON_MAX_DEPTH, RALLY_GATEWAY_JSON_MAX_STRING,
  // RALLY_GATEWAY_MAX_CONNECTIONS, RALLY_GATEWAY_CORS_ORIGINS
  http::HttpServerSettings http;
  // RALLY_LLM_PROXY_ADDR, RALLY_ARENA_ADDR, RALLY_SCORING_ADDR, RALLY_CRITIQUE_ADDR
  upstream::UpstreamAddresses upstreams;
  // Deadline of each downstream health check behind /readyz. RALLY_GATEWAY_READY_TIMEOUT
  std::chrono::milliseconds ready_timeout{1000};
  // Deadlines and the SSE heartbeat of the LLM routes. RALLY_GATEWAY_LLM_TIMEOUT,
  // RALLY_GATEWAY_LLM_STREAM_TIMEOUT, RALLY_GATEWAY_LLM_MODELS_TIMEOUT, RALLY_GATEWAY_SSE_HEARTBEAT
  routes::LlmRouteSettings llm;
  // Deadline of each call to the arena. RALLY_GATEWAY_ARENA_TIMEOUT
  std::chrono::milliseconds arena_timeout{5000};
  // The longest GET /leaderboard is answered from the gateway's copy (routes::LeaderboardMirror) without
  // asking the arena; votes and published changes invalidate it sooner. 0 turns the copy off.
  // RALLY_GATEWAY_LEADERBOARD_MAX_AGE
  std::chrono::milliseconds leaderboard_max_age{1000};
  // Deadlines of the scoring calls. RALLY_GATEWAY_SCORING_TIMEOUT, RALLY_GATEWAY_SCORING_BATCH_TIMEOUT
  // (a synchronous batch)
  routes::ScoringRouteSettings scoring;
  // Deadline of one critique (a transaction, the oracle's LLM call and its answer on chain).
  // RALLY_GATEWAY_CRITIQUE_TIMEOUT
  std::chrono::milliseconds critique_timeout{90000};
  // Where live updates come from (the leaderboard WebSocket). RALLY_REDIS_ADDR, RALLY_REDIS_PASSWORD,
  // RALLY_REDIS_CONNECT_TIMEOUT, RALLY_REDIS_COMMAND_TIMEOUT, RALLY_REDIS_RECONNECT_BACKOFF
  common::RedisSettings redis;
  // Authentication switch and the admission threads. RALLY_GATEWAY_AUTH, RALLY_GATEWAY_ADMISSION_THREADS,
  // RALLY_GATEWAY_ADMISSION_QUEUE
  edge::AdmissionSettings admission;
  // Rate limits per route class. RALLY_GATEWAY_RATE_LIMITS, RALLY_GATEWAY_RATE_LIMIT_<CLASS> (SCORE, BATCH,
  // NAMING, COMPARE, LLM, VOTE, CRITIQUE, READ, ADMIN), RALLY_GATEWAY_RATE_LIMIT_CONNECTIONS
  edge::RateLimitSettings rate_limits;
  // Where API tokens are stored (schema gateway), the same keys the services read. RALLY_PG_URL,
  // RALLY_PG_POOL_SIZE, RALLY_PG_CONNECT_TIMEOUT, RALLY_PG_ACQUIRE_TIMEOUT
  common::PostgresSettings postgres;
  // How the API token cache refreshes and records use. RALLY_GATEWAY_TOKEN_REFRESH,
  // RALLY_GATEWAY_TOKEN_LAST_USED_FLUSH
  edge::TokenCacheSettings tokens;
  // How long requests in progress may finish after SIGTERM/SIGINT. RALLY_SHUTDOWN_DRAIN
  std::chrono::milliseconds shutdown_drain{10000};

  // Throws common::ConfigError naming the key of the first bad value.
  static GatewaySettings from(const common::ConfigSource& config);
};

}  // namespace rally::gateway
