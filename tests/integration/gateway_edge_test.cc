// The gateway's door end to end, through the real gateway with real PostgreSQL (API tokens) and Redis
// (rate limits): who may call what, how often, and what every refusal looks like.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "tests/integration/llm_stack.h"
#include "tests/support/http_client.h"
#include "tests/support/servers.h"

namespace rally::testing {
namespace {

const std::map<std::string, std::string> kJson{{"Content-Type", "application/json"}};

std::map<std::string, std::string> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
}

void check_refused(const HttpResult& result, int status, std::string_view code) {
  INFO("status " << result.status << " body " << result.body);
  REQUIRE(result.status == status);
  const json::value body = parse_json(result.body);
  CHECK(body.at("success") == false);
  CHECK(body.at("error").at("code").as_string() == code);
  CHECK(body.at("metadata").at("request_id").as_string() == result.header("x-request-id"));
}

// A stack with rate limits on, counted in a Redis of its own (other tests share the suite's).
struct EdgeStack {
  explicit EdgeStack(std::map<std::string, std::string> env = {}, bool arena = true) {
    redis.start();
    env.try_emplace("RALLY_REDIS_ADDR", redis.address().to_string());
    env.try_emplace("RALLY_GATEWAY_RATE_LIMITS", "on");
    stack.emplace(StackOptions{"10s", std::move(env), arena});
  }
  ~EdgeStack() {
    stack.reset();  // before its Redis
  }

  RedisServer redis{free_port()};
  std::optional<LlmStack> stack;
};

HttpResult create_battle(int port, const std::map<std::string, std::string>& headers) {
  return http_request(port, "POST", "/api/v1/arena/battles", R"({"message":"Say hi."})", headers);
}

}  // namespace

TEST_CASE("/api/v1 needs a token of the right scope, the seed's routes stay open", "[integration][edge]") {
  EdgeStack edge;
  LlmStack& stack = *edge.stack;
  const int port = stack.gateway_port();
  const std::string reader = stack.create_token("reader", "read");
  const std::string writer = stack.create_token("writer", "write");
  const std::string admin = stack.create_token("operator", "admin");

  SECTION("no token, an unknown one or a malformed header is 401") {
    const HttpResult none = create_battle(port, kJson);
    check_refused(none, 401, "AUTHENTICATION_FAILED");
    CHECK(none.header("www-authenticate").starts_with("Bearer"));
    check_refused(create_battle(port, bearer("rally_not_a_token")), 401, "AUTHENTICATION_FAILED");
    check_refused(create_battle(port, {{"Authorization", "Basic dXNlcjpwYXNz"}}), 401,
                  "AUTHENTICATION_FAILED");
    check_refused(create_battle(port, {{"Authorization", "Bearer"}}), 401, "AUTHENTICATION_FAILED");
  }
  SECTION("a scope below the route's is 403; write and admin are enough for a change") {
    check_refused(create_battle(port, bearer(reader)), 403, "AUTHORIZATION_FAILED");
    CHECK(create_battle(port, bearer(writer)).status == 201);
    CHECK(create_battle(port, bearer(admin)).status == 201);
    check_refused(http_request(port, "GET", "/api/v1/admin/tokens", {}, bearer(writer)), 403,
                  "AUTHORIZATION_FAILED");
    const HttpResult listed = http_request(port, "GET", "/api/v1/admin/tokens", {}, bearer(admin));
    INFO(listed.body);
    REQUIRE(listed.status == 200);
    CHECK(listed.body.find("\"reader\"") != std::string::npos);
    CHECK(listed.body.find(reader) == std::string::npos);  // never the raw token
  }
  SECTION("the seed's routes answer anonymous callers, and honour a token when one is sent") {
    CHECK(http_request(port, "GET", "/leaderboard").status == 200);
    CHECK(http_request(port, "GET", "/leaderboard", {}, bearer(reader)).status == 200);
    check_refused(http_request(port, "GET", "/leaderboard", {}, bearer("rally_revoked_or_wrong")), 401,
                  "AUTHENTICATION_FAILED");
  }
  SECTION("a revoked token is refused at once, by every replica") {
    const int second = stack.add_gateway();
    // A replica answers 503 until it has loaded the tokens (a moment after it starts).
    REQUIRE(wait_until([&] { return create_battle(second, bearer(writer)).status == 201; }, 10s));
    const HttpResult listed = http_request(port, "GET", "/api/v1/admin/tokens", {}, bearer(admin));
    REQUIRE(listed.status == 200);
    std::string writer_id;
    const json::value tokens = parse_json(listed.body);
    for (const json::value& token : tokens.at("data").as_array()) {
      if (token.at("name") == "writer") writer_id = std::string(token.at("id").as_string());
    }
    REQUIRE_FALSE(writer_id.empty());
    REQUIRE(http_request(port, "DELETE", "/api/v1/admin/tokens/" + writer_id, {}, bearer(admin)).status ==
            200);
    check_refused(create_battle(port, bearer(writer)), 401, "AUTHENTICATION_FAILED");
    // The other replica hears of it through Redis, well before its periodic reload (30 s).
    CHECK(wait_until([&] { return create_battle(second, bearer(writer)).status == 401; }, 5s));
  }
}

