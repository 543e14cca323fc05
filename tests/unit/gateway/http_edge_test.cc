// The server's answers to hostile or foreign input, over real sockets: security headers on every response,
// JSON limits and media types before a handler runs, CORS, and the connection limit.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gateway/http/exchange.h"
#include "gateway/http/http_server.h"
#include "gateway/http/router.h"
#include "services/common/metrics.h"
#include "tests/unit/gateway/test_connection.h"

namespace rally::gateway::http {
namespace {

using namespace std::chrono_literals;
using testing::ClientResponse;
using testing::TestConnection;

HttpServerSettings edge_settings() {
  HttpServerSettings settings;
  settings.listen = {"127.0.0.1", 0};
  settings.io_threads = 2;
  settings.body_limit = 4096;
  settings.json_max_depth = 8;
  settings.json_max_string_bytes = 64;
  return settings;
}

boost::json::value json_of(const ClientResponse& response) {
  return boost::json::parse(response.body);
}

std::string error_code_of(const ClientResponse& response) {
  const boost::json::value body = json_of(response);
  return std::string(body.at("error").at("code").as_string());
}

std::string error_detail(const ClientResponse& response, const char* key) {
  const boost::json::value body = json_of(response);
  const boost::json::value* value = body.at("error").at("details").as_object().if_contains(key);
  return value == nullptr ? "(absent)" : std::string(value->as_string());
}

void check_security_headers(const ClientResponse& response) {
  INFO("status " << response.status);
  CHECK(response.header("x-content-type-options") == "nosniff");
  CHECK(response.header("x-frame-options") == "DENY");
  CHECK(response.header("referrer-policy") == "no-referrer");
  CHECK(response.header("content-security-policy") == "default-src 'none'; frame-ancestors 'none'");
  if (response.status >= 400) CHECK(response.header("cache-control") == "no-store");
}

// A router whose handlers count their calls: a refusal before the handler must leave the count alone.
struct CountingRouter {
  CountingRouter() {
    router.add(Method::kGet, "/items", [this](const std::shared_ptr<Exchange>& exchange) {
      ++calls;
      exchange->respond(Response::json(200, R"({"items":[]})"));
    });
    router.add(Method::kPost, "/items", [this](const std::shared_ptr<Exchange>& exchange) {
      ++calls;
      exchange->respond(Response::text(201, exchange->request().body()));
    });
    router.add(Method::kGet, "/feed", [](const std::shared_ptr<Exchange>& exchange) {
      exchange->start_stream(200, {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}});
      exchange->write("data: 1\n\n", nullptr);
      exchange->finish();
    });
    router.add_websocket("/ws/only", [](const Request&) { return std::unique_ptr<ws::WebSocketHandler>(); });
  }
  Router router;
  std::atomic<int> calls{0};
};

TEST_CASE("every response carries the security headers, errors are not to be stored", "[http_edge]") {
  CountingRouter routes;
  HttpServer server(edge_settings(), routes.router, common::metrics::Registry::global());
  TestConnection connection(server.port());

  const ClientResponse ok = connection.request("GET", "/items");
  CHECK(ok.status == 200);
  check_security_headers(ok);
  CHECK_FALSE(ok.has_header("cache-control"));
  CHECK_FALSE(ok.has_header("access-control-allow-origin"));  // CORS is off by default
  CHECK_FALSE(ok.has_header("vary"));

  const ClientResponse missing = connection.request("GET", "/nowhere");
  CHECK(missing.status == 404);
  check_security_headers(missing);

  const ClientResponse wrong_method = connection.request("DELETE", "/items");
  CHECK(wrong_method.status == 405);
  CHECK(wrong_method.header("allow") == "GET, HEAD, POST");
  check_security_headers(wrong_method);

  connection.send("GET /feed HTTP/1.1\r\nHost: x\r\n\r\n");
  const ClientResponse stream = connection.read_response();
  CHECK(stream.status == 200);
  CHECK(stream.body.find("data: 1") != std::string::npos);
  CHECK(stream.header("cache-control") == "no-cache");  // the handler's own, kept on a success
  check_security_headers(stream);

  SECTION("a body over the limit") {
    const ClientResponse too_large = connection.request("POST", "/items", std::string(5000, 'x'));
    CHECK(too_large.status == 413);
    check_security_headers(too_large);
  }
  SECTION("a request target over 8 KiB") {
    TestConnection long_target(server.port());
    const ClientResponse too_long = long_target.request("GET", "/items?q=" + std::string(9000, 'q'));
    CHECK(too_long.status == 414);
    CHECK(error_code_of(too_long) == "URI_TOO_LONG");
    check_security_headers(too_long);
    CHECK(long_target.wait_for_close());
    // Just under the limit is routed as usual.
    CHECK(connection.request("GET", "/items?q=" + std::string(8000, 'q')).status == 200);
  }
  SECTION("a WebSocket upgrade that is refused") {
    TestConnection upgrade(server.port());
    upgrade.send(
        "GET /ws/missing HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    const ClientResponse refused = upgrade.read_response();
    CHECK(refused.status == 404);
    check_security_headers(refused);
  }
}

TEST_CASE("a path that is not UTF-8 is named in valid JSON in the 404 answer", "[http_edge]") {
  CountingRouter routes;
  HttpServer server(edge_settings(), routes.router, common::metrics::Registry::global());
  TestConnection connection(server.port());

  // Beast accepts any byte above 0x7f in a target; the envelope must still be UTF-8 JSON.
  const ClientResponse missing = connection.request("GET", "/nowhere\xff\xfe");
  REQUIRE(missing.status == 404);
  CHECK(error_detail(missing, "path") == "/nowhere\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("JSON bodies past the depth or string limits, or not UTF-8, are 400 before the handler",
          "[http_edge]") {
  CountingRouter routes;
  HttpServer server(edge_settings(), routes.router, common::metrics::Registry::global());
  TestConnection connection(server.port());
  const std::vector<std::pair<std::string, std::string>> json{{"Content-Type", "application/json"}};

  SECTION("nesting deeper than the limit") {
    const ClientResponse deep =
        connection.request("POST", "/items", std::string(9, '[') + std::string(9, ']'), json);
    CHECK(deep.status == 400);
    CHECK(error_code_of(deep) == "INVALID_REQUEST");
    CHECK(error_detail(deep, "reason") == "nesting_too_deep");
    CHECK(error_detail(deep, "max_depth") == "8");
    check_security_headers(deep);
    CHECK(deep.keep_alive);  // the body was read whole: the connection goes on
    CHECK(connection.request("POST", "/items", std::string(8, '[') + std::string(8, ']'), json).status ==
          201);
  }
  SECTION("a string longer than the limit") {
    const ClientResponse long_string = connection.request(
        "POST", "/items", R"({"messages":[{"content":")" + std::string(65, 'a') + "\"}]}", json);
    CHECK(long_string.status == 400);
    CHECK(error_code_of(long_string) == "INVALID_REQUEST");
    CHECK(error_detail(long_string, "field") == "messages[0].content");
    CHECK(error_detail(long_string, "max_string_bytes") == "64");
  }
  SECTION("invalid UTF-8 in a string, also without a Content-Type") {
    const ClientResponse bad = connection.request("POST", "/items", "{\"name\":\"\xC0\xAF\"}");
    CHECK(bad.status == 400);
    CHECK(error_code_of(bad) == "INVALID_REQUEST");
    CHECK(error_detail(bad, "field") == "name");
    CHECK(error_detail(bad, "reason") == "invalid_utf8");
  }
  SECTION("a body that is no JSON at all is left to the route") {
    const ClientResponse text = connection.request("POST", "/items", "plain words");
    CHECK(text.status == 201);
    CHECK(text.body == "plain words");
    CHECK(routes.calls == 1);
  }
  CHECK(routes.calls <= 1);
}

TEST_CASE("a body of another media type is 415, JSON with parameters or none at all passes", "[http_edge]") {
  CountingRouter routes;
  HttpServer server(edge_settings(), routes.router, common::metrics::Registry::global());
  TestConnection connection(server.port());

  const ClientResponse form = connection.request("POST", "/items", "a=1&b=2",
                                                 {{"Content-Type", "application/x-www-form-urlencoded"}});
  CHECK(form.status == 415);
  CHECK(error_code_of(form) == "UNSUPPORTED_MEDIA_TYPE");
  CHECK(error_detail(form, "content_type") == "application/x-www-form-urlencoded");
  check_security_headers(form);
  CHECK(routes.calls == 0);

  CHECK(connection.request("POST", "/items", R"({"a":1})", {{"Content-Type", "text/plain"}}).status == 415);
  CHECK(routes.calls == 0);

  CHECK(connection
            .request("POST", "/items", R"({"a":1})", {{"Content-Type", "application/json; charset=utf-8"}})
            .status == 201);
  CHECK(connection.request("POST", "/items", R"({"a":1})").status == 201);  // no Content-Type
  // An empty body has no media type to speak of.
  CHECK(connection.request("POST", "/items", "", {{"Content-Type", "text/plain"}}).status == 201);
  // Nor does a GET: its body is never read.
  CHECK(connection.request("GET", "/items", "x", {{"Content-Type", "text/plain"}}).status == 200);
  CHECK(routes.calls == 4);
}

TEST_CASE("CORS answers allowed origins and their preflights, never others", "[http_edge]") {
  CountingRouter routes;
  HttpServerSettings settings = edge_settings();
  settings.cors_origins = {"https://app.example", "http://localhost:3000"};
  HttpServer server(settings, routes.router, common::metrics::Registry::global());
  TestConnection connection(server.port());

  SECTION("a request from an allowed origin may be read by its script") {
    const ClientResponse response =
        connection.request("GET", "/items", {}, {{"Origin", "https://app.example"}});
    CHECK(response.status == 200);
    CHECK(response.header("access-control-allow-origin") == "https://app.example");
    CHECK(response.header("vary") == "Origin");
    const std::string exposed = response.header("access-control-expose-headers");
    for (const char* name :
         {"X-Request-Id", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"}) {
      CHECK(exposed.find(name) != std::string::npos);
    }
    // Errors too: the script must be able to read why it was refused.
    const ClientResponse missing =
        connection.request("GET", "/nowhere", {}, {{"Origin", "https://app.example"}});
    CHECK(missing.status == 404);
    CHECK(missing.header("access-control-allow-origin") == "https://app.example");
  }
  SECTION("another origin gets no CORS headers") {
    const ClientResponse response =
        connection.request("GET", "/items", {}, {{"Origin", "https://evil.example"}});
    CHECK(response.status == 200);
    CHECK_FALSE(response.has_header("access-control-allow-origin"));
    CHECK_FALSE(response.has_header("access-control-expose-headers"));
    CHECK(response.header("vary") == "Origin");
  }
  SECTION("a preflight to a known path is 204 with the route's methods, without reaching a handler") {
    const ClientResponse preflight =
        connection.request("OPTIONS", "/items", {},
                           {{"Origin", "http://localhost:3000"},
                            {"Access-Control-Request-Method", "POST"},
                            {"Access-Control-Request-Headers", "authorization, content-type"}});
    CHECK(preflight.status == 204);
    CHECK(preflight.header("access-control-allow-origin") == "http://localhost:3000");
    CHECK(preflight.header("access-control-allow-methods") == "GET, HEAD, POST");
    CHECK(preflight.header("access-control-allow-headers") ==
          "Authorization, Content-Type, X-Request-Id, Idempotency-Key");
    CHECK(preflight.header("access-control-max-age") == "600");
    check_security_headers(preflight);
    CHECK(preflight.keep_alive);
    CHECK(routes.calls == 0);
  }
  SECTION("a preflight to an unknown path is 404, from a disallowed origin it is an OPTIONS like any") {
    const ClientResponse unknown =
        connection.request("OPTIONS", "/nowhere", {},
                           {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "GET"}});
    CHECK(unknown.status == 404);
    const ClientResponse foreign =
        connection.request("OPTIONS", "/items", {},
                           {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
    CHECK(foreign.status == 405);
    CHECK_FALSE(foreign.has_header("access-control-allow-origin"));
    CHECK_FALSE(foreign.has_header("access-control-allow-methods"));
  }
}

template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

TEST_CASE("past the connection limit a newcomer is answered 503 and closed, and counted", "[http_edge]") {
  CountingRouter routes;
  HttpServerSettings settings = edge_settings();
  settings.max_connections = 2;
  common::metrics::Registry registry;
  HttpServer server(settings, routes.router, registry);
  const auto refused_count = [&registry] {
    return registry.counter("rally_gateway_connections_refused_total", "").labels().value();
  };

  std::optional<TestConnection> first(std::in_place, server.port());
  TestConnection second(server.port());
  // Both are registered once they have been served (registration happens on accept, before any byte).
  CHECK(first->request("GET", "/items").status == 200);
  CHECK(second.request("GET", "/items").status == 200);

  TestConnection third(server.port());
  const ClientResponse refused = third.read_response();  // sent unasked, at once
  CHECK(refused.status == 503);
  CHECK(error_code_of(refused) == "SERVICE_UNAVAILABLE");
  CHECK(refused.header("retry-after") == "1");
  CHECK_FALSE(refused.keep_alive);
  check_security_headers(refused);
  CHECK(third.wait_for_close());
  CHECK(refused_count() == 1);

  // The two admitted connections are unaffected; once one goes, a newcomer is served.
  CHECK(second.request("GET", "/items").status == 200);
  first->close();
  first.reset();
  CHECK(eventually(
      [&] {
        TestConnection next(server.port());
        try {
          return next.request("GET", "/items").status == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      5s));
}

}  // namespace
}  // namespace rally::gateway::http
