// docs/openapi.yaml against the router of the assembled gateway: every route is documented and every
// documented operation is a route, each with the security, rate-limit class and WebSocket flag its policy
// says. Adding a route without documenting it (or documenting one that does not exist) fails here.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <utility>

#include "gateway/edge/access.h"
#include "gateway/gateway.h"
#include "gateway/http/method.h"
#include "gateway/http/router.h"
#include "gateway/openapi/openapi_json.h"
#include "services/common/metrics.h"
#include "tests/unit/gateway/test_connection.h"
#include "tests/unit/gateway/test_settings.h"

namespace rally::gateway {
namespace {

namespace json = boost::json;
using Access = edge::RoutePolicy::Access;

// The operation keys of an OpenAPI path item.
const std::set<std::string> kOperationKeys = {"get",     "put",  "post",  "delete",
                                              "options", "head", "patch", "trace"};

std::string lower_case(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

std::string describe(const http::RouteInfo& route) {
  return std::string(http::to_string(route.method)) + " " + route.path_template;
}

json::value parsed_document() {
  boost::system::error_code ec;
  json::value document = json::parse(openapi_json(), ec);
  REQUIRE_FALSE(ec);
  REQUIRE(document.is_object());
  return document;
}

// The documented operation of a route, or null.
const json::object* operation_of(const json::object& paths, const http::RouteInfo& route) {
  const json::value* item = paths.if_contains(route.path_template);
  if (item == nullptr || !item->is_object()) return nullptr;
  const json::value* operation = item->as_object().if_contains(lower_case(http::to_string(route.method)));
  return operation != nullptr && operation->is_object() ? &operation->as_object() : nullptr;
}

bool has_response(const json::object& operation, std::string_view status) {
  const json::value* responses = operation.if_contains("responses");
  return responses != nullptr && responses->is_object() && responses->as_object().contains(status);
}

std::vector<http::RouteInfo> gateway_routes() {
  Gateway gateway(testing::offline_gateway_settings(), common::metrics::Registry::global());
  std::vector<http::RouteInfo> registered = gateway.router().routes();
  gateway.shutdown();
  return registered;
}

TEST_CASE("the OpenAPI document is OpenAPI 3.1 with paths", "[openapi]") {
  const json::value document = parsed_document();
  const json::object& root = document.as_object();
  REQUIRE(root.contains("openapi"));
  CHECK(root.at("openapi").as_string().starts_with("3.1."));
  REQUIRE(root.contains("paths"));
  CHECK_FALSE(root.at("paths").as_object().empty());
  CHECK(root.at("components").at("securitySchemes").at("bearerAuth").at("scheme").as_string() == "bearer");
}

TEST_CASE("every route of the gateway is in the OpenAPI document and every documented operation is a route",
          "[openapi]") {
  const std::vector<http::RouteInfo> registered = gateway_routes();
  REQUIRE_FALSE(registered.empty());
  const json::value document = parsed_document();
  const json::object& paths = document.at("paths").as_object();

  std::set<std::pair<std::string, std::string>> routed;  // (lower-case method, template)
  for (const http::RouteInfo& route : registered) {
    INFO("route " << describe(route));
    routed.emplace(lower_case(http::to_string(route.method)), route.path_template);
    CHECK(operation_of(paths, route) != nullptr);
  }

  for (const auto& [path, item] : paths) {
    REQUIRE(item.is_object());
    for (const auto& [key, operation] : item.as_object()) {
      if (!kOperationKeys.contains(std::string(key))) continue;  // parameters, summary, ...
      INFO("documented operation " << std::string(key) << " " << std::string(path));
      CHECK(routed.contains({std::string(key), std::string(path)}));
    }
  }
}

TEST_CASE("the OpenAPI document states each route's security, rate-limit class and WebSocket flag",
          "[openapi]") {
  const std::vector<http::RouteInfo> registered = gateway_routes();
  const json::value document = parsed_document();
  const json::object& paths = document.at("paths").as_object();

  for (const http::RouteInfo& route : registered) {
    INFO("route " << describe(route));
    const json::object* operation = operation_of(paths, route);
    REQUIRE(operation != nullptr);

    const json::value* websocket = operation->if_contains("x-websocket");
    const bool documented_websocket = websocket != nullptr && websocket->is_bool() && websocket->as_bool();
    CHECK(documented_websocket == route.websocket);
    if (route.websocket) {
      CHECK(has_response(*operation, "101"));
    }

    const json::value* security = operation->if_contains("security");
    switch (route.policy.access) {
      case Access::kPublic:
        CHECK((security == nullptr || (security->is_array() && security->as_array().empty())));
        break;
      case Access::kTokenOptional: {
        REQUIRE(security != nullptr);
        const json::value optional = json::parse(R"([{}, {"bearerAuth": []}])");
        CHECK(*security == optional);
        CHECK(has_response(*operation, "401"));
        break;
      }
      case Access::kTokenRequired: {
        REQUIRE(security != nullptr);
        json::array scopes;
        scopes.emplace_back(edge::scope_name(route.policy.scope));
        const json::value required = json::array{json::object{{"bearerAuth", std::move(scopes)}}};
        CHECK(*security == required);
        CHECK(has_response(*operation, "401"));
        CHECK(has_response(*operation, "403"));
        break;
      }
    }

    const json::value* rate_class = operation->if_contains("x-rate-limit-class");
    if (route.policy.rate_class.empty()) {
      CHECK(rate_class == nullptr);
      CHECK_FALSE(has_response(*operation, "429"));
    } else {
      REQUIRE(rate_class != nullptr);
      CHECK(rate_class->as_string() == route.policy.rate_class);
      CHECK(has_response(*operation, "429"));
    }
  }
}

TEST_CASE("GET /openapi.json answers the document as JSON without a token", "[openapi]") {
  Gateway gateway(testing::offline_gateway_settings(), common::metrics::Registry::global());
  REQUIRE(gateway.port() != 0);
  testing::TestConnection connection(gateway.port());
  const testing::ClientResponse response = connection.request("GET", "/openapi.json");
  CHECK(response.status == 200);
  CHECK(response.header("content-type") == "application/json");
  CHECK_FALSE(response.has_header("x-ratelimit-limit"));
  CHECK(response.body == openapi_json());

  boost::system::error_code ec;
  const json::value document = json::parse(response.body, ec);
  REQUIRE_FALSE(ec);
  CHECK(document.at("openapi").as_string().starts_with("3.1."));
  CHECK(document.at("paths").as_object().contains("/openapi.json"));
}

}  // namespace
}  // namespace rally::gateway
