// The pure half of /api/v1/ws/scoring: client messages parsed into subscription requests, the connection's
// set and which updates it selects (gateway/ws/model_subscription.h), the answers, and a published
// rally.v1.ScoreUpdate decoded and rendered per id (gateway/routes/scoring_ws.h).
#include "gateway/routes/scoring_ws.h"

#include <google/protobuf/util/time_util.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "gateway/ws/model_subscription.h"
#include "rally/v1/scoring.pb.h"

namespace rally::gateway::ws {
namespace {

namespace json = boost::json;
using common::ErrorCode;
using Action = SubscriptionRequest::Action;
using Ids = std::vector<std::string>;

// The message of a refusal after checking it is INVALID_REQUEST.
std::string refusal(std::string_view text) {
  const common::Result<SubscriptionRequest> parsed = parse_subscription_request(text);
  INFO("message: " << text);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code == ErrorCode::kInvalidRequest);
  return parsed.error().message;
}

SubscriptionRequest request(Action action, Ids ids) {
  return SubscriptionRequest{action, std::move(ids)};
}

std::string ids_json(std::size_t count, std::string_view prefix = "m") {
  json::array ids;
  for (std::size_t i = 0; i < count; ++i) ids.emplace_back(std::string(prefix) + std::to_string(i));
  return json::serialize(ids);
}

TEST_CASE("subscribe and unsubscribe messages are parsed into requests", "[scoring_ws]") {
  const auto subscribe =
      parse_subscription_request(R"({"action":"subscribe","model_ids":["gpt-4o","anthropic/claude-x","*"]})");
  REQUIRE(subscribe.ok());
  CHECK(subscribe->action == Action::kSubscribe);
  CHECK(subscribe->model_ids == Ids{"gpt-4o", "anthropic/claude-x", "*"});

  const auto unsubscribe =
      parse_subscription_request(R"({"model_ids":["gpt-4o","gpt-4o"],"action":"unsubscribe"})");
  REQUIRE(unsubscribe.ok());
  CHECK(unsubscribe->action == Action::kUnsubscribe);
  CHECK(unsubscribe->model_ids == Ids{"gpt-4o", "gpt-4o"});

  // The limits themselves are allowed: 1000 ids, 256 bytes, any UTF-8 that is not a control character.
  CHECK(
      parse_subscription_request(R"({"action":"subscribe","model_ids":)" + ids_json(kMaxWatchedModels) + "}")
          .ok());
  const std::string longest(kMaxModelIdBytes, 'x');
  CHECK(parse_subscription_request(R"({"action":"subscribe","model_ids":[")" + longest + R"("]})").ok());
  const auto unicode = parse_subscription_request(R"({"action":"subscribe","model_ids":["modèle-é"]})");
  REQUIRE(unicode.ok());
  CHECK(unicode->model_ids == Ids{"modèle-é"});
}

TEST_CASE("a bad message is refused with INVALID_REQUEST naming the field and the problem", "[scoring_ws]") {
  CHECK(refusal("").find("message is not JSON") != std::string::npos);
  CHECK(refusal("pong").find("message is not JSON") != std::string::npos);
  CHECK(refusal("PING").find("message is not JSON") != std::string::npos);
  CHECK(refusal(R"({"action":"subscribe")").find("message is not JSON") != std::string::npos);
  CHECK(refusal(R"(["subscribe"])") == "Invalid request: message must be a JSON object");
  CHECK(refusal("42") == "Invalid request: message must be a JSON object");

  CHECK(refusal(R"({"model_ids":["a"]})") == "Invalid request: action is required: subscribe or unsubscribe");
  CHECK(refusal(R"({"action":null,"model_ids":["a"]})")
            .starts_with("Invalid request: action must be a string"));
  CHECK(refusal(R"({"action":1,"model_ids":["a"]})").starts_with("Invalid request: action must be a string"));
  CHECK(refusal(R"({"action":"dance","model_ids":["a"]})") ==
        R"(Invalid request: action must be subscribe or unsubscribe, not "dance")");
  CHECK(refusal(R"({"action":"Subscribe","model_ids":["a"]})").find("not \"Subscribe\"") !=
        std::string::npos);
  CHECK(refusal(R"({"action":"subscribe","model_ids":["a"],"model":"b"})") ==
        "Invalid request: model is not a known field (allowed: action, model_ids)");

  CHECK(refusal(R"({"action":"subscribe"})") == "Invalid request: model_ids is required");
  CHECK(refusal(R"({"action":"subscribe","model_ids":null})")
            .starts_with("Invalid request: model_ids must be"));
  CHECK(refusal(R"({"action":"subscribe","model_ids":"gpt-4o"})") ==
        "Invalid request: model_ids must be an array of model ids");
  CHECK(refusal(R"({"action":"subscribe","model_ids":{"gpt-4o":1}})") ==
        "Invalid request: model_ids must be an array of model ids");
  CHECK(refusal(R"({"action":"subscribe","model_ids":[]})") ==
        "Invalid request: model_ids must not be empty");
  CHECK(refusal(R"({"action":"subscribe","model_ids":)" + ids_json(kMaxWatchedModels + 1) + "}") ==
        "Invalid request: model_ids holds more than 1000 ids");
  CHECK(refusal(R"({"action":"subscribe","model_ids":["a",""]})") ==
        "Invalid request: model_ids[1] must be a non-empty string");
  CHECK(refusal(R"({"action":"subscribe","model_ids":["a",7]})") ==
        "Invalid request: model_ids[1] must be a non-empty string");
  CHECK(refusal(R"({"action":"subscribe","model_ids":[null]})") ==
        "Invalid request: model_ids[0] must be a non-empty string");
  CHECK(refusal(R"({"action":"subscribe","model_ids":[["a"]]})") ==
        "Invalid request: model_ids[0] must be a non-empty string");
  const std::string too_long(kMaxModelIdBytes + 1, 'x');
  CHECK(refusal(R"({"action":"subscribe","model_ids":["a","b",")" + too_long + R"("]})") ==
        "Invalid request: model_ids[2] is longer than 256 bytes");
  CHECK(refusal(R"({"action":"subscribe","model_ids":["a\nb"]})") ==
        "Invalid request: model_ids[0] holds a control character");
  CHECK(refusal(R"({"action":"subscribe","model_ids":["a\u0000b"]})") ==
        "Invalid request: model_ids[0] holds a control character");
  CHECK(refusal(R"({"action":"subscribe","model_ids":["a)" + std::string("\x7f") + R"("]})") ==
        "Invalid request: model_ids[0] holds a control character");

  // Bytes that are not UTF-8 and nesting beyond the limit are named too, without echoing the bytes.
  const std::string not_utf8 =
      refusal(R"({"action":"subscribe","model_ids":["a)" + std::string("\xff\xfe") + R"("]})");
  CHECK(not_utf8.find("model_ids[0]") != std::string::npos);
  CHECK(not_utf8.find("UTF-8") != std::string::npos);
  CHECK(refusal(std::string(100, '[') + std::string(100, ']')).find("deeper") != std::string::npos);

  // A hostile key is quoted back shortened, at a character boundary.
  const std::string long_key = "é" + std::string(200, 'k');
  const std::string quoted = refusal(R"({")" + long_key + R"(":1,"action":"subscribe","model_ids":["a"]})");
  CHECK(quoted.size() < 200);
  CHECK(quoted.find("...") != std::string::npos);
}

TEST_CASE("a subscription adds and removes ids and never holds more than the limit", "[scoring_ws]") {
  ModelSubscription subscription;
  CHECK(subscription.model_ids().empty());
  CHECK_FALSE(subscription.apply(request(Action::kSubscribe, {"gpt-4o", "*", "gpt-4o"})));
  CHECK(subscription.model_ids() == ModelSubscription::Ids{"*", "gpt-4o"});
  CHECK_FALSE(subscription.apply(request(Action::kSubscribe, {"anthropic/claude-x"})));
  CHECK_FALSE(subscription.apply(request(Action::kUnsubscribe, {"*", "never-subscribed"})));
  CHECK(subscription.model_ids() == ModelSubscription::Ids{"anthropic/claude-x", "gpt-4o"});

  // Up to the limit across requests; one more is refused whole, leaving the set as it was.
  ModelSubscription full;
  Ids first;
  for (std::size_t i = 0; i < kMaxWatchedModels - 1; ++i) first.push_back("m" + std::to_string(i));
  CHECK_FALSE(full.apply(request(Action::kSubscribe, first)));
  const std::optional<common::Error> refused = full.apply(request(Action::kSubscribe, {"x", "y"}));
  REQUIRE(refused);
  CHECK(refused->code == ErrorCode::kInvalidRequest);
  CHECK(refused->message ==
        "Invalid request: model_ids would make this connection watch more than 1000 models (it watches 999)");
  CHECK(full.model_ids().size() == kMaxWatchedModels - 1);
  CHECK_FALSE(full.model_ids().contains("x"));
  // Ids already held and duplicates count once: this fills the set exactly.
  CHECK_FALSE(full.apply(request(Action::kSubscribe, {"m0", "x", "x", "m5"})));
  CHECK(full.model_ids().size() == kMaxWatchedModels);
  CHECK(full.apply(request(Action::kSubscribe, {"y"})));
  CHECK_FALSE(full.apply(request(Action::kSubscribe, {"m1", "x"})));  // nothing new
  CHECK_FALSE(full.apply(request(Action::kUnsubscribe, {"m1"})));
  CHECK_FALSE(full.apply(request(Action::kSubscribe, {"y"})));
  CHECK(full.model_ids().size() == kMaxWatchedModels);
}

TEST_CASE("an update matches a set holding its key, an alias or *, under the id the client used",
          "[scoring_ws]") {
  const std::string key = "openai/gpt-4o";
  const Ids aliases{"GPT-4o", "gpt-4o"};
  const auto match = [&](Ids ids) {
    ModelSubscription subscription;
    if (!ids.empty()) REQUIRE_FALSE(subscription.apply(request(Action::kSubscribe, std::move(ids))));
    const std::optional<std::string_view> id = subscription.match(key, aliases);
    return id ? std::optional<std::string>(*id) : std::nullopt;
  };
  using Match = std::optional<std::string>;
  CHECK(match({}) == Match());
  CHECK(match({"anthropic/claude-x"}) == Match());
  CHECK(match({"gpt-4"}) == Match());          // exact ids only: no prefixes
  CHECK(match({"OPENAI/GPT-4O"}) == Match());  // nor case folding
  CHECK(match({"gpt-4o"}) == Match("gpt-4o"));
  CHECK(match({"openai/gpt-4o"}) == Match("openai/gpt-4o"));
  CHECK(match({"*"}) == Match("openai/gpt-4o"));
  // Several held: the key first, then the aliases in their order, "*" last.
  CHECK(match({"gpt-4o", "*"}) == Match("gpt-4o"));
  CHECK(match({"gpt-4o", "GPT-4o"}) == Match("GPT-4o"));
  CHECK(match({"gpt-4o", "openai/gpt-4o", "*"}) == Match("openai/gpt-4o"));

  // The view is of the caller's strings, not of the set.
  ModelSubscription subscription;
  REQUIRE_FALSE(subscription.apply(request(Action::kSubscribe, {"gpt-4o"})));
  const std::optional<std::string_view> id = subscription.match(key, aliases);
  REQUIRE(id);
  CHECK(id->data() == aliases[1].data());
  CHECK(subscription.match("anthropic/claude-x", {}) == std::nullopt);
}

TEST_CASE("the answers are the subscribed set, sorted, and the error frame", "[scoring_ws]") {
  ModelSubscription subscription;
  CHECK(json::parse(subscribed_message(subscription)) ==
        json::parse(R"({"type":"subscribed","data":{"model_ids":[]}})"));
  REQUIRE_FALSE(subscription.apply(request(Action::kSubscribe, {"gpt-4o", "*", "anthropic/claude-x", "é"})));
  CHECK(json::parse(subscribed_message(subscription)) ==
        json::parse(R"({"type":"subscribed","data":{"model_ids":["*","anthropic/claude-x","gpt-4o","é"]}})"));

  const common::Error error(ErrorCode::kInvalidRequest, "Invalid request: model_ids is required",
                            {{"field", "model_ids"}});
  CHECK(json::parse(subscription_error_message(error)) ==
        json::parse(R"({"type":"error","error":{"code":"INVALID_REQUEST",
                        "message":"Invalid request: model_ids is required"}})"));
}

}  // namespace
}  // namespace rally::gateway::ws

