// The arena end to end: the gateway's /random_models, /vote, /leaderboard, the live leaderboard WebSocket
// and anonymous battles, over the real rally-arena and rally-llm-proxy (every model on the real LLM
// simulator), against real PostgreSQL and Redis.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "services/arena/domain/elo.h"
#include "tests/integration/llm_stack.h"
#include "tests/support/http_client.h"
#include "tests/support/websocket_client.h"

namespace rally::testing {
namespace {

constexpr double kInitialRating = 1200;

// Fits are cheap at test sizes; refitting often lets tests see the Bradley-Terry columns move.
StackOptions arena_stack(std::map<std::string, std::string> extra_env = {}) {
  std::map<std::string, std::string> env{
      {"RALLY_ARENA_BT_EVERY_VOTES", "20"},
      {"RALLY_ARENA_BT_INTERVAL", "200ms"},
      {"RALLY_ARENA_PUBLISH_INTERVAL", "50ms"},
      // The battle routes are /api/v1 and need a token; these tests are about the arena, not the door.
      {"RALLY_GATEWAY_AUTH", "off"},
  };
  extra_env.merge(env);
  return StackOptions{"10s", std::move(extra_env), true};
}

std::string vote_body(const json::value& a, const json::value& b, const json::value& result) {
  json::object body;
  if (!a.is_null()) body["modelA"] = a;
  if (!b.is_null()) body["modelB"] = b;
  if (!result.is_null()) body["result"] = result;
  return json::serialize(body);
}

HttpResult post_vote(int port, const std::string& body,
                     const std::map<std::string, std::string>& headers = {}) {
  std::map<std::string, std::string> all{{"Content-Type", "application/json"}};
  all.insert(headers.begin(), headers.end());
  return http_request(port, "POST", "/vote", body, all);
}

// The suite's error envelope with `status`, `code` and (when given) `message`.
void check_error(const HttpResult& result, int status, std::string_view code, std::string_view message = {}) {
  INFO("status " << result.status << " body " << result.body);
  REQUIRE(result.status == status);
  const json::value body = parse_json(result.body);
  CHECK(body.at("success") == false);
  CHECK(body.at("error").at("code").as_string() == code);
  if (!message.empty()) CHECK(body.at("error").at("message").as_string() == message);
  CHECK(body.at("metadata").at("request_id").is_string());
}

std::map<std::string, json::object> leaderboard_by_name(int port) {
  const HttpResult result = http_request(port, "GET", "/leaderboard");
  REQUIRE(result.status == 200);
  std::map<std::string, json::object> rows;
  const json::value board = parse_json(result.body);
  for (const json::value& row : board.as_array()) {
    rows[std::string(row.at("name").as_string())] = row.as_object();
  }
  return rows;
}

double number(const json::value& value) {
  return value.is_double() ? value.as_double() : static_cast<double>(value.to_number<std::int64_t>());
}

}  // namespace

TEST_CASE("/vote answers the seed's errors in the suite's envelope", "[integration][arena]") {
  LlmStack stack(arena_stack());
  const int port = stack.gateway_port();

  SECTION("a missing, empty or null field is 400 Invalid input") {
    check_error(post_vote(port, vote_body(nullptr, "gpt-4", "gpt-4")), 400, "INVALID_REQUEST",
                "Invalid input");
    check_error(post_vote(port, vote_body("gpt-4o", nullptr, "gpt-4o")), 400, "INVALID_REQUEST",
                "Invalid input");
    check_error(post_vote(port, vote_body("gpt-4o", "gpt-4", nullptr)), 400, "INVALID_REQUEST",
                "Invalid input");
    check_error(post_vote(port, vote_body("", "gpt-4", "draw")), 400, "INVALID_REQUEST", "Invalid input");
    check_error(post_vote(port, R"({"modelA":null,"modelB":"gpt-4","result":"draw"})"), 400,
                "INVALID_REQUEST", "Invalid input");
  }
  SECTION("a model against itself or a result naming neither model is 400 Invalid input") {
    check_error(post_vote(port, vote_body("gpt-4o", "gpt-4o", "draw")), 400, "INVALID_REQUEST",
                "Invalid input");
    check_error(post_vote(port, vote_body("gpt-4o", "gpt-4", "gpt-3.5-turbo")), 400, "INVALID_REQUEST",
                "Invalid input");
    check_error(post_vote(port, vote_body("gpt-4o", "gpt-4", "Draw")), 400, "INVALID_REQUEST",
                "Invalid input");
  }
  SECTION("malformed JSON and wrong types are 400s, never 500s") {
    check_error(post_vote(port, "{not json"), 400, "INVALID_REQUEST", "Invalid input");
    check_error(post_vote(port, R"(["gpt-4o","gpt-4","draw"])"), 400, "INVALID_REQUEST", "Invalid input");
    check_error(post_vote(port, vote_body(42, "gpt-4", "draw")), 400, "INVALID_REQUEST", "Invalid input");
    check_error(post_vote(port, vote_body("gpt-4o", json::array{}, "draw")), 400, "INVALID_REQUEST",
                "Invalid input");
    check_error(post_vote(port, vote_body("gpt-4o", "gpt-4", true)), 400, "INVALID_REQUEST", "Invalid input");
    check_error(post_vote(port, ""), 400, "INVALID_REQUEST", "Invalid input");
  }
  SECTION("an unknown model is 404 Model not found") {
    check_error(post_vote(port, vote_body("gpt-4o", "no-such-model", "draw")), 404, "MODEL_NOT_FOUND",
                "Model not found");
    check_error(post_vote(port, vote_body("no-such-model", "gpt-4o", "no-such-model")), 404,
                "MODEL_NOT_FOUND", "Model not found");
  }
  SECTION("an Idempotency-Key over 255 characters is 400") {
    check_error(
        post_vote(port, vote_body("gpt-4o", "gpt-4", "draw"), {{"Idempotency-Key", std::string(256, 'k')}}),
        400, "INVALID_REQUEST");
  }
  SECTION("GET /vote is 405 with Allow") {
    const HttpResult result = http_request(port, "GET", "/vote");
    check_error(result, 405, "METHOD_NOT_ALLOWED");
    CHECK(result.header("allow") == "POST");
  }
  // Nothing above was stored.
  for (const auto& [name, row] : leaderboard_by_name(port)) {
    INFO(name);
    CHECK(row.at("votes") == 0);
    CHECK(number(row.at("score")) == kInitialRating);
  }
}

TEST_CASE("a vote updates both ratings zero-sum and the next leaderboard read shows it",
          "[integration][arena]") {
  LlmStack stack(arena_stack());
  const int port = stack.gateway_port();

  const HttpResult voted = post_vote(port, vote_body("gpt-4o", "claude-haiku-4-5-20251001", "gpt-4o"));
  INFO(voted.body);
  REQUIRE(voted.status == 200);
  const json::value body = parse_json(voted.body);
  CHECK(body.at("message") == "Vote recorded and ratings updated");
  // K = 32 from two 1200s: the winner gains 16, the loser loses 16.
  CHECK(number(body.at("new_ratings").at("gpt-4o")) == Approx(1216.0));
  CHECK(number(body.at("new_ratings").at("claude-haiku-4-5-20251001")) == Approx(1184.0));
  CHECK(number(body.at("modelA").at("rating_before")) == kInitialRating);
  CHECK(body.at("modelA").at("name") == "gpt-4o");
  CHECK(body.at("replayed") == false);

  const HttpResult draw = post_vote(port, vote_body("gpt-4o", "claude-haiku-4-5-20251001", "draw"));
  REQUIRE(draw.status == 200);

  const HttpResult board = http_request(port, "GET", "/leaderboard");
  REQUIRE(board.status == 200);
  CHECK(board.header("content-type").starts_with("application/json"));
  const json::array rows = parse_json(board.body).as_array();
  REQUIRE(rows.size() == 8);  // deploy/models.json
  double sum = 0;
  double previous = INFINITY;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const json::object& row = rows[i].as_object();
    INFO(json::serialize(row));
    // The seed's fields first, then the arena's.
    for (const char* field : {"rank", "name", "score", "price", "price_per_score", "votes", "wins", "losses",
                              "ties", "both_bad", "bt_rating", "ci_lower", "ci_upper", "rank_ub"}) {
      CHECK(row.contains(field));
    }
    CHECK(row.at("rank") == static_cast<std::int64_t>(i + 1));
    const double score = number(row.at("score"));
    CHECK(score <= previous);
    previous = score;
    sum += score;
    const double price = number(row.at("price"));
    CHECK(number(row.at("price_per_score")) == Approx(price == 0 ? 0 : score / price));
    CHECK(number(row.at("ci_lower")) <= number(row.at("bt_rating")));
    CHECK(number(row.at("bt_rating")) <= number(row.at("ci_upper")));
  }
  CHECK(std::abs(sum - 8 * kInitialRating) < 1e-9);
  auto by_name = leaderboard_by_name(port);
  CHECK(rows[0].at("name") == "gpt-4o");
  CHECK(by_name.at("gpt-4o").at("votes") == 2);
  CHECK(by_name.at("gpt-4o").at("wins") == 1);
  CHECK(by_name.at("gpt-4o").at("ties") == 1);
  CHECK(by_name.at("claude-haiku-4-5-20251001").at("losses") == 1);
  CHECK(number(by_name.at("gpt-4o").at("price")) == Approx(0.05));  // the seed's price for gpt-4o
}

