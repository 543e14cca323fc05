// The critique over rally.v1.Critique: the seed's POST /criticize_user_request. Errors use the suite's
// envelope: 400 "Prompt is required", 503 CHAIN_UNAVAILABLE, 504 API_TIMEOUT when no answer came in time,
// 502 UPSTREAM_ERROR for a reverted transaction or an oracle error answer.
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

// Deadline of one Criticize call: the chain round trips and the LLM. RALLY_GATEWAY_CRITIQUE_TIMEOUT
void add_critique_routes(http::Router& router, const std::shared_ptr<grpc::Channel>& critique,
                         std::chrono::milliseconds timeout, common::metrics::Registry& registry);

}  // namespace rally::gateway::routes
