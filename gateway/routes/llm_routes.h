// The LLM API over the llm-proxy (rally.v1.LlmProxy): the seed's POST /llm_request and
// POST /llm_request_streaming (Server-Sent Events), and the OpenAI-compatible POST /v1/chat/completions
// (whole or streamed) and GET /v1/models[/{model}], so the official OpenAI SDKs work against
// http://HOST:PORT/v1. Every response carries X-Rally-Overhead-Ms, the time the suite itself added.
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

struct LlmRouteSettings {
  // Deadline of a whole completion (Complete). RALLY_GATEWAY_LLM_TIMEOUT
  std::chrono::milliseconds completion_timeout{120000};
  // Deadline of a whole streamed completion (StreamComplete). RALLY_GATEWAY_LLM_STREAM_TIMEOUT
  std::chrono::milliseconds stream_timeout{300000};
  // Deadline of ListModels. RALLY_GATEWAY_LLM_MODELS_TIMEOUT
  std::chrono::milliseconds models_timeout{5000};
  // While a stream waits for its first token, an SSE comment goes out this often so idle proxies and
  // clients do not cut it. RALLY_GATEWAY_SSE_HEARTBEAT
  std::chrono::milliseconds sse_heartbeat{10000};
};

// Calls to the llm-proxy are measured in `registry` (upstream::CallMetrics, service "llm-proxy").
void add_llm_routes(http::Router& router, const std::shared_ptr<grpc::Channel>& llm_proxy,
                    const LlmRouteSettings& settings, common::metrics::Registry& registry);

}  // namespace rally::gateway::routes
