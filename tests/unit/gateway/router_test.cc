#include "gateway/http/router.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rally::gateway::http {
namespace {

// A handler that records which route ran, so a match can be traced back to its registration.
Handler tagged(std::string& ran, std::string tag) {
  return [&ran, tag = std::move(tag)](const std::shared_ptr<Exchange>&) { ran = tag; };
}

class NoopWebSocket final : public ws::WebSocketHandler {
 public:
  void on_open(const std::shared_ptr<ws::WebSocketChannel>&) override {}
  void on_message(std::string) override {}
  void on_close() override {}
};

ws::WebSocketFactory noop_websocket() {
  return [](const Request&) { return std::make_unique<NoopWebSocket>(); };
}

// Keeps the one response it is given.
class RecordingExchange final : public Exchange {
 public:
  const Request& request() const override { return request_; }
  void respond(Response response) override { response_ = std::move(response); }
  void start_stream(int, Headers) override {}
  bool write(std::string, WriteCallback) override { return false; }
  void finish() override {}
  bool cancelled() const override { return false; }
  void on_cancel(std::function<void()>) override {}
  void run_after(std::chrono::milliseconds, std::function<void()>) override {}

  std::optional<Response> response_;

 private:
  Request request_{Method::kGet, "/ws", {}};
};

TEST_CASE("exact paths match only themselves", "[router]") {
  std::string ran;
  Router router;
  router.add(Method::kGet, "/healthz", tagged(ran, "healthz"));
  router.add(Method::kGet, "/", tagged(ran, "root"));

  auto match = router.match(Method::kGet, "/healthz");
  REQUIRE(match.outcome == RouteMatch::Outcome::kMatched);
  CHECK(match.route == "/healthz");
  CHECK(match.params.empty());
  (*match.handler)(nullptr);
  CHECK(ran == "healthz");

  CHECK(router.match(Method::kGet, "/").route == "/");
  CHECK(router.match(Method::kGet, "/healthz/").outcome == RouteMatch::Outcome::kNotFound);
  CHECK(router.match(Method::kGet, "/healthzz").outcome == RouteMatch::Outcome::kNotFound);
  CHECK(router.match(Method::kGet, "//healthz").outcome == RouteMatch::Outcome::kNotFound);
  CHECK(router.match(Method::kGet, "healthz").outcome == RouteMatch::Outcome::kNotFound);
  CHECK(router.match(Method::kGet, "").outcome == RouteMatch::Outcome::kNotFound);
}

TEST_CASE("templates capture their parameters, decoded", "[router]") {
  std::string ran;
  Router router;
  router.add(Method::kGet, "/api/v1/models/{model_id}/score", tagged(ran, "score"));
  router.add(Method::kGet, "/api/v1/battles/{battle_id}/votes/{vote_id}", tagged(ran, "vote"));

  auto score = router.match(Method::kGet, "/api/v1/models/gpt-4/score");
  REQUIRE(score.outcome == RouteMatch::Outcome::kMatched);
  CHECK(score.route == "/api/v1/models/{model_id}/score");
  CHECK(score.params == PathParams{{"model_id", "gpt-4"}});

  auto vote = router.match(Method::kGet, "/api/v1/battles/b1/votes/v%2F2");
  REQUIRE(vote.outcome == RouteMatch::Outcome::kMatched);
  CHECK(vote.params == PathParams{{"battle_id", "b1"}, {"vote_id", "v/2"}});

  auto encoded = router.match(Method::kGet, "/api/v1/models/meta-llama%2FLlama-3%20Instruct/score");
  REQUIRE(encoded.outcome == RouteMatch::Outcome::kMatched);
  CHECK(encoded.params == PathParams{{"model_id", "meta-llama/Llama-3 Instruct"}});
}

TEST_CASE("a parameter needs one non-empty, well-encoded segment", "[router]") {
  std::string ran;
  Router router;
  router.add(Method::kGet, "/api/v1/models/{model_id}/score", tagged(ran, "score"));

  CHECK(router.match(Method::kGet, "/api/v1/models//score").outcome == RouteMatch::Outcome::kNotFound);
  CHECK(router.match(Method::kGet, "/api/v1/models/a/b/score").outcome == RouteMatch::Outcome::kNotFound);
  CHECK(router.match(Method::kGet, "/api/v1/models/bad%zz/score").outcome == RouteMatch::Outcome::kNotFound);
  CHECK(router.match(Method::kGet, "/api/v1/models/gpt-4").outcome == RouteMatch::Outcome::kNotFound);
}

TEST_CASE("a parameter must be UTF-8 once decoded, whether its bytes came raw or escaped", "[router]") {
  // Parameters go upstream in proto3 strings, which must be UTF-8: POST /api/v1/arena/battles/%FF/vote used
  // to reach the arena as a message it cannot parse, a 500 (found by tests/fuzz/gateway_request_fuzz).
  std::string ran;
  Router router;
  router.add(Method::kPost, "/api/v1/arena/battles/{battle_id}/vote", tagged(ran, "vote"));

  for (const std::string_view path :
       {"/api/v1/arena/battles/%FF/vote", "/api/v1/arena/battles/bt_\xff/vote",
        "/api/v1/arena/battles/%ED%A0%80/vote", "/api/v1/arena/battles/caf%C3/vote"}) {
    INFO(path);
    CHECK(router.match(Method::kPost, path).outcome == RouteMatch::Outcome::kNotFound);
  }
  auto accented = router.match(Method::kPost, "/api/v1/arena/battles/caf%C3%A9/vote");
  REQUIRE(accented.outcome == RouteMatch::Outcome::kMatched);
  CHECK(accented.params == PathParams{{"battle_id", "caf\xc3\xa9"}});
}

TEST_CASE("a literal segment beats a parameter, whatever the registration order", "[router]") {
  std::string ran;
  Router router;
  router.add(Method::kGet, "/models/{model_id}", tagged(ran, "by-id"));
  router.add(Method::kGet, "/models/ranking", tagged(ran, "ranking"));
  router.add(Method::kGet, "/models/{model_id}/score/{kind}", tagged(ran, "param-param"));
  router.add(Method::kGet, "/models/{model_id}/score/latest", tagged(ran, "param-literal"));
  router.add(Method::kGet, "/models/scores/{kind}/latest", tagged(ran, "literal-first"));

  auto ranking = router.match(Method::kGet, "/models/ranking");
  CHECK(ranking.route == "/models/ranking");
  CHECK(ranking.params.empty());
  CHECK(router.match(Method::kGet, "/models/gpt-4").route == "/models/{model_id}");
  CHECK(router.match(Method::kGet, "/models/x/score/latest").route == "/models/{model_id}/score/latest");
  CHECK(router.match(Method::kGet, "/models/x/score/daily").route == "/models/{model_id}/score/{kind}");
  // The first differing segment decides: "scores" (literal) beats {model_id}.
  CHECK(router.match(Method::kGet, "/models/scores/score/latest").route == "/models/scores/{kind}/latest");
}

TEST_CASE("methods dispatch to their own handlers", "[router]") {
  std::string ran;
  Router router;
  router.add(Method::kGet, "/api/v1/models/{model_id}/score", tagged(ran, "get"));
  router.add(Method::kPut, "/api/v1/models/{model_id}/score", tagged(ran, "put"));

  auto get = router.match(Method::kGet, "/api/v1/models/m/score");
  REQUIRE(get.outcome == RouteMatch::Outcome::kMatched);
  (*get.handler)(nullptr);
  CHECK(ran == "get");

  auto put = router.match(Method::kPut, "/api/v1/models/m/score");
  REQUIRE(put.outcome == RouteMatch::Outcome::kMatched);
  (*put.handler)(nullptr);
  CHECK(ran == "put");
}

TEST_CASE("a known path with another method is 405 with every allowed method, an unknown one 404",
          "[router]") {
  std::string ran;
  Router router;
  router.add(Method::kPost, "/models/{model_id}", tagged(ran, "post-by-id"));
  router.add(Method::kDelete, "/models/{model_id}", tagged(ran, "delete-by-id"));
  router.add(Method::kGet, "/models/ranking", tagged(ran, "ranking"));

  auto not_allowed = router.match(Method::kPatch, "/models/ranking");
  REQUIRE(not_allowed.outcome == RouteMatch::Outcome::kMethodNotAllowed);
  CHECK(not_allowed.route == "/models/ranking");  // the most specific of the templates that match
  CHECK(not_allowed.handler == nullptr);
  CHECK(not_allowed.allowed ==
        std::vector<Method>{Method::kGet, Method::kHead, Method::kPost, Method::kDelete});
  CHECK(Router::allow_header(not_allowed.allowed) == "GET, HEAD, POST, DELETE");

  // A less specific template that serves the method still wins over a 405 from a more specific one.
  auto fallback = router.match(Method::kPost, "/models/ranking");
  REQUIRE(fallback.outcome == RouteMatch::Outcome::kMatched);
  CHECK(fallback.route == "/models/{model_id}");
  CHECK(fallback.params == PathParams{{"model_id", "ranking"}});

  auto by_id = router.match(Method::kGet, "/models/gpt-4");
  REQUIRE(by_id.outcome == RouteMatch::Outcome::kMethodNotAllowed);
  CHECK(Router::allow_header(by_id.allowed) == "POST, DELETE");

  auto unknown = router.match(Method::kGet, "/nothing/here");
  CHECK(unknown.outcome == RouteMatch::Outcome::kNotFound);
  CHECK(unknown.allowed.empty());
}

TEST_CASE("HEAD falls back to the GET handler unless it has its own", "[router]") {
  std::string ran;
  Router router;
  router.add(Method::kGet, "/healthz", tagged(ran, "get"));
  router.add(Method::kGet, "/special", tagged(ran, "get"));
  router.add(Method::kHead, "/special", tagged(ran, "head"));
  router.add(Method::kPost, "/submit", tagged(ran, "post"));

  auto head = router.match(Method::kHead, "/healthz");
  REQUIRE(head.outcome == RouteMatch::Outcome::kMatched);
  (*head.handler)(nullptr);
  CHECK(ran == "get");

  auto own = router.match(Method::kHead, "/special");
  REQUIRE(own.outcome == RouteMatch::Outcome::kMatched);
  (*own.handler)(nullptr);
  CHECK(ran == "head");

  auto post_only = router.match(Method::kHead, "/submit");
  REQUIRE(post_only.outcome == RouteMatch::Outcome::kMethodNotAllowed);
  CHECK(Router::allow_header(post_only.allowed) == "POST");
}

TEST_CASE("WebSocket routes are matched separately from HTTP routes", "[router]") {
  std::string ran;
  Router router;
  router.add_websocket("/api/v1/ws/scoring", noop_websocket());
  router.add_websocket("/api/v1/ws/battles/{battle_id}", noop_websocket());
  router.add(Method::kGet, "/api/v1/ws/status", tagged(ran, "status"));

  auto scoring = router.match_websocket("/api/v1/ws/scoring");
  REQUIRE(scoring.has_value());
  CHECK(scoring->route == "/api/v1/ws/scoring");
  CHECK(scoring->factory != nullptr);

  auto battle = router.match_websocket("/api/v1/ws/battles/b%201");
  REQUIRE(battle.has_value());
  CHECK(battle->params == PathParams{{"battle_id", "b 1"}});

  CHECK_FALSE(router.match_websocket("/api/v1/ws/status").has_value());
  CHECK_FALSE(router.match_websocket("/api/v1/ws/unknown").has_value());
  // A plain GET to a WebSocket-only path has no HTTP route.
  CHECK(router.match(Method::kGet, "/api/v1/ws/scoring").outcome == RouteMatch::Outcome::kNotFound);
}

TEST_CASE("a WebSocket route's policy is checked through the guard, whose admission answers 101",
          "[router]") {
  std::vector<edge::RoutePolicy> guarded;
  bool refuse = false;
  Router router;
  router.set_guard([&](const edge::RoutePolicy& policy, Handler handler) -> Handler {
    guarded.push_back(policy);
    return [&refuse, handler = std::move(handler)](const std::shared_ptr<Exchange>& exchange) {
      if (refuse) return exchange->respond(Response{401, {}, {}});
      handler(exchange);
    };
  });
  router.add_websocket("/api/v1/ws/scores", noop_websocket(),
                       {edge::RoutePolicy::Access::kTokenRequired, edge::Scope::kRead, "read"});

  REQUIRE(guarded.size() == 1);
  CHECK(guarded[0].access == edge::RoutePolicy::Access::kTokenRequired);
  CHECK(guarded[0].rate_class == "read");
  const std::vector<RouteInfo> listed = router.routes();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].websocket);
  CHECK(listed[0].policy.scope == edge::Scope::kRead);

  const auto match = router.match_websocket("/api/v1/ws/scores");
  REQUIRE(match.has_value());
  REQUIRE(match->admission != nullptr);
  auto admitted = std::make_shared<RecordingExchange>();
  (*match->admission)(admitted);
  REQUIRE(admitted->response_.has_value());
  CHECK(admitted->response_->status == 101);

  refuse = true;
  auto refused = std::make_shared<RecordingExchange>();
  (*match->admission)(refused);
  REQUIRE(refused->response_.has_value());
  CHECK(refused->response_->status == 401);
}

