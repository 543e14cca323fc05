// The arena routes' payloads: the seed's /random_models, /vote and /leaderboard bodies, the battle bodies
// and the live leaderboard's messages.
#include "gateway/routes/arena_payloads.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>

namespace rally::gateway::routes {
namespace {

namespace json = boost::json;

v1::LeaderboardResponse two_rows() {
  v1::LeaderboardResponse board;
  v1::LeaderboardEntry& first = *board.add_entries();
  first.set_rank(1);
  first.set_name("gpt-4o");
  first.set_score(1216);
  first.set_price(0.05);
  first.set_price_per_score(24320);
  first.set_votes(3);
  first.set_wins(2);
  first.set_ties(1);
  first.set_bt_rating(1250.5);
  first.set_ci_lower(1190);
  first.set_ci_upper(1300);
  first.set_rank_ub(1);
  v1::LeaderboardEntry& second = *board.add_entries();
  second.set_rank(2);
  second.set_name("gpt-4");
  second.set_score(1184);
  second.set_both_bad(1);
  board.set_total_votes(3);
  return board;
}

TEST_CASE("random_models_body names the pair as the seed does", "[gateway][arena]") {
  v1::RandomPairResponse pair;
  pair.set_model_a("gpt-4o");
  pair.set_model_b("gpt-4");
  CHECK(random_models_body(pair) == R"({"modelA":"gpt-4o","modelB":"gpt-4"})");
}

TEST_CASE("parse_vote_body passes strings and absent fields, refuses other types", "[gateway][arena]") {
  auto request = parse_vote_body(R"({"modelA":"a","modelB":"b","result":"draw","extra":1})");
  REQUIRE(request.ok());
  CHECK(request->model_a() == "a");
  CHECK(request->model_b() == "b");
  CHECK(request->result() == "draw");

  // Absent and null go to the arena as empty, which answers them with the seed's checks.
  auto partial = parse_vote_body(R"({"modelA":null,"result":"a"})");
  REQUIRE(partial.ok());
  CHECK(partial->model_a().empty());
  CHECK(partial->model_b().empty());

  for (const char* body : {"", "{", "[]", "\"a\"", "42", "null"}) {
    INFO(body);
    auto refused = parse_vote_body(body);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == common::ErrorCode::kInvalidRequest);
    CHECK(refused.error().message == "Invalid input");
  }
  for (const char* body : {R"({"modelA":1})", R"({"modelB":[]})", R"({"result":true})", R"({"result":{}})"}) {
    INFO(body);
    auto refused = parse_vote_body(body);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message == "Invalid input");
    CHECK(refused.error().details.size() == 1);
  }
}

TEST_CASE("vote_response_body has the seed's message and both rating changes", "[gateway][arena]") {
  v1::VoteResponse response;
  response.set_message("Vote recorded and ratings updated");
  response.mutable_model_a()->set_model("gpt-4o");
  response.mutable_model_a()->set_rating_before(1200);
  response.mutable_model_a()->set_rating_after(1216);
  response.mutable_model_b()->set_model("gpt-4");
  response.mutable_model_b()->set_rating_before(1200);
  response.mutable_model_b()->set_rating_after(1184);
  response.set_vote_id(9);
  const json::value body = json::parse(vote_response_body(response));
  CHECK(body.at("message") == "Vote recorded and ratings updated");
  CHECK(body.at("new_ratings").at("gpt-4o") == 1216.0);
  CHECK(body.at("new_ratings").at("gpt-4") == 1184.0);
  CHECK(body.at("modelB").at("rating_before") == 1200.0);
  CHECK(body.at("modelB").at("name") == "gpt-4");
  CHECK(body.at("vote_id") == 9);
  CHECK(body.at("replayed") == false);
}

TEST_CASE("leaderboard_body is the seed's array with the arena's columns", "[gateway][arena]") {
  const json::value body = json::parse(leaderboard_body(two_rows()));
  REQUIRE(body.is_array());
  REQUIRE(body.as_array().size() == 2);
  const json::object& first = body.at(0).as_object();
  CHECK(first.at("rank") == 1);
  CHECK(first.at("name") == "gpt-4o");
  CHECK(first.at("score") == 1216.0);
  CHECK(first.at("price") == 0.05);
  CHECK(first.at("price_per_score") == 24320.0);
  CHECK(first.at("votes") == 3);
  CHECK(first.at("wins") == 2);
  CHECK(first.at("ties") == 1);
  CHECK(first.at("bt_rating") == 1250.5);
  CHECK(first.at("ci_lower") == 1190.0);
  CHECK(first.at("ci_upper") == 1300.0);
  CHECK(first.at("rank_ub") == 1);
  CHECK(body.at(1).at("both_bad") == 1);
  CHECK(json::parse(leaderboard_body(v1::LeaderboardResponse{})) == json::array{});
}