namespace {

// Waits for a fresh window of the read class (limit 3): returns the first answer in it.
HttpResult first_of_a_window(int port) {
  HttpResult result;
  const bool fresh = wait_until(
      [&] {
        result = http_request(port, "GET", "/leaderboard");
        return result.status == 200 && result.header("x-ratelimit-remaining") == "2";
      },
      10s);
  REQUIRE(fresh);
  return result;
}

}  // namespace

TEST_CASE("rate limits count down in headers, refuse with 429 at the limit and clear after the window",
          "[integration][edge]") {
  EdgeStack edge(std::map<std::string, std::string>{{"RALLY_GATEWAY_RATE_LIMIT_READ", "3/2s"}});
  LlmStack& stack = *edge.stack;
  const int port = stack.gateway_port();

  SECTION("one gateway") {
    const HttpResult first = first_of_a_window(port);
    CHECK(first.header("x-ratelimit-limit") == "3");
    const std::string reset = first.header("x-ratelimit-reset");
    CHECK(std::stoll(reset) > 0);
    const HttpResult second = http_request(port, "GET", "/leaderboard");
    const HttpResult third = http_request(port, "GET", "/leaderboard");
    const HttpResult fourth = http_request(port, "GET", "/leaderboard");
    // All four fall into one 2 s window unless it turned meanwhile (then the check restarts next time).
    if (fourth.header("x-ratelimit-reset") == reset) {
      CHECK(second.header("x-ratelimit-remaining") == "1");
      CHECK(third.status == 200);
      CHECK(third.header("x-ratelimit-remaining") == "0");
      check_refused(fourth, 429, "RATE_LIMIT_EXCEEDED");
      CHECK(std::stoi(fourth.header("retry-after")) >= 1);
      CHECK(fourth.header("x-ratelimit-remaining") == "0");
      // Another class is counted apart.
      CHECK(http_request(port, "POST", "/vote", R"({"modelA":"gpt-4o","modelB":"gpt-4","result":"draw"})",
                         kJson)
                .status == 200);
    }
    // After the window, requests pass again.
    CHECK(wait_until([&] { return http_request(port, "GET", "/leaderboard").status == 200; }, 5s));
  }
  SECTION("two gateway replicas share one limit") {
    const int second = stack.add_gateway();
    const std::string reset = first_of_a_window(port).header("x-ratelimit-reset");
    int admitted = 1;
    int refused = 0;
    for (int i = 0; i < 5; ++i) {
      const HttpResult result = http_request(i % 2 == 0 ? second : port, "GET", "/leaderboard");
      if (result.header("x-ratelimit-reset") != reset) break;  // the window turned
      (result.status == 200 ? admitted : refused) += 1;
    }
    CHECK(admitted <= 3);
    if (admitted + refused == 6) CHECK(refused == 3);
  }
}

TEST_CASE("with Redis gone the gateway keeps serving on per-process limits and says so",
          "[integration][edge]") {
  EdgeStack edge({{"RALLY_REDIS_COMMAND_TIMEOUT", "100ms"}, {"RALLY_GATEWAY_RATE_LIMIT_READ", "1000/60s"}},
                 false);
  LlmStack& stack = *edge.stack;
  RedisServer& redis = edge.redis;
  const int port = stack.gateway_port();
  REQUIRE(http_request(port, "GET", "/v1/models").status == 200);
  redis.stop();
  for (int i = 0; i < 5; ++i) {
    const HttpResult result = http_request(port, "GET", "/v1/models");
    INFO(result.body);
    CHECK(result.status == 200);
    CHECK_FALSE(result.header("x-ratelimit-remaining").empty());
  }
  const HttpResult metrics = http_request(port, "GET", "/metrics");
  CHECK(metrics.body.find("rally_gateway_rate_limit_fallback 1") != std::string::npos);
  redis.start();  // the stack's services stop cleanly with Redis back
}

TEST_CASE("a client's X-Request-Id reaches the service's log and comes back", "[integration][edge]") {
  LlmStack stack(StackOptions{"10s", {}, true});
  const std::string id = "req_edgecase0123456789";
  const HttpResult voted = http_request(stack.gateway_port(), "POST", "/vote",
                                        R"({"modelA":"gpt-4o","modelB":"gpt-4","result":"draw"})",
                                        {{"Content-Type", "application/json"}, {"X-Request-Id", id}});
  REQUIRE(voted.status == 200);
  CHECK(voted.header("x-request-id") == id);
  CHECK(wait_until([&] { return stack.log_of("arena").find(id) != std::string::npos; }, 5s));
}

}  // namespace rally::testing