TEST_CASE("a retried vote with the same Idempotency-Key is answered once and counted once",
          "[integration][arena]") {
  LlmStack stack(arena_stack());
  const int port = stack.gateway_port();
  const std::map<std::string, std::string> key{{"Idempotency-Key", "vote-7f3a"}};
  const std::string body = vote_body("gpt-4", "gpt-4-turbo", "gpt-4-turbo");

  const HttpResult first = post_vote(port, body, key);
  const HttpResult retry = post_vote(port, body, key);
  INFO(first.body << "\n" << retry.body);
  REQUIRE(first.status == 200);
  REQUIRE(retry.status == 200);
  const json::value a = parse_json(first.body);
  const json::value b = parse_json(retry.body);
  CHECK(a.at("vote_id") == b.at("vote_id"));
  CHECK(a.at("new_ratings") == b.at("new_ratings"));
  CHECK(a.at("replayed") == false);
  CHECK(b.at("replayed") == true);
  CHECK(leaderboard_by_name(port).at("gpt-4").at("votes") == 1);

  // The same key for another vote is a client bug: 409, nothing stored.
  check_error(post_vote(port, vote_body("gpt-4", "gpt-4-turbo", "draw"), key), 409, "CONFLICT");
  CHECK(leaderboard_by_name(port).at("gpt-4").at("votes") == 1);
}

