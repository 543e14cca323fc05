// Operational endpoints: GET /healthz (the process is up), GET /readyz (every downstream service is
// serving), GET /metrics (Prometheus text).
#pragma once

namespace rally::common::metrics {
class Registry;
}

namespace rally::gateway::http {
class Router;
}

namespace rally::gateway::upstream {
class ReadinessChecker;
}

namespace rally::gateway::routes {

// `readiness` and `registry` must outlive the router's use.
void add_health_routes(http::Router& router, upstream::ReadinessChecker& readiness,
                       common::metrics::Registry& registry);

}  // namespace rally::gateway::routes
