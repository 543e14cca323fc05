#include "gateway/routes/arena_payloads.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>

#include "gateway/http/envelope.h"
#include "gateway/http/json_body.h"
#include "services/common/json_text.h"

namespace rally::gateway::routes {
namespace {

namespace json = boost::json;
using common::Error;
using common::ErrorCode;

constexpr std::string_view kInvalidInput = "Invalid input";

Error invalid_input(std::string_view field) {
  return Error(ErrorCode::kInvalidRequest, std::string(kInvalidInput), {{"field", std::string(field)}});
}

std::chrono::system_clock::time_point to_time_point(const google::protobuf::Timestamp& timestamp) {
  const auto micros = google::protobuf::util::TimeUtil::TimestampToMicroseconds(timestamp);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::microseconds(micros)));
}

json::value timestamp_or_null(const google::protobuf::Timestamp& timestamp, bool present) {
  if (!present) return nullptr;
  return json::value(http::format_timestamp(to_time_point(timestamp)));
}

// The object body of a POST, or the error for a body that is not one.
common::Result<json::object> parse_object(std::string_view body, std::string_view message) {
  common::Result<json::value> result = http::parse_json_body(body);
  if (!result.ok()) {
    // The seed's message, with the helper's details: which field, and why.
    Error error = result.error();
    error.message = std::string(message);
    return error;
  }
  json::value& parsed = result.value();
  if (!parsed.is_object()) {
    return Error(ErrorCode::kInvalidRequest, std::string(message), {{"reason", "body is not a JSON object"}});
  }
  return std::move(parsed.as_object());
}

json::object rating_change(const v1::RatingChange& change) {
  return json::object{{"name", change.model()},
                      {"rating_before", change.rating_before()},
                      {"rating_after", change.rating_after()}};
}

json::array leaderboard_rows(const v1::LeaderboardResponse& leaderboard) {
  json::array rows;
  rows.reserve(static_cast<std::size_t>(leaderboard.entries_size()));
  for (const v1::LeaderboardEntry& entry : leaderboard.entries()) {
    rows.push_back(json::object{
        {"rank", entry.rank()},
        {"name", entry.name()},
        {"score", entry.score()},
        {"price", entry.price()},
        {"price_per_score", entry.price_per_score()},
        {"votes", entry.votes()},
        {"wins", entry.wins()},
        {"losses", entry.losses()},
        {"ties", entry.ties()},
        {"both_bad", entry.both_bad()},
        {"bt_rating", entry.bt_rating()},
        {"ci_lower", entry.ci_lower()},
        {"ci_upper", entry.ci_upper()},
        {"rank_ub", entry.rank_ub()},
    });
  }
  return rows;
}

std::string_view winner_name(v1::VoteOutcome outcome) {
  switch (outcome) {
    case v1::VOTE_OUTCOME_MODEL_A:
      return "a";
    case v1::VOTE_OUTCOME_MODEL_B:
      return "b";
    case v1::VOTE_OUTCOME_TIE:
      return "tie";
    case v1::VOTE_OUTCOME_BOTH_BAD:
      return "bothbad";
    default:
      return "";
  }
}

}  // namespace

std::string random_models_body(const v1::RandomPairResponse& pair) {
  return common::json_text(json::object{{"modelA", pair.model_a()}, {"modelB", pair.model_b()}});
}

common::Result<v1::VoteRequest> parse_vote_body(std::string_view body) {
  auto object = parse_object(body, kInvalidInput);
  if (!object.ok()) return object.error();
  v1::VoteRequest request;
  const auto read = [&](std::string_view field, std::string* out) -> bool {
    const json::value* value = object->if_contains(field);
    if (value == nullptr || value->is_null()) return true;
    if (!value->is_string()) return false;
    *out = std::string(value->get_string());
    return true;
  };
  if (!read("modelA", request.mutable_model_a())) return invalid_input("modelA");
  if (!read("modelB", request.mutable_model_b())) return invalid_input("modelB");
  if (!read("result", request.mutable_result())) return invalid_input("result");
  return request;
}