TEST_CASE("8 clients x 500 concurrent votes on 3 models lose nothing and equal the replay",
          "[integration][arena]") {
  LlmStack stack(arena_stack({{"RALLY_ARENA_BT_EVERY_VOTES", "1000"}}));
  const int port = stack.gateway_port();
  const std::vector<std::string> models{"gpt-4o", "gpt-4", "claude-opus-4-5-20251101"};
  constexpr int kClients = 8;
  constexpr int kVotesPerClient = 500;

  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int client = 0; client < kClients; ++client) {
    clients.emplace_back([&, client] {
      for (int i = 0; i < kVotesPerClient; ++i) {
        // Every pair in both orders and every result, varied per client.
        const std::string& a = models[(client + i) % 3];
        const std::string& b = models[(client + i + 1 + i % 2) % 3];
        const std::string result = i % 5 == 0 ? "draw" : (i % 2 == 0 ? a : b);
        if (post_vote(port, vote_body(json::value(a), json::value(b), json::value(result))).status != 200) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& client : clients) client.join();
  REQUIRE(failures == 0);

  pqxx::connection connection(stack.database_url());
  pqxx::read_transaction read(connection);
  CHECK(read.exec1("SELECT count(*) FROM arena.votes")[0].as<std::int64_t>() == kClients * kVotesPerClient);
  std::vector<arena::Battle> votes;
  for (const pqxx::row& row : read.exec("SELECT model_a, model_b, outcome FROM arena.votes ORDER BY id")) {
    votes.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                     *arena::parse_vote_outcome(row[2].as<std::string>())});
  }
  arena::EloRatings initial;
  for (const pqxx::row& row : read.exec("SELECT name FROM arena.models")) {
    initial[row[0].as<std::string>()] = kInitialRating;
  }
  const arena::EloRatings replayed = arena::replay(initial, votes);

  const auto board = leaderboard_by_name(port);
  double sum = 0;
  for (const auto& [name, row] : board) {
    INFO(name);
    const double score = number(row.at("score"));
    sum += score;
    CHECK(score == Approx(replayed.at(name)).epsilon(0).margin(1e-9));
  }
  CHECK(std::abs(sum - kInitialRating * static_cast<double>(board.size())) < 1e-9);
  std::uint64_t participations = 0;
  for (const std::string& model : models)
    participations += board.at(model).at("votes").to_number<std::uint64_t>();
  CHECK(participations == 2 * kClients * kVotesPerClient);
}

