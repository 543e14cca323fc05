// The assembled gateway (every route, the real server) started in-process on a free port and spoken to
// over real sockets. No downstream service runs: their addresses point at ports nothing listens on.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "gateway/gateway.h"
#include "gateway/gateway_settings.h"
#include "services/common/metrics.h"
#include "services/common/request_id.h"
#include "tests/unit/gateway/test_connection.h"
#include "tests/unit/gateway/test_settings.h"

namespace rally::gateway {
namespace {

using namespace std::chrono_literals;
using testing::ClientResponse;
using testing::TestConnection;

GatewaySettings test_settings() {
  return testing::offline_gateway_settings();
}

boost::json::object json_of(const ClientResponse& response) {
  return boost::json::parse(response.body).as_object();
}

// Checks the error envelope and that its request id is the response's X-Request-Id.
void check_envelope(const ClientResponse& response, int status, std::string_view code) {
  CHECK(response.status == status);
  CHECK(response.header("content-type") == "application/json");
  const auto envelope = json_of(response);
  CHECK(envelope.at("success").as_bool() == false);
  CHECK(envelope.at("error").at("code").as_string() == code);
  CHECK(envelope.at("error").at("details").is_object());
  CHECK(envelope.at("metadata").at("request_id").as_string() == response.header("x-request-id"));
  CHECK(envelope.at("metadata").at("timestamp").is_string());
}

TEST_CASE("the gateway serves /healthz, the error envelope and request ids", "[gateway_server]") {
  Gateway gateway(test_settings(), common::metrics::Registry::global());
  REQUIRE(gateway.port() != 0);

  SECTION("/healthz is 200 while the process runs") {
    TestConnection connection(gateway.port());
    const ClientResponse response = connection.request("GET", "/healthz");
    CHECK(response.status == 200);
    CHECK(response.header("content-type") == "application/json");
    CHECK(json_of(response).at("status").as_string() == "ok");
    CHECK(common::is_valid_request_id(response.header("x-request-id")));
  }

  SECTION("an unknown route is 404 with the envelope") {
    TestConnection connection(gateway.port());
    const ClientResponse response = connection.request("GET", "/x?y=1");
    check_envelope(response, 404, "NOT_FOUND");
    CHECK(json_of(response).at("error").at("message").as_string() == "No route for GET /x");
    CHECK(response.header("x-request-id").starts_with("req_"));
  }

  SECTION("a valid client X-Request-Id is echoed, an invalid one replaced") {
    TestConnection connection(gateway.port());
    const ClientResponse echoed =
        connection.request("GET", "/missing", {}, {{"X-Request-Id", "client-42.a_b:c"}});
    CHECK(echoed.header("x-request-id") == "client-42.a_b:c");
    CHECK(json_of(echoed).at("metadata").at("request_id").as_string() == "client-42.a_b:c");

    const ClientResponse replaced =
        connection.request("GET", "/healthz", {}, {{"X-Request-Id", "bad id; drop"}});
    CHECK(replaced.header("x-request-id") != "bad id; drop");
    CHECK(common::is_valid_request_id(replaced.header("x-request-id")));

    const ClientResponse too_long =
        connection.request("GET", "/healthz", {}, {{"X-Request-Id", std::string(200, 'a')}});
    CHECK(too_long.header("x-request-id").size() < 200);
  }

  SECTION("a known path with the wrong method is 405 with Allow") {
    TestConnection connection(gateway.port());
    const ClientResponse response = connection.request("POST", "/healthz", "{}");
    check_envelope(response, 405, "METHOD_NOT_ALLOWED");
    CHECK(response.header("allow") == "GET, HEAD");
    CHECK(response.keep_alive);
  }

  SECTION("a body over the 1 MiB limit is 413 and closes the connection") {
    TestConnection connection(gateway.port());
    connection.send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n");
    const ClientResponse response = connection.read_response();
    check_envelope(response, 413, "PAYLOAD_TOO_LARGE");
    CHECK_FALSE(response.keep_alive);
    CHECK(connection.wait_for_close());
  }

  SECTION("keep-alive: two requests on one connection") {
    TestConnection connection(gateway.port());
    const ClientResponse first = connection.request("GET", "/healthz");
    CHECK(first.status == 200);
    CHECK(first.keep_alive);
    const ClientResponse second = connection.request("GET", "/nowhere");
    CHECK(second.status == 404);
    CHECK(second.header("x-request-id") != first.header("x-request-id"));
  }

  SECTION("a WebSocket upgrade to a path without a WebSocket route is 404") {
    TestConnection connection(gateway.port());
    const ClientResponse response = connection.request("GET", "/api/v1/ws/nothing", {},
                                                       {{"Connection", "Upgrade"},
                                                        {"Upgrade", "websocket"},
                                                        {"Sec-WebSocket-Version", "13"},
                                                        {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}});
    check_envelope(response, 404, "NOT_FOUND");
    CHECK(json_of(response).at("error").at("message").as_string() ==
          "No WebSocket route for /api/v1/ws/nothing");
  }

  SECTION("malformed HTTP is 400 and closes the connection") {
    TestConnection connection(gateway.port());
    connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n");
    const ClientResponse response = connection.read_response();
    check_envelope(response, 400, "INVALID_REQUEST");
    CHECK(connection.wait_for_close());
  }

  SECTION("HEAD /healthz has the headers and no body") {
    TestConnection connection(gateway.port());
    connection.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const ClientResponse head = connection.read_head();
    CHECK(head.status == 200);
    CHECK(head.header("content-length") == std::to_string(std::string(R"({"status":"ok"})").size()));
    CHECK(connection.request("GET", "/healthz").status == 200);  // no stray body bytes came before it
  }
}

TEST_CASE("the LLM routes validate input and report an llm-proxy that is down", "[gateway_server]") {
  Gateway gateway(test_settings(), common::metrics::Registry::global());
  TestConnection connection(gateway.port());
  const auto check_overhead = [](const ClientResponse& response) {
    REQUIRE(response.has_header("x-rally-overhead-ms"));
    CHECK(std::stod(response.header("x-rally-overhead-ms")) >= 0);
  };

  SECTION("the seed's routes answer bad input with the envelope before calling upstream") {
    for (const char* route : {"/llm_request", "/llm_request_streaming"}) {
      CAPTURE(route);
      const ClientResponse missing = connection.request("POST", route, R"({"model": "gpt-4o"})");
      check_envelope(missing, 400, "INVALID_REQUEST");
      check_overhead(missing);
      CHECK(json_of(missing).at("error").at("message").as_string() == "Message is required");
      check_envelope(connection.request("POST", route, "{oops"), 400, "INVALID_REQUEST");
    }
  }

  SECTION("the seed's routes report the unreachable llm-proxy as 503") {
    const ClientResponse unary = connection.request("POST", "/llm_request", R"({"message": "Hi"})");
    check_envelope(unary, 503, "SERVICE_UNAVAILABLE");
    check_overhead(unary);
    // No event was sent yet, so the stream's failure is a plain response too.
    const ClientResponse streamed =
        connection.request("POST", "/llm_request_streaming", R"({"message": "Hi"})");
    check_envelope(streamed, 503, "SERVICE_UNAVAILABLE");
    check_overhead(streamed);
  }

  SECTION("the OpenAI routes answer in OpenAI's error format") {
    const ClientResponse invalid =
        connection.request("POST", "/v1/chat/completions", R"({"model": "gpt-4o", "messages": []})");
    CHECK(invalid.status == 400);
    check_overhead(invalid);
    const auto error = json_of(invalid).at("error").as_object();
    CHECK(error.at("code").as_string() == "empty_array");
    CHECK(error.at("param").as_string() == "messages");

    const ClientResponse tool = connection.request(
        "POST", "/v1/chat/completions",
        R"({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}, {"role": "tool", "content": "y"}]})");
    CHECK(tool.status == 400);
    CHECK(json_of(tool).at("error").at("param").as_string() == "messages[1].role");

    for (const char* body :
         {R"({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]})",
          R"({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "Hi"}]})"}) {
      CAPTURE(body);
      const ClientResponse down = connection.request("POST", "/v1/chat/completions", body);
      CHECK(down.status == 503);
      check_overhead(down);
      CHECK(json_of(down).at("error").at("type").as_string() == "server_error");
      CHECK(json_of(down).at("error").at("code").as_string() == "service_unavailable");
    }
    const ClientResponse models = connection.request("GET", "/v1/models");
    CHECK(models.status == 503);
    CHECK(json_of(models).at("error").at("code").as_string() == "service_unavailable");
  }
}

TEST_CASE("/readyz is 503 naming every service when none is running", "[gateway_server]") {
  Gateway gateway(test_settings(), common::metrics::Registry::global());
  TestConnection connection(gateway.port());

  const auto started = std::chrono::steady_clock::now();
  const ClientResponse response = connection.request("GET", "/readyz", {}, {{"X-Request-Id", "req-ready-1"}});
  CHECK(std::chrono::steady_clock::now() - started < 3s);

  CHECK(response.status == 503);
  CHECK(response.header("x-request-id") == "req-ready-1");
  const auto body = json_of(response);
  CHECK(body.at("status").as_string() == "not_ready");
  const auto& services = body.at("services").as_object();
  CHECK(services.size() == 4);
  for (const char* name : {"llm-proxy", "arena", "scoring", "critique"}) {
    CAPTURE(name);
    REQUIRE(services.contains(name));
    const std::string state(services.at(name).as_string());
    CHECK((state == "UNREACHABLE" || state == "TIMEOUT"));
  }
}

TEST_CASE("/metrics shows the process registry with the gateway's request metrics", "[gateway_server]") {
  Gateway gateway(test_settings(), common::metrics::Registry::global());
  TestConnection connection(gateway.port());
  REQUIRE(connection.request("GET", "/healthz").status == 200);
  REQUIRE(connection.request("GET", "/no/such/route").status == 404);

  const ClientResponse response = connection.request("GET", "/metrics");
  CHECK(response.status == 200);
  CHECK(response.header("content-type").starts_with("text/plain"));
  const std::string& text = response.body;
  CHECK(text.find("rally_gateway_http_requests_total{") != std::string::npos);
  CHECK(text.find(R"(route="/healthz")") != std::string::npos);
  CHECK(text.find(R"(route="unmatched")") != std::string::npos);
  CHECK(text.find(R"(status="404")") != std::string::npos);
  CHECK(text.find("rally_gateway_http_request_duration_seconds") != std::string::npos);
  CHECK(text.find("rally_gateway_http_requests_in_flight") != std::string::npos);
  CHECK(text.find("rally_gateway_open_connections") != std::string::npos);
}

TEST_CASE("shutdown closes idle connections and returns promptly", "[gateway_server]") {
  Gateway gateway(test_settings(), common::metrics::Registry::global());
  TestConnection connection(gateway.port());
  REQUIRE(connection.request("GET", "/healthz").status == 200);

  const auto started = std::chrono::steady_clock::now();
  gateway.shutdown();
  CHECK(std::chrono::steady_clock::now() - started < 1s);
  CHECK(connection.wait_for_close());
  gateway.shutdown();  // idempotent
}

}  // namespace
}  // namespace rally::gateway
