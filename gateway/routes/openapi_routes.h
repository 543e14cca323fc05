// GET /openapi.json: the OpenAPI document of every route (docs/openapi.yaml, converted at build time).
// Public like /healthz: no token looked at, not rate limited.
#pragma once

namespace rally::gateway::http {
class Router;
}

namespace rally::gateway::routes {

void add_openapi_route(http::Router& router);

}  // namespace rally::gateway::routes