std::string vote_response_body(const v1::VoteResponse& response) {
  json::object new_ratings;
  new_ratings[response.model_a().model()] = response.model_a().rating_after();
  new_ratings[response.model_b().model()] = response.model_b().rating_after();
  return common::json_text(json::object{
      {"message", response.message()},
      {"new_ratings", std::move(new_ratings)},
      {"modelA", rating_change(response.model_a())},
      {"modelB", rating_change(response.model_b())},
      {"vote_id", response.vote_id()},
      {"replayed", response.replayed()},
  });
}

std::string leaderboard_body(const v1::LeaderboardResponse& leaderboard) {
  return common::json_text(leaderboard_rows(leaderboard));
}

std::string leaderboard_message(std::string_view type, const v1::LeaderboardResponse& leaderboard) {
  return common::json_text(json::object{
      {"type", type},
      {"data",
       json::object{
           {"leaderboard", leaderboard_rows(leaderboard)},
           {"total_votes", leaderboard.total_votes()},
           {"bt_votes", leaderboard.bt_votes()},
           {"bt_computed_at",
            timestamp_or_null(leaderboard.bt_computed_at(), leaderboard.has_bt_computed_at())},
       }},
      {"timestamp", http::format_timestamp(std::chrono::system_clock::now())},
  });
}

common::Result<v1::CreateBattleRequest> parse_battle_body(std::string_view body) {
  constexpr std::string_view kMessageRequired = "Message is required";
  auto object = parse_object(body, "The request body must be a JSON object with a message");
  if (!object.ok()) return object.error();
  const json::value* message = object->if_contains("message");
  const bool blank = message == nullptr || !message->is_string() ||
                     std::all_of(message->get_string().begin(), message->get_string().end(),
                                 [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
  if (blank) return Error(ErrorCode::kInvalidRequest, std::string(kMessageRequired), {{"field", "message"}});
  v1::CreateBattleRequest request;
  request.set_message(std::string(message->get_string()));
  return request;
}

std::string battle_body(const v1::Battle& battle) {
  return common::json_text(json::object{
      {"battle_id", battle.battle_id()},
      {"expires_at", http::format_timestamp(to_time_point(battle.expires_at()))},
  });
}

common::Result<v1::VoteBattleRequest> parse_battle_vote_body(std::string_view battle_id,
                                                             std::string_view body) {
  constexpr std::string_view kBadWinner = R"(winner must be "a", "b", "tie" or "bothbad")";
  auto object = parse_object(body, kBadWinner);
  if (!object.ok()) return object.error();
  const json::value* winner = object->if_contains("winner");
  v1::VoteBattleRequest request;
  request.set_battle_id(std::string(battle_id));
  if (winner != nullptr && winner->is_string()) {
    for (const v1::VoteOutcome outcome : {v1::VOTE_OUTCOME_MODEL_A, v1::VOTE_OUTCOME_MODEL_B,
                                          v1::VOTE_OUTCOME_TIE, v1::VOTE_OUTCOME_BOTH_BAD}) {
      if (winner->get_string() == winner_name(outcome)) {
        request.set_outcome(outcome);
        return request;
      }
    }
  }
  return Error(ErrorCode::kInvalidRequest, std::string(kBadWinner), {{"field", "winner"}});
}

std::string battle_vote_body(const v1::VoteBattleResponse& response) {
  return common::json_text(json::object{
      {"battle_id", response.battle_id()},
      {"winner", winner_name(response.outcome())},
      {"modelA", rating_change(response.model_a())},
      {"modelB", rating_change(response.model_b())},
  });
}

common::Result<v1::BattleSide> parse_battle_side(std::string_view side) {
  if (side == "a") return v1::BATTLE_SIDE_A;
  if (side == "b") return v1::BATTLE_SIDE_B;
  return Error(ErrorCode::kInvalidRequest, R"(side must be "a" or "b")", {{"parameter", "side"}});
}

}  // namespace rally::gateway::routes