namespace rally::gateway::routes {
namespace {

namespace json = boost::json;
using google::protobuf::util::TimeUtil;

v1::ScoreUpdate stored_update() {
  v1::ScoreUpdate update;
  v1::ModelScore& score = *update.mutable_score();
  score.set_model_id("openai/gpt-4o");
  score.set_model_name("GPT-4o");
  score.set_overall_score(8.6);
  score.set_score_suffix("(SC:8.6)");
  score.mutable_components()->set_speed_score(7.5);
  score.mutable_components()->set_capability_score(9.1);
  *score.mutable_last_calculated() = TimeUtil::SecondsToTimestamp(1766859360);  // 2025-12-27T18:16:00Z
  score.set_calculation_hash("abc");
  update.set_previous_overall_score(8.4);
  *update.mutable_timestamp() = TimeUtil::SecondsToTimestamp(1766859360);
  update.add_model_aliases("GPT-4o");
  update.add_model_aliases("gpt-4o");
  return update;
}

TEST_CASE("a published ScoreUpdate is decoded once and rendered in the seed's shape per id", "[scoring_ws]") {
  const std::optional<ws::ModelFanout::Update> update = score_update(stored_update().SerializeAsString());
  REQUIRE(update);
  CHECK(update->key == "openai/gpt-4o");
  CHECK(update->aliases == std::vector<std::string>{"GPT-4o", "gpt-4o"});

  const json::value as_alias = json::parse(update->render("gpt-4o"));
  CHECK(as_alias.at("type") == "score_update");
  CHECK(as_alias.at("timestamp") == "2025-12-27T18:16:00Z");
  const json::object& data = as_alias.at("data").as_object();
  CHECK(data.at("model_id") == "gpt-4o");
  CHECK(data.at("model_name") == "GPT-4o");
  CHECK(data.at("overall_score").to_number<double>() == 8.6);
  CHECK(data.at("score_suffix") == "(SC:8.6)");
  CHECK(data.at("components").at("speed_score").to_number<double>() == 7.5);
  CHECK(data.at("components").at("capability_score").to_number<double>() == 9.1);
  CHECK(data.at("last_calculated") == "2025-12-27T18:16:00Z");
  CHECK(data.at("previous_overall_score").to_number<double>() == 8.4);
  // Only the seed's fields and the previous score: the stored inputs and hash stay out of the feed.
  CHECK_FALSE(data.contains("calculation_hash"));

  // Each id renders the same message under its own name, whatever was rendered before.
  const json::value as_key = json::parse(update->render("openai/gpt-4o"));
  CHECK(as_key.at("data").at("model_id") == "openai/gpt-4o");
  json::value relabelled = as_key;
  relabelled.at("data").as_object()["model_id"] = "gpt-4o";
  CHECK(relabelled == as_alias);

  // A first score has no previous one.
  v1::ScoreUpdate first = stored_update();
  first.clear_previous_overall_score();
  const auto first_update = score_update(first.SerializeAsString());
  REQUIRE(first_update);
  CHECK_FALSE(
      json::parse(first_update->render("gpt-4o")).at("data").as_object().contains("previous_overall_score"));
}

TEST_CASE("a message that is not a ScoreUpdate of a model is not an update", "[scoring_ws]") {
  const std::string cut_short{'\x0a', '\x05', 'a', 'b'};  // field 1 of 5 bytes holds 2
  CHECK_FALSE(score_update(cut_short));
  CHECK_FALSE(score_update(""));  // parses, but names no model
  v1::ScoreUpdate nameless = stored_update();
  nameless.mutable_score()->clear_model_id();
  CHECK_FALSE(score_update(nameless.SerializeAsString()));
  CHECK(kScoreUpdatesChannel == "rally:scoring:updates");
}

}  // namespace
}  // namespace rally::gateway::routes