TEST_CASE("/random_models draws two different eligible models by weight, in both orders",
          "[integration][arena]") {
  // A catalog with one disabled model and one of weight 0; claude-haiku (no fallbacks, so its failure
  // reaches the cooldown) is cooled down below.
  json::value catalog = parse_json(read_file(RALLY_SOURCE_DIR "/deploy/models.json"));
  for (json::value& model : catalog.at("models").as_array()) {
    if (model.at("name") == "gpt-4") model.as_object()["enabled"] = false;
    if (model.at("name") == "gpt-4-turbo") model.as_object()["sampling_weight"] = 0.0;
    if (model.at("name") == "gpt-3.5-turbo") model.as_object()["sampling_weight"] = 4.0;
  }
  TemporaryDirectory directory("rally-arena-catalog-");
  const std::string catalog_path = directory.file("models.json");
  {
    std::ofstream out(catalog_path);
    out << json::serialize(catalog);
  }
  LlmStack stack(arena_stack({{"RALLY_LLM_PROXY_CATALOG", catalog_path},
                              {"RALLY_LLM_PROXY_COOLDOWN_FAILURES", "1"},
                              {"RALLY_LLM_PROXY_MAX_ATTEMPTS", "1"},
                              {"RALLY_LLM_PROXY_COOLDOWN", "10m"}}));
  const int port = stack.gateway_port();
  stack.arm_simulator_fault(
      R"({"model": "claude-haiku-4-5-20251001", "count": 1, "fault": {"status": 500}})");
  REQUIRE(
      http_request(port, "POST", "/llm_request", body_of("Fail once", "claude-haiku-4-5-20251001")).status ==
      502);

  std::map<std::string, int> drawn;
  std::set<std::pair<std::string, std::string>> ordered;
  constexpr int kDraws = 400;
  for (int i = 0; i < kDraws; ++i) {
    const HttpResult result = http_request(port, "GET", "/random_models");
    REQUIRE(result.status == 200);
    const json::value pair = parse_json(result.body);
    const std::string a(pair.at("modelA").as_string());
    const std::string b(pair.at("modelB").as_string());
    REQUIRE(a != b);
    ++drawn[a];
    ++drawn[b];
    ordered.insert({a, b});
  }
  INFO("draws: " << json::serialize(json::value_from(drawn)));
  CHECK(drawn.count("gpt-4") == 0);                      // disabled
  CHECK(drawn.count("gpt-4-turbo") == 0);                // weight 0
  CHECK(drawn.count("claude-haiku-4-5-20251001") == 0);  // cooled down
  // Five eligible models of total weight 8, gpt-3.5-turbo 4 of it: it is drawn first with p 1/2, else
  // second with p 4/7, so it is in 11/14 (0.786) of the pairs; 0.70..0.87 is more than 4 standard
  // deviations (0.02 at 400 draws) either way.
  const double share = drawn["gpt-3.5-turbo"] / static_cast<double>(kDraws);
  CHECK(share > 0.70);
  CHECK(share < 0.87);
  for (const char* model :
       {"gpt-4o", "claude-3-5-sonnet-20240620", "claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101"}) {
    CHECK(drawn[model] > 30);
  }
  CHECK(ordered.count({"gpt-3.5-turbo", "claude-opus-4-5-20251101"}) == 1);
  CHECK(ordered.count({"claude-opus-4-5-20251101", "gpt-3.5-turbo"}) == 1);
}

TEST_CASE("/random_models is 503 when fewer than two models can be drawn", "[integration][arena]") {
  json::value catalog = parse_json(read_file(RALLY_SOURCE_DIR "/deploy/models.json"));
  for (json::value& model : catalog.at("models").as_array()) {
    if (model.at("name") != "gpt-4o") model.as_object()["enabled"] = false;
  }
  TemporaryDirectory directory("rally-arena-catalog-");
  const std::string catalog_path = directory.file("models.json");
  {
    std::ofstream out(catalog_path);
    out << json::serialize(catalog);
  }
  LlmStack stack(arena_stack({{"RALLY_LLM_PROXY_CATALOG", catalog_path}}));
  check_error(http_request(stack.gateway_port(), "GET", "/random_models"), 503, "SERVICE_UNAVAILABLE");
}

