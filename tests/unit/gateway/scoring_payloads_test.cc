#include "gateway/routes/scoring_payloads.h"

#include <google/protobuf/util/time_util.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>

namespace rally::gateway::routes {
namespace {

namespace json = boost::json;
using common::ErrorCode;

std::string field_of(const common::Error& error) {
  for (const auto& [key, value] : error.details) {
    if (key == "field") return value;
  }
  return "(none)";
}

template <typename T>
std::string refused_field(const common::Result<T>& result) {
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kInvalidRequest);
  return field_of(result.error());
}

http::Request get(const std::string& target) {
  return http::Request(http::Method::kGet, target, {});
}

TEST_CASE("a calculation body reads the seed's fields, an empty body means defaults", "[scoring_payloads]") {
  const auto parsed = parse_calculate_body("gpt-4", R"({"configuration":{"weights":{"response_speed":0.5,
      "capability":1},"config_name":"fast"},"force_recalculation":true})");
  REQUIRE(parsed.ok());
  CHECK(parsed->model_id() == "gpt-4");
  CHECK(parsed->force_recalculation());
  CHECK(parsed->configuration().config_name() == "fast");
  CHECK(parsed->configuration().weights().response_speed() == 0.5);
  CHECK(parsed->configuration().weights().capability() == 1.0);
  CHECK_FALSE(parsed->configuration().weights().has_recency());  // unset: the configuration's value

  const auto empty = parse_calculate_body("gpt-4", "");
  REQUIRE(empty.ok());
  CHECK_FALSE(empty->force_recalculation());
  CHECK_FALSE(empty->configuration().has_weights());
}

TEST_CASE("calculation bodies with wrong types, negative or misspelt weights name the field",
          "[scoring_payloads]") {
  CHECK(refused_field(parse_calculate_body("m", R"({"configuration":{"weights":{"capability":"high"}}})")) ==
        "configuration.weights.capability");
  CHECK(refused_field(parse_calculate_body("m", R"({"configuration":{"weights":{"recency":-0.1}}})")) ==
        "configuration.weights.recency");
  CHECK(refused_field(parse_calculate_body("m", R"({"configuration":{"weights":{"respone_speed":1}}})")) ==
        "configuration.weights.respone_speed");
  CHECK(refused_field(parse_calculate_body("m", R"({"force_recalculation":"yes"})")) ==
        "force_recalculation");
  CHECK(refused_field(parse_calculate_body("m", R"({"surprise":1})")) == "surprise");
  CHECK(refused_field(parse_calculate_body("m", "[1,2]")) == "body");
  CHECK_FALSE(parse_calculate_body("m", "{not json").ok());
}

TEST_CASE("a batch body needs model ids and reads async and force", "[scoring_payloads]") {
  const auto parsed = parse_batch_body(R"({"model_ids":["gpt-4","claude-3"],"async":true})");
  REQUIRE(parsed.ok());
  CHECK(parsed->model_ids_size() == 2);
  CHECK(parsed->async());
  CHECK(refused_field(parse_batch_body(R"({"async":true})")) == "model_ids");
  CHECK(refused_field(parse_batch_body(R"({"model_ids":[]})")) == "model_ids");
  CHECK(refused_field(parse_batch_body(R"({"model_ids":["a",""]})")) == "model_ids[1]");
  CHECK(refused_field(parse_batch_body(R"({"model_ids":["a",3]})")) == "model_ids[1]");
  json::array many;
  for (int i = 0; i <= kMaxBatchModels; ++i) many.push_back(json::value("m" + std::to_string(i)));
  CHECK(refused_field(parse_batch_body(json::serialize(json::object{{"model_ids", many}}))) == "model_ids");
}

TEST_CASE("naming bodies need a name and a score from 0 to 10", "[scoring_payloads]") {
  const auto parsed = parse_add_suffix_body(R"({"model_name":"GPT-4","score":8.5})");
  REQUIRE(parsed.ok());
  CHECK(parsed->model_name() == "GPT-4");
  CHECK(parsed->score() == 8.5);
  CHECK(refused_field(parse_add_suffix_body(R"({"score":8.5})")) == "model_name");
  CHECK(refused_field(parse_add_suffix_body(R"({"model_name":"x","score":10.5})")) == "score");
  CHECK(refused_field(parse_add_suffix_body(R"({"model_name":"x","score":"8"})")) == "score");

  const auto names = parse_batch_names_body(R"({"model_scores":{"GPT-4":8.5,"Claude-3":7.8}})");
  REQUIRE(names.ok());
  CHECK(names->model_scores().at("Claude-3") == 7.8);
  CHECK(refused_field(parse_batch_names_body(R"({"model_scores":{}})")) == "model_scores");
  CHECK(refused_field(parse_batch_names_body(R"({"model_scores":{"A":-1}})")) == "model_scores.A");
}

