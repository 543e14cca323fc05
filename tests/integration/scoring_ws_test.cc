// The live scores end to end: WebSocket clients of the gateway's /api/v1/ws/scoring watch models while
// scores are calculated through the REST API, with rally-scoring on real PostgreSQL publishing each stored
// score on Redis. The stack gets a Redis of its own: the update channel's name is fixed, and another test's
// scores must not reach these clients.
#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "services/common/redis_client.h"
#include "tests/integration/llm_stack.h"
#include "tests/support/http_client.h"
#include "tests/support/servers.h"
#include "tests/support/websocket_client.h"

namespace rally::testing {
namespace {

using Headers = std::map<std::string, std::string>;
using Ids = std::vector<std::string>;

constexpr char kTarget[] = "/api/v1/ws/scoring";
constexpr char kChannel[] = "rally:scoring:updates";

struct ScoringWsStack {
  ScoringWsStack()
      : stack(StackOptions{"10s", {{"RALLY_REDIS_ADDR", redis.address().to_string()}}, false, true}) {
    writer = stack.create_token("ws-writer", "write");
    reader = stack.create_token("ws-reader", "read");
    // The service answers once its migrations ran and the snapshot is loaded; the gateway says 503 before.
    const bool ready = wait_until(
        [&] {
          return http_request(port(), "GET", "/api/v1/scoring/configuration", {},
                              {{"Authorization", "Bearer " + reader}})
                     .status == 200;
        },
        60s);
    INFO(stack.logs());
    REQUIRE(ready);
  }

  int port() const { return stack.gateway_port(); }

  // Waits until the gateway listens on the update channel: a score published before would reach nobody.
  void wait_for_gateway_subscription() {
    common::RedisSettings settings;
    settings.address = redis.address();
    common::RedisClient client(settings);
    const bool subscribed = wait_until(
        [&] {
          const common::RedisReply reply = client.command({"PUBSUB", "NUMSUB", kChannel});
          return reply.elements.size() == 2 && reply.elements[1].integer >= 1;
        },
        10s);
    REQUIRE(subscribed);
  }

  // Calculates a fresh score of `model_id` (as it goes in the path) and returns the answer's data.
  json::value calculate(const std::string& model_id) const {
    const HttpResult result = http_request(
        port(), "POST", "/api/v1/models/" + model_id + "/score/calculate", R"({"force_recalculation":true})",
        {{"Authorization", "Bearer " + writer}, {"Content-Type", "application/json"}});
    INFO(result.status << " " << result.body);
    REQUIRE(result.status == 200);
    const json::value body = parse_json(result.body);
    REQUIRE(body.at("data").at("from_cache") == false);
    return body.at("data");
  }