TEST_CASE("the leaderboard WebSocket sends a snapshot, then an update after a vote", "[integration][arena]") {
  LlmStack stack(arena_stack());
  const int port = stack.gateway_port();
  WebSocketClient client(port, "/api/v1/ws/leaderboard",
                         {{"Authorization", "Bearer " + stack.create_token("watcher", "read")}});
  const std::optional<std::string> snapshot = client.read(10s);
  REQUIRE(snapshot);
  const json::value first = parse_json(*snapshot);
  CHECK(first.at("type") == "snapshot");
  CHECK(first.at("data").at("total_votes") == 0);
  CHECK(first.at("data").at("leaderboard").as_array().size() == 8);

  REQUIRE(
      post_vote(port, vote_body("claude-opus-4-5-20251101", "gpt-4o", "claude-opus-4-5-20251101")).status ==
      200);
  // Updates may also come from fits; the vote's shows up within a few messages.
  bool seen = false;
  for (int i = 0; i < 10 && !seen; ++i) {
    const std::optional<std::string> message = client.read(10s);
    REQUIRE(message);
    const json::value update = parse_json(*message);
    REQUIRE(update.at("type") == "update");
    if (update.at("data").at("total_votes") == 1) {
      seen = true;
      const json::value& top = update.at("data").at("leaderboard").at(0);
      CHECK(top.at("name") == "claude-opus-4-5-20251101");
      CHECK(number(top.at("score")) == Approx(1216.0));
    }
  }
  CHECK(seen);

  client.send("ping");
  bool pong = false;
  for (int i = 0; i < 10 && !pong; ++i) {
    const std::optional<std::string> message = client.read(10s);
    REQUIRE(message);
    pong = parse_json(*message).at("type") == "pong";
  }
  CHECK(pong);
}

namespace {

struct BattleSide {
  std::string text;   // the deltas joined
  json::object done;  // the done event's data
};

BattleSide stream_side(int port, const std::string& battle_id, const std::string& side) {
  const HttpResult result =
      http_request(port, "GET", "/api/v1/arena/battles/" + battle_id + "/stream?side=" + side, {}, {}, 30s);
  INFO(result.body);
  REQUIRE(result.status == 200);
  CHECK(result.header("content-type").starts_with("text/event-stream"));
  BattleSide answer;
  for (const SseEvent& event : parse_events(result.body)) {
    const json::value data = parse_json(event.data);
    if (event.event.empty()) {
      CHECK(data.at("model").as_string() == side);
      answer.text += std::string(data.at("delta").as_string());
    } else {
      REQUIRE(event.event == "done");
      answer.done = data.as_object();
    }
  }
  REQUIRE_FALSE(answer.done.empty());
  return answer;
}

std::string create_battle(int port, const std::string& message) {
  const HttpResult created =
      http_request(port, "POST", "/api/v1/arena/battles", json::serialize(json::object{{"message", message}}),
                   {{"Content-Type", "application/json"}});
  INFO(created.body);
  REQUIRE(created.status == 201);
  const json::value envelope = parse_json(created.body);
  CHECK(envelope.at("success") == true);
  CHECK(envelope.at("metadata").at("request_id").as_string() == created.header("x-request-id"));
  const json::value& body = envelope.at("data");
  CHECK(body.at("expires_at").is_string());
  const std::string id(body.at("battle_id").as_string());
  CHECK(id.starts_with("bt_"));
  CHECK(id.size() == 35);
  return id;
}

HttpResult vote_battle(int port, const std::string& battle_id, const std::string& winner) {
  return http_request(port, "POST", "/api/v1/arena/battles/" + battle_id + "/vote",
                      json::serialize(json::object{{"winner", winner}}),
                      {{"Content-Type", "application/json"}});
}

}  // namespace

