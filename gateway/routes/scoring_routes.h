// The scoring API over rally.v1.Scoring (shared/seeds/scoring-api-reference.md), all under /api/v1 and
// answered in the success envelope: scores of one model (calculate, read, recalculate), batches, score
// suffixes for model names, comparison, ranking, named configurations and validation. Bodies and queries
// are parsed by routes/scoring_payloads.h; a refused one is 400 naming the field, with no call made.
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

struct ScoringRouteSettings {
  // Deadline of each scoring call but a synchronous batch. RALLY_GATEWAY_SCORING_TIMEOUT
  std::chrono::milliseconds timeout{5000};
  // Deadline of a synchronous batch (up to kMaxBatchModels scores in one call); an asynchronous one answers
  // at once and takes `timeout`. RALLY_GATEWAY_SCORING_BATCH_TIMEOUT
  std::chrono::milliseconds batch_timeout{120000};
};

void add_scoring_routes(http::Router& router, const std::shared_ptr<grpc::Channel>& scoring,
                        const ScoringRouteSettings& settings, common::metrics::Registry& registry);

}  // namespace rally::gateway::routes