TEST_CASE("malformed and conflicting registrations are refused", "[router]") {
  std::string ran;
  Router router;
  router.add(Method::kGet, "/models/{model_id}", tagged(ran, "a"));
  router.add_websocket("/ws", noop_websocket());

  CHECK_THROWS_AS(router.add(Method::kGet, "/models/{model_id}", tagged(ran, "b")), std::invalid_argument);
  CHECK_THROWS_AS(router.add(Method::kGet, "/models/{id}", tagged(ran, "b")), std::invalid_argument);
  CHECK_THROWS_AS(router.add_websocket("/ws", noop_websocket()), std::invalid_argument);
  CHECK_THROWS_AS(router.add(Method::kGet, "models", tagged(ran, "b")), std::invalid_argument);
  CHECK_THROWS_AS(router.add(Method::kGet, "", tagged(ran, "b")), std::invalid_argument);
  CHECK_THROWS_AS(router.add(Method::kGet, "/a//b", tagged(ran, "b")), std::invalid_argument);
  CHECK_THROWS_AS(router.add(Method::kGet, "/a/", tagged(ran, "b")), std::invalid_argument);
  CHECK_THROWS_AS(router.add(Method::kGet, "/a/{}", tagged(ran, "b")), std::invalid_argument);
  CHECK_THROWS_AS(router.add(Method::kGet, "/a/{b-c}", tagged(ran, "b")), std::invalid_argument);
  CHECK_THROWS_AS(router.add(Method::kGet, "/a/{x}/{x}", tagged(ran, "b")), std::invalid_argument);
  CHECK_THROWS_AS(router.add(Method::kGet, "/a/x{y}", tagged(ran, "b")), std::invalid_argument);
  CHECK_THROWS_AS(router.add(Method::kGet, "/a?b", tagged(ran, "b")), std::invalid_argument);
  CHECK_THROWS_AS(router.add(Method::kGet, "/empty", Handler{}), std::invalid_argument);

  // Another method on the same template is fine, and so is a different literal.
  CHECK_NOTHROW(router.add(Method::kPost, "/models/{model_id}", tagged(ran, "c")));
  CHECK_NOTHROW(router.add(Method::kGet, "/models/ranking", tagged(ran, "d")));
}

TEST_CASE("method names round-trip and are case-sensitive", "[router]") {
  for (const Method method : {Method::kGet, Method::kHead, Method::kPost, Method::kPut, Method::kPatch,
                              Method::kDelete, Method::kOptions}) {
    CHECK(parse_method(to_string(method)) == method);
  }
  CHECK_FALSE(parse_method("get").has_value());
  CHECK_FALSE(parse_method("PROPFIND").has_value());
  CHECK_FALSE(parse_method("").has_value());
}

}  // namespace
}  // namespace rally::gateway::http