TEST_CASE("compare and ranking queries are checked", "[scoring_payloads]") {
  const auto compare = parse_compare_query(get("/x?models=gpt-4,claude-3,gpt-4,llama-2"));
  REQUIRE(compare.ok());
  CHECK(compare->model_ids_size() == 3);  // the repeat is dropped
  CHECK(compare->model_ids(0) == "gpt-4");
  CHECK(refused_field(parse_compare_query(get("/x"))) == "models");
  CHECK(refused_field(parse_compare_query(get("/x?models=gpt-4"))) == "models");
  CHECK(refused_field(parse_compare_query(get("/x?models=a,,b"))) == "models");
  CHECK(parse_compare_query(get("/x?models=openai%2Fgpt-4o,b")).value().model_ids(0) == "openai/gpt-4o");
  // Percent-decoded bytes that are not UTF-8 never reach the proto3 string (the fuzzer's find).
  CHECK(refused_field(parse_compare_query(get("/x?models=gpt-4,%FF%FF%FF%FF"))) == "models");
  CHECK(refused_field(parse_compare_query(get("/x?models=a%C3,b"))) == "models");

  const auto ranking = parse_ranking_query(get("/x?category=cost&limit=10&min_score=7&max_score=10.0"));
  REQUIRE(ranking.ok());
  CHECK(ranking->category() == v1::SCORE_CATEGORY_COST);
  CHECK(ranking->limit() == 10);
  CHECK(ranking->min_score() == 7.0);
  CHECK(ranking->max_score() == 10.0);
  const auto defaults = parse_ranking_query(get("/x"));
  REQUIRE(defaults.ok());
  CHECK(defaults->category() == v1::SCORE_CATEGORY_OVERALL);
  CHECK_FALSE(defaults->has_limit());
  CHECK(refused_field(parse_ranking_query(get("/x?category=vibes"))) == "category");
  CHECK(refused_field(parse_ranking_query(get("/x?limit=0"))) == "limit");
  CHECK(refused_field(parse_ranking_query(get("/x?limit=abc"))) == "limit");
  CHECK(refused_field(parse_ranking_query(get("/x?limit=501"))) == "limit");
  CHECK(refused_field(parse_ranking_query(get("/x?min_score=seven"))) == "min_score");
  CHECK(refused_field(parse_ranking_query(get("/x?min_score=nan"))) == "min_score");
  CHECK(refused_field(parse_ranking_query(get("/x?max_score=11"))) == "max_score");
  CHECK(refused_field(parse_ranking_query(get("/x?min_score=8&max_score=7"))) == "min_score");
}

TEST_CASE("a configuration needs all five weights, thresholds and enabled are optional",
          "[scoring_payloads]") {
  const auto parsed = parse_configuration_body("speed-first", R"({"weights":{"response_speed":0.6,
      "model_efficiency":0.1,"cost_effectiveness":0.1,"capability":0.1,"recency":0.1},"enabled":false})");
  REQUIRE(parsed.ok());
  CHECK(parsed->configuration().config_name() == "speed-first");
  CHECK(parsed->configuration().weights().response_speed() == 0.6);
  CHECK_FALSE(parsed->configuration().enabled());
  CHECK(parsed->configuration().thresholds().max_score() == 10.0);
  CHECK(refused_field(parse_configuration_body("x", R"({"weights":{"response_speed":1}})")) ==
        "weights.model_efficiency");
  CHECK(refused_field(parse_configuration_body("x", R"({})")) == "weights");
}

TEST_CASE("a validation body needs a model id, the range defaults to 0-10", "[scoring_payloads]") {
  const auto parsed =
      parse_validate_body(R"({"model_id":"gpt-4","score":8.5,"expected_range":{"min":7.0,"max":10.0}})");
  REQUIRE(parsed.ok());
  CHECK(parsed->has_score());
  CHECK(parsed->method() == "comprehensive_scoring");
  CHECK(parsed->expected_range().min() == 7.0);
  const auto bare = parse_validate_body(R"({"model_id":"gpt-4"})");
  REQUIRE(bare.ok());
  CHECK_FALSE(bare->has_score());
  CHECK(bare->expected_range().max() == 10.0);
  CHECK(refused_field(parse_validate_body(R"({"score":1})")) == "model_id");
  CHECK(refused_field(parse_validate_body(R"({"model_id":"m","expected_range":{"min":9,"max":8}})")) ==
        "expected_range.min");
}

TEST_CASE("a score renders the seed's fields", "[scoring_payloads]") {
  v1::ModelScore score;
  score.set_model_id("gpt-4");
  score.set_model_name("GPT-4");
  score.set_overall_score(8.5);
  score.set_score_suffix("(SC:8.5)");
  score.mutable_components()->set_speed_score(8.0);
  *score.mutable_last_calculated() = google::protobuf::util::TimeUtil::SecondsToTimestamp(1766859360);
  score.set_data_source("models.dev");
  score.set_calculation_hash("abc");
  const json::value data = json::parse(score_data(score));
  CHECK(data.at("model_id") == "gpt-4");
  CHECK(data.at("overall_score").to_number<double>() == 8.5);
  CHECK(data.at("score_suffix") == "(SC:8.5)");
  CHECK(data.at("components").at("speed_score").to_number<double>() == 8.0);
  CHECK(data.at("last_calculated") == "2025-12-27T18:16:00Z");
  CHECK(data.at("valid_until").is_null());
  CHECK(json::parse(recalculated_data(score)).at("message") == "Score recalculated successfully");

  v1::ScoreUpdate update;
  *update.mutable_score() = score;
  update.set_previous_overall_score(8.1);
  const json::value message = json::parse(score_update_message(update));
  CHECK(message.at("type") == "score_update");
  CHECK(message.at("data").at("overall_score").to_number<double>() == 8.5);
  CHECK(message.at("data").at("previous_overall_score").to_number<double>() == 8.1);
}

TEST_CASE("ranking metadata carries the model counts", "[scoring_payloads]") {
  v1::GetRankingResponse response;
  response.set_total_models(25);
  response.set_filtered_models(10);
  const json::value metadata = json::parse("{" + ranking_metadata(response) + "}");
  CHECK(metadata.at("total_models") == 25);
  CHECK(metadata.at("filtered_models") == 10);
  CHECK(json::parse(ranking_data(response)).at("category") == "overall");
}

}  // namespace
}  // namespace rally::gateway::routes
