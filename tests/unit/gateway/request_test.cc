#include "gateway/http/request.h"

#include <catch2/catch.hpp>

#include "gateway/http/headers.h"
#include "gateway/http/percent_encoding.h"
#include "gateway/http/response.h"

namespace rally::gateway::http {
namespace {

TEST_CASE("percent_decode decodes escapes and refuses broken ones", "[request]") {
  CHECK(percent_decode("plain") == "plain");
  CHECK(percent_decode("a%2Fb%20c") == "a/b c");
  CHECK(percent_decode("%e2%9c%93") == "\xe2\x9c\x93");
  CHECK(percent_decode("a+b") == "a+b");
  CHECK(percent_decode("a+b", /*plus_is_space=*/true) == "a b");
  CHECK(percent_decode("") == "");
  CHECK_FALSE(percent_decode("%").has_value());
  CHECK_FALSE(percent_decode("abc%4").has_value());
  CHECK_FALSE(percent_decode("%zz").has_value());
  CHECK_FALSE(percent_decode("%4g").has_value());
}

TEST_CASE("a request splits its target into path and query", "[request]") {
  const Request with_query(Method::kGet, "/api/v1/models/scores/compare?models=gpt-4,claude-3&limit=10", {});
  CHECK(with_query.path() == "/api/v1/models/scores/compare");
  CHECK(with_query.query() == "models=gpt-4,claude-3&limit=10");

  const Request without(Method::kGet, "/healthz", {});
  CHECK(without.path() == "/healthz");
  CHECK(without.query().empty());

  const Request empty_query(Method::kGet, "/x?", {});
  CHECK(empty_query.path() == "/x");
  CHECK(empty_query.query().empty());
}

TEST_CASE("query parameters are found by name and decoded", "[request]") {
  const Request request(Method::kGet,
                        "/r?category=overall&min_score=7.0&name=GPT+4%20%28x%29&flag&a%5Bb%5D=1&bad=%zz", {});
  CHECK(request.query_param("category") == "overall");
  CHECK(request.query_param("min_score") == "7.0");
  CHECK(request.query_param("name") == "GPT 4 (x)");
  CHECK(request.query_param("flag") == "");
  CHECK(request.query_param("a[b]") == "1");
  CHECK_FALSE(request.query_param("bad").has_value());
  CHECK_FALSE(request.query_param("missing").has_value());
  CHECK_FALSE(request.query_param("Category").has_value());  // names are case-sensitive

  const Request repeated(Method::kGet, "/r?x=1&x=2", {});
  CHECK(repeated.query_param("x") == "1");
}

TEST_CASE("headers are looked up case-insensitively and set replaces", "[request]") {
  Headers headers{{"Content-Type", "application/json"}, {"X-Custom", "a"}, {"x-custom", "b"}};
  CHECK(headers.get("content-type") == "application/json");
  CHECK(headers.get("X-CUSTOM") == "a");
  CHECK_FALSE(headers.get("Accept").has_value());

  headers.set("X-CUSTOM", "c");
  CHECK(headers.size() == 2);
  CHECK(headers.get("x-custom") == "c");
  headers.add("Set-Cookie", "a=1");
  headers.add("Set-Cookie", "b=2");
  CHECK(headers.size() == 4);

  const Request request(Method::kPost, "/x", headers, "{}");
  CHECK(request.header("set-cookie") == "a=1");
  CHECK(request.body() == "{}");
  CHECK(request.method() == Method::kPost);
}

TEST_CASE("the server fills in identity and route, and path parameters are found by name", "[request]") {
  Request request(Method::kGet, "/api/v1/models/gpt-4/score", {});
  CHECK(request.route().empty());
  CHECK_FALSE(request.path_param("model_id").has_value());

  request.set_request_id("req_1");
  request.set_client_address("127.0.0.1:5000");
  request.set_route("/api/v1/models/{model_id}/score", {{"model_id", "gpt-4"}});
  CHECK(request.request_id() == "req_1");
  CHECK(request.client_address() == "127.0.0.1:5000");
  CHECK(request.route() == "/api/v1/models/{model_id}/score");
  CHECK(request.path_param("model_id") == "gpt-4");
  CHECK_FALSE(request.path_param("other").has_value());
}

TEST_CASE("client_host drops the port of IPv4 and IPv6 peers", "[request]") {
  Request request(Method::kGet, "/", {});
  const auto host_of = [&](std::string address) {
    request.set_client_address(std::move(address));
    return std::string(request.client_host());
  };
  CHECK(host_of("192.0.2.7:51234") == "192.0.2.7");
  CHECK(host_of("[2001:db8::1]:443") == "[2001:db8::1]");
  CHECK(host_of("[2001:db8::1]") == "[2001:db8::1]");
  CHECK(host_of("2001:db8::1") == "2001:db8::1");
  CHECK(host_of("192.0.2.7") == "192.0.2.7");
  CHECK(host_of("") == "");
}

TEST_CASE("response helpers set the content type", "[request]") {
  const Response json = Response::json(201, R"({"ok":true})");
  CHECK(json.status == 201);
  CHECK(json.headers.get("Content-Type") == "application/json");
  CHECK(json.body == R"({"ok":true})");

  const Response text = Response::text(200, "hi");
  CHECK(text.headers.get("content-type") == "text/plain; charset=utf-8");
}

}  // namespace
}  // namespace rally::gateway::http