TEST_CASE("an anonymous battle streams both sides without names, then one vote reveals them",
          "[integration][arena]") {
  LlmStack stack(arena_stack());
  const int port = stack.gateway_port();
  const std::string message = "Explain why the sky is blue in one paragraph.";
  const std::string battle_id = create_battle(port, message);

  const BattleSide a = stream_side(port, battle_id, "a");
  const BattleSide b = stream_side(port, battle_id, "b");
  for (const BattleSide* side : {&a, &b}) {
    INFO(json::serialize(side->done));
    CHECK_FALSE(side->text.empty());
    CHECK(side->done.at("id") == "");
    CHECK(side->done.at("usage").at("cost_usd") == 0.0);
    CHECK(side->done.at("usage").at("completion_tokens").to_number<int>() > 0);
  }
  CHECK(a.done.at("model") == "a");
  CHECK(a.done.at("served_by") == "a");
  CHECK(b.done.at("model") == "b");

  const HttpResult voted = vote_battle(port, battle_id, "a");
  INFO(voted.body);
  REQUIRE(voted.status == 200);
  const json::value revealed = parse_json(voted.body);
  CHECK(revealed.at("success") == true);
  const json::value& reveal = revealed.at("data");
  CHECK(reveal.at("battle_id").as_string() == battle_id);
  CHECK(reveal.at("winner") == "a");
  const std::string model_a(reveal.at("modelA").at("name").as_string());
  const std::string model_b(reveal.at("modelB").at("name").as_string());
  CHECK(model_a != model_b);
  CHECK(number(reveal.at("modelA").at("rating_after")) == Approx(1216.0));
  CHECK(number(reveal.at("modelB").at("rating_after")) == Approx(1184.0));
  // Each side was answered by the model the vote revealed (the simulator's text is per model).
  CHECK(a.text == stack.simulator_text(model_a, message));
  CHECK(b.text == stack.simulator_text(model_b, message));

  // One vote per battle; the ratings moved once.
  check_error(vote_battle(port, battle_id, "b"), 409, "CONFLICT");
  const auto board = leaderboard_by_name(port);
  CHECK(board.at(model_a).at("wins") == 1);
  CHECK(board.at(model_b).at("losses") == 1);
  CHECK(board.at(model_a).at("votes") == 1);

  // A voted battle can still be replayed, still anonymously.
  CHECK(stream_side(port, battle_id, "b").text == b.text);
}

TEST_CASE("battle routes answer bad input and unknown battles in the envelope", "[integration][arena]") {
  LlmStack stack(arena_stack());
  const int port = stack.gateway_port();
  const std::map<std::string, std::string> json_type{{"Content-Type", "application/json"}};

  check_error(http_request(port, "POST", "/api/v1/arena/battles", R"({"message":"   "})", json_type), 400,
              "INVALID_REQUEST");
  check_error(http_request(port, "POST", "/api/v1/arena/battles", "{oops", json_type), 400,
              "INVALID_REQUEST");
  check_error(
      http_request(port, "POST", "/api/v1/arena/battles",
                   json::serialize(json::object{{"message", std::string(33 * 1024, 'x')}}), json_type),
      400, "INVALID_REQUEST");

  const std::string unknown = "bt_00000000000000000000000000000000";
  check_error(http_request(port, "GET", "/api/v1/arena/battles/" + unknown + "/stream?side=a"), 404,
              "NOT_FOUND");
  check_error(vote_battle(port, unknown, "a"), 404, "NOT_FOUND");

  const std::string battle_id = create_battle(port, "Name three primes.");
  check_error(http_request(port, "GET", "/api/v1/arena/battles/" + battle_id + "/stream?side=c"), 400,
              "INVALID_REQUEST");
  check_error(http_request(port, "GET", "/api/v1/arena/battles/" + battle_id + "/stream"), 400,
              "INVALID_REQUEST");
  check_error(vote_battle(port, battle_id, "draw"), 400, "INVALID_REQUEST");
  check_error(http_request(port, "POST", "/api/v1/arena/battles/" + battle_id + "/vote", "[]", json_type),
              400, "INVALID_REQUEST");
  // Nothing above voted.
  REQUIRE(vote_battle(port, battle_id, "tie").status == 200);
}

TEST_CASE("an expired battle is gone: 404 for its stream and its vote", "[integration][arena]") {
  LlmStack stack(arena_stack({{"RALLY_ARENA_BATTLE_TTL", "1s"}}));
  const int port = stack.gateway_port();
  const std::string battle_id = create_battle(port, "Say hi.");
  std::this_thread::sleep_for(1200ms);
  check_error(http_request(port, "GET", "/api/v1/arena/battles/" + battle_id + "/stream?side=a"), 404,
              "NOT_FOUND");
  check_error(vote_battle(port, battle_id, "a"), 404, "NOT_FOUND");
}

}  // namespace rally::testing
