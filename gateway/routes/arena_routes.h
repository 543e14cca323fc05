// The arena over rally.v1.Arena: the seed's GET /random_models, POST /vote (with Idempotency-Key) and
// GET /leaderboard (served from the gateway's LeaderboardMirror while fresh), and the anonymous battles under
// /api/v1/arena/battles (create, stream one side as Server-Sent Events in /llm_request_streaming's format,
// vote). Errors use the suite's envelope.
#pragma once

#include <chrono>
#include <memory>

namespace grpc {
class Channel;
}

namespace rally::common::metrics {
class Registry;
}

namespace rally::gateway::http {
class Router;
}

namespace rally::gateway::routes {

class LeaderboardMirror;

struct ArenaRouteSettings {
  // Deadline of each unary arena call. RALLY_GATEWAY_ARENA_TIMEOUT
  std::chrono::milliseconds timeout{5000};
  // Deadline of one battle side's stream. RALLY_GATEWAY_LLM_STREAM_TIMEOUT (a battle side is an LLM stream)
  std::chrono::milliseconds stream_timeout{300000};
  // SSE heartbeat while a side waits for its first token. RALLY_GATEWAY_SSE_HEARTBEAT
  std::chrono::milliseconds sse_heartbeat{10000};
};

// GET /leaderboard answers from `mirror` when it can (counted in rally_gateway_leaderboard_reads_total by
// source); successful votes invalidate it.
void add_arena_routes(http::Router& router, const std::shared_ptr<grpc::Channel>& arena,
                      const ArenaRouteSettings& settings, std::shared_ptr<LeaderboardMirror> mirror,
                      common::metrics::Registry& registry);

}  // namespace rally::gateway::routes