TEST_CASE("leaderboard_message wraps the same rows with the totals", "[gateway][arena]") {
  v1::LeaderboardResponse board = two_rows();
  const json::value unfitted = json::parse(leaderboard_message("snapshot", board));
  CHECK(unfitted.at("type") == "snapshot");
  CHECK(unfitted.at("data").at("bt_computed_at").is_null());
  CHECK(unfitted.at("data").at("leaderboard") == json::parse(leaderboard_body(board)));
  CHECK(unfitted.at("data").at("total_votes") == 3);
  CHECK(unfitted.at("timestamp").is_string());

  board.mutable_bt_computed_at()->set_seconds(1'795'000'000);
  board.set_bt_votes(3);
  const json::value fitted = json::parse(leaderboard_message("update", board));
  CHECK(fitted.at("type") == "update");
  CHECK(fitted.at("data").at("bt_computed_at") == "2026-11-18T11:06:40Z");
  CHECK(fitted.at("data").at("bt_votes") == 3);
}

TEST_CASE("battle bodies: the message is required, the winner is one of four words", "[gateway][arena]") {
  auto battle = parse_battle_body(R"({"message":"Which is larger, 9.11 or 9.9?"})");
  REQUIRE(battle.ok());
  CHECK(battle->message() == "Which is larger, 9.11 or 9.9?");
  for (const char* body : {R"({})", R"({"message":"  \n"})", R"({"message":5})", "[]", "nope"}) {
    INFO(body);
    auto refused = parse_battle_body(body);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == common::ErrorCode::kInvalidRequest);
  }

  const std::pair<const char*, v1::VoteOutcome> winners[] = {{"a", v1::VOTE_OUTCOME_MODEL_A},
                                                             {"b", v1::VOTE_OUTCOME_MODEL_B},
                                                             {"tie", v1::VOTE_OUTCOME_TIE},
                                                             {"bothbad", v1::VOTE_OUTCOME_BOTH_BAD}};
  for (const auto& [word, outcome] : winners) {
    auto vote = parse_battle_vote_body("bt_1", json::serialize(json::object{{"winner", word}}));
    REQUIRE(vote.ok());
    CHECK(vote->battle_id() == "bt_1");
    CHECK(vote->outcome() == outcome);
  }
  for (const char* body : {R"({"winner":"A"})", R"({"winner":"draw"})", R"({"winner":1})", R"({})", "x"}) {
    INFO(body);
    CHECK_FALSE(parse_battle_vote_body("bt_1", body).ok());
  }

  v1::VoteBattleResponse revealed;
  revealed.set_battle_id("bt_1");
  revealed.set_outcome(v1::VOTE_OUTCOME_BOTH_BAD);
  revealed.mutable_model_a()->set_model("gpt-4o");
  revealed.mutable_model_b()->set_model("gpt-4");
  const json::value body = json::parse(battle_vote_body(revealed));
  CHECK(body.at("winner") == "bothbad");
  CHECK(body.at("modelA").at("name") == "gpt-4o");
  CHECK(body.at("modelB").at("name") == "gpt-4");

  CHECK(parse_battle_side("a").value() == v1::BATTLE_SIDE_A);
  CHECK(parse_battle_side("b").value() == v1::BATTLE_SIDE_B);
  CHECK_FALSE(parse_battle_side("c").ok());
  CHECK_FALSE(parse_battle_side("").ok());
}

}  // namespace
}  // namespace rally::gateway::routes

namespace rally::gateway::routes {
namespace {

std::string detail_of(const common::Error& error, const std::string& key) {
  for (const auto& [name, value] : error.details) {
    if (name == key) return value;
  }
  return "(absent)";
}

TEST_CASE("body parsers share the JSON helper: broken JSON and bad UTF-8 name the body or the field",
          "[gateway][arena]") {
  const auto broken = parse_vote_body("{\"modelA\":");
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().code == common::ErrorCode::kInvalidRequest);
  CHECK(broken.error().message == "Invalid input");  // the seed's message
  CHECK(detail_of(broken.error(), "reason") == "invalid_json");

  const auto bad_text = parse_battle_body("{\"message\":\"caf\xC3\"}");
  REQUIRE_FALSE(bad_text.ok());
  CHECK(detail_of(bad_text.error(), "field") == "message");
  CHECK(detail_of(bad_text.error(), "reason") == "invalid_utf8");
}

}  // namespace
}  // namespace rally::gateway::routes