  RedisServer redis{free_port()};  // first: the stack stops before it
  LlmStack stack;
  std::string writer;
  std::string reader;
};

// The next message as JSON; fails when none arrives in time.
json::value next(WebSocketClient& client) {
  const std::optional<std::string> text = client.read(15s);
  REQUIRE(text);
  return parse_json(*text);
}

std::string request(std::string_view action, const Ids& ids) {
  json::array array;
  for (const std::string& id : ids) array.emplace_back(id);
  return json::serialize(json::object{{"action", std::string(action)}, {"model_ids", std::move(array)}});
}

// Sends a subscribe or unsubscribe and checks the answer shows `expected`, the connection's whole set.
void change(WebSocketClient& client, std::string_view action, const Ids& ids, const Ids& expected) {
  client.send(request(action, ids));
  const json::value answer = next(client);
  INFO(json::serialize(answer));
  REQUIRE(answer.at("type") == "subscribed");
  json::array set;
  for (const std::string& id : expected) set.emplace_back(id);
  CHECK(answer.at("data").at("model_ids") == set);
}

// The next message is the update of `score` (a REST answer) under `model_id`.
void expect_update(WebSocketClient& client, const json::value& score, std::string_view model_id) {
  const json::value message = next(client);
  INFO(json::serialize(message));
  REQUIRE(message.at("type") == "score_update");
  CHECK(message.at("timestamp").is_string());
  const json::value& data = message.at("data");
  CHECK(std::string(data.at("model_id").as_string()) == model_id);
  CHECK(data.at("model_name") == score.at("model_name"));
  CHECK(data.at("overall_score") == score.at("overall_score"));
  CHECK(data.at("score_suffix") == score.at("score_suffix"));
  CHECK(data.at("components") == score.at("components"));
  CHECK(data.at("last_calculated") == score.at("last_calculated"));
}

// The next message is the answer to "ping": nothing was queued before it.
void expect_nothing_before_pong(WebSocketClient& client) {
  client.send("ping");
  const json::value message = next(client);
  INFO(json::serialize(message));
  CHECK(message == json::parse(R"({"type":"pong"})"));
}

// The next message is an INVALID_REQUEST error whose message mentions `words`.
void expect_refusal(WebSocketClient& client, const std::string& sent, std::string_view words) {
  client.send(sent);
  const json::value message = next(client);
  INFO("sent " << sent.substr(0, 200) << "\nanswer " << json::serialize(message));
  REQUIRE(message.at("type") == "error");
  CHECK(message.at("error").at("code") == "INVALID_REQUEST");
  CHECK(std::string_view(message.at("error").at("message").as_string()).find(words) !=
        std::string_view::npos);
}

}  // namespace

TEST_CASE("live scores reach the clients watching each model, under the id they watch it by",
          "[integration][scoring][websocket]") {
  ScoringWsStack s;
  const int port = s.port();

  // Without a token, or with an unknown one, the upgrade is refused 401 in the envelope.
  {
    const HttpResult none = WebSocketClient::try_handshake(port, kTarget);
    INFO(none.status << " " << none.body);
    CHECK(none.status == 401);
    CHECK(parse_json(none.body).at("error").at("code") == "AUTHENTICATION_FAILED");
    CHECK(none.header("www-authenticate").starts_with("Bearer"));
    const HttpResult unknown =
        WebSocketClient::try_handshake(port, kTarget, {{"Authorization", "Bearer rally_unknown"}});
    CHECK(unknown.status == 401);
    // A plain GET is no route.
    CHECK(http_request(port, "GET", kTarget, {}, {{"Authorization", "Bearer " + s.reader}}).status == 404);
  }

  // Subscribers get exactly their models' updates; unsubscribing stops them; bad messages are answered.
  WebSocketClient by_alias(port, kTarget, {{"Authorization", "Bearer " + s.reader}});
  WebSocketClient by_key(port, kTarget, {{"Sec-WebSocket-Protocol", "bearer, " + s.reader}});
  CHECK(by_key.handshake().header("sec-websocket-protocol") == "bearer");
  WebSocketClient everything(port, kTarget,
                             {{"Authorization", "Bearer " + s.writer}});  // write includes read
  change(by_alias, "subscribe", {"gpt-4o"}, {"gpt-4o"});
  change(by_key, "subscribe", {"anthropic/claude-sonnet-4-5"}, {"anthropic/claude-sonnet-4-5"});
  change(everything, "subscribe", {"*"}, {"*"});
  s.wait_for_gateway_subscription();

  const json::value gpt = s.calculate("gpt-4o");
  expect_update(by_alias, gpt, "gpt-4o");
  expect_update(everything, gpt, "openai/gpt-4o");

  const json::value claude = s.calculate("anthropic%2Fclaude-sonnet-4-5");
  expect_update(by_key, claude, "anthropic/claude-sonnet-4-5");
  expect_update(everything, claude, "anthropic/claude-sonnet-4-5");

  // Asked for by its bare id, the model still reaches the client watching its key, with the score it
  // replaced.
  const json::value claude_again = s.calculate("claude-sonnet-4-5");
  CHECK(claude_again.at("model_id") == "claude-sonnet-4-5");
  {
    const json::value message = next(by_key);
    INFO(json::serialize(message));
    CHECK(message.at("data").at("model_id") == "anthropic/claude-sonnet-4-5");
    CHECK(message.at("data").at("overall_score") == claude_again.at("overall_score"));
    CHECK(message.at("data").at("previous_overall_score") == claude.at("overall_score"));
  }
  expect_update(everything, claude_again, "anthropic/claude-sonnet-4-5");

  const json::value o3 = s.calculate("o3");
  expect_update(everything, o3, "openai/o3");
  // The gateway handles Redis messages one after another: once "*" got the last one, every update went
  // out to every client, so the next message of the others shows whether they got one too many.
  expect_nothing_before_pong(by_alias);
  expect_nothing_before_pong(by_key);

  // Unsubscribing stops the updates; the set answers as it is after each change.
  change(by_alias, "unsubscribe", {"gpt-4o", "never-watched"}, {});
  change(by_alias, "subscribe", {"gpt-4o-mini", "o3"}, {"gpt-4o-mini", "o3"});
  change(by_alias, "unsubscribe", {"o3"}, {"gpt-4o-mini"});
  change(by_key, "unsubscribe", {"anthropic/claude-sonnet-4-5"}, {});
  change(by_key, "subscribe", {"o3"}, {"o3"});
  const json::value gpt_again = s.calculate("gpt-4o");
  const json::value claude_third = s.calculate("claude-sonnet-4-5");
  const json::value mini = s.calculate("gpt-4o-mini");
  const json::value o3_again = s.calculate("o3");
  expect_update(by_alias, mini, "gpt-4o-mini");  // not gpt-4o's update before it
  expect_update(by_key, o3_again, "o3");         // not claude's
  expect_update(everything, gpt_again, "openai/gpt-4o");
  expect_update(everything, claude_third, "anthropic/claude-sonnet-4-5");
  expect_update(everything, mini, "openai/gpt-4o-mini");
  expect_update(everything, o3_again, "openai/o3");
  expect_nothing_before_pong(by_alias);
  expect_nothing_before_pong(by_key);

  // Bad messages are answered with the error and change nothing; the connection keeps working.
  expect_refusal(by_alias, "subscribe gpt-4o", "message is not JSON");
  expect_refusal(by_alias, R"({"action":"watch","model_ids":["gpt-4o"]})",
                 "action must be subscribe or unsubscribe");
  expect_refusal(by_alias, R"({"action":"subscribe"})", "model_ids is required");
  expect_refusal(by_alias, R"({"action":"subscribe","model_ids":"gpt-4o"})", "model_ids must be an array");
  expect_refusal(by_alias, R"({"action":"subscribe","model_ids":[]})", "model_ids must not be empty");
  expect_refusal(by_alias, R"({"action":"subscribe","model_ids":["gpt-4o",""]})",
                 "model_ids[1] must be a non-empty string");
  expect_refusal(by_alias, R"({"action":"unsubscribe","model_ids":[4]})",
                 "model_ids[0] must be a non-empty string");
  expect_refusal(by_alias, request("subscribe", {std::string(257, 'x')}),
                 "model_ids[0] is longer than 256 bytes");
  Ids too_many;
  for (int i = 0; i < 1001; ++i) too_many.push_back("model-" + std::to_string(i));
  expect_refusal(by_alias, request("subscribe", too_many), "more than 1000");
  Ids filling(too_many.begin(), too_many.begin() + 999);
  change(by_alias, "subscribe", filling, [&] {
    Ids set = filling;
    set.push_back("gpt-4o-mini");
    std::sort(set.begin(), set.end());
    return set;
  }());
  expect_refusal(by_alias, request("subscribe", {"one-more"}), "more than 1000 models (it watches 1000)");
  expect_nothing_before_pong(by_alias);

  const json::value mini_again = s.calculate("gpt-4o-mini");
  expect_update(by_alias, mini_again, "gpt-4o-mini");
  expect_update(everything, mini_again, "openai/gpt-4o-mini");
}

}  // namespace rally::testing
