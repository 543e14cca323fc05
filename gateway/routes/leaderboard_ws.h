// The live leaderboard: WebSocket /api/v1/ws/leaderboard. Every message the server sends is one JSON text
// frame:
//
//   {"type":"snapshot","data":{...},"timestamp":"..."}  first: the leaderboard from a fresh
//                                                        rally.v1.Arena/Leaderboard call
//   {"type":"error","error":{"code":"SERVICE_UNAVAILABLE","message":"..."}}
//                                                        first instead, when that call failed; the connection
//                                                        stays open and updates still follow
//   {"type":"update","data":{...},"timestamp":"..."}    every change the arena publishes on Redis after the
//                                                        client connected, never before the snapshot
//   {"type":"pong"}                                      the answer to the text message "ping"
//
// "data" is leaderboard_message's (arena_payloads.h), the same rows as GET /leaderboard. Anything else the
// client sends is ignored. Updates reach every client through one Redis subscription (ws::TopicFanout).
// A client joins the updates before its snapshot is asked for, so it misses no change; updates arriving
// meanwhile follow the snapshot (each carries the whole board, so a client always ends on the newest one).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "services/common/redis_channels.h"

namespace grpc {
class Channel;
}

namespace rally::common {
struct RedisSettings;
}

namespace rally::common::metrics {
class Registry;
}

namespace rally::gateway::http {
class Router;
}

namespace rally::gateway::routes {

class LeaderboardMirror;

using common::kLeaderboardChannel;  // services/common/redis_channels.h

// A message of kLeaderboardChannel as the "update" clients get; nullopt when it is not a
// LeaderboardResponse.
std::optional<std::string> leaderboard_update(std::string_view payload);

// Subscribes to kLeaderboardChannel on `redis` at once. Snapshot calls to `arena` carry the client's request
// id and the `arena_timeout` deadline, and are cancelled when the client leaves. Every published leaderboard
// invalidates `mirror` (GET /leaderboard's copy), whether or not a client listens.
void add_leaderboard_websocket(http::Router& router, const std::shared_ptr<grpc::Channel>& arena,
                               const common::RedisSettings& redis, std::chrono::milliseconds arena_timeout,
                               std::shared_ptr<LeaderboardMirror> mirror,
                               common::metrics::Registry& registry);

}  // namespace rally::gateway::routes
