#include "gateway/routes/openapi_routes.h"

#include <memory>
#include <string>

#include "gateway/http/exchange.h"
#include "gateway/http/router.h"
#include "gateway/openapi/openapi_json.h"

namespace rally::gateway::routes {

void add_openapi_route(http::Router& router) {
  router.add(http::Method::kGet, "/openapi.json", [](const std::shared_ptr<http::Exchange>& exchange) {
    exchange->respond(http::Response::json(200, std::string(openapi_json())));
  });
}

}  // namespace rally::gateway::routes
