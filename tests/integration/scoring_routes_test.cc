// The scoring API end to end: the gateway (tokens, envelope, routes) in front of rally-scoring on real
// PostgreSQL and Redis, with the committed models.dev snapshot.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <regex>
#include <string>

#include "tests/integration/llm_stack.h"
#include "tests/support/http_client.h"

namespace rally::testing {
namespace {

using Headers = std::map<std::string, std::string>;

Headers bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
}

struct ScoringStack {
  ScoringStack() : stack(StackOptions{"10s", {}, false, true}) {
    writer = stack.create_token("scoring-writer", "write");
    reader = stack.create_token("scoring-reader", "read");
    admin = stack.create_token("scoring-admin", "admin");
    // The service answers once its migrations ran and the snapshot is loaded; the gateway says 503 before.
    const bool ready =
        wait_until([&] { return get("/api/v1/scoring/configuration", reader).status == 200; }, 60s);
    INFO(stack.logs());
    REQUIRE(ready);
  }

  HttpResult post(const std::string& target, const std::string& body, const std::string& token) const {
    return http_request(stack.gateway_port(), "POST", target, body, bearer(token));
  }
  HttpResult put(const std::string& target, const std::string& body, const std::string& token) const {
    return http_request(stack.gateway_port(), "PUT", target, body, bearer(token));
  }
  HttpResult get(const std::string& target, const std::string& token) const {
    return http_request(stack.gateway_port(), "GET", target, {}, bearer(token));
  }

  LlmStack stack;
  std::string writer;
  std::string reader;
  std::string admin;
};

// The envelope's data after checking it is a success with `status`.
json::value data_of(const HttpResult& result, int status = 200) {
  INFO(result.status << " " << result.body);
  REQUIRE(result.status == status);
  const json::value body = parse_json(result.body);
  REQUIRE(body.at("success") == true);
  CHECK(body.at("metadata").at("request_id").as_string() == result.header("x-request-id"));
  return body.at("data");
}

void check_error(const HttpResult& result, int status, std::string_view code) {
  INFO(result.status << " " << result.body);
  REQUIRE(result.status == status);
  const json::value body = parse_json(result.body);
  CHECK(body.at("success") == false);
  CHECK(body.at("error").at("code").as_string() == code);
}

double number(const json::value& value) {
  return value.to_number<double>();
}

// A score as the seed shows it: one decimal, its suffix, five components in [0, 10], a hash.
void check_score(const json::value& score) {
  const double overall = number(score.at("overall_score"));
  CHECK(overall >= 0);
  CHECK(overall <= 10);
  CHECK(std::abs(overall * 10 - std::round(overall * 10)) < 1e-9);
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "(SC:%.1f)", overall);
  CHECK(score.at("score_suffix").as_string() == suffix);
  for (const char* component :
       {"speed_score", "efficiency_score", "cost_score", "capability_score", "recency_score"}) {
    const double value = number(score.at("components").at(component));
    CHECK(value >= 0);
    CHECK(value <= 10);
  }
  CHECK(std::regex_match(std::string(score.at("calculation_hash").as_string()), std::regex("[0-9a-f]{64}")));
  CHECK_FALSE(score.at("last_calculated").as_string().empty());
  CHECK_FALSE(score.at("valid_until").as_string().empty());
}

}  // namespace

TEST_CASE("scores are calculated, stored, read and recalculated through the gateway",
          "[integration][scoring]") {
  ScoringStack s;

  const json::value first = data_of(s.post("/api/v1/models/gpt-4o/score/calculate", "{}", s.writer));
  check_score(first);
  CHECK(first.at("model_id") == "gpt-4o");
  CHECK(first.at("model_name") == "GPT-4o");
  CHECK(first.at("data_source") == "models.dev");
  CHECK(first.at("from_cache") == false);

  const json::value again = data_of(s.post("/api/v1/models/gpt-4o/score/calculate", "", s.writer));
  CHECK(again.at("from_cache") == true);
  CHECK(again.at("calculation_hash") == first.at("calculation_hash"));

  const json::value read = data_of(s.get("/api/v1/models/gpt-4o/score", s.reader));
  CHECK(read.at("calculation_hash") == first.at("calculation_hash"));
  CHECK(read.at("overall_score") == first.at("overall_score"));

  // An id holding '/' travels percent-encoded in the path.
  const json::value keyed =
      data_of(s.post("/api/v1/models/anthropic%2Fclaude-sonnet-4-5/score/calculate", "", s.writer));
  CHECK(keyed.at("model_id") == "anthropic/claude-sonnet-4-5");
  check_score(keyed);

  const json::value recalculated = data_of(s.put("/api/v1/models/gpt-4o/score/recalculate",
                                                 R"({"reason":"Model capabilities updated"})", s.writer));
  CHECK(recalculated.at("message") == "Score recalculated successfully");
  CHECK(recalculated.at("recalc_reason") == "Model capabilities updated");
  CHECK(recalculated.at("from_cache") == false);

  const json::value weighted = data_of(s.post("/api/v1/models/gpt-4o/score/calculate",
                                              R"({"configuration":{"weights":{"response_speed":1,
                                              "model_efficiency":0,"cost_effectiveness":0,"capability":0,
                                              "recency":0}}})",
                                              s.writer));
  CHECK(weighted.at("from_cache") == false);
  CHECK(number(weighted.at("overall_score")) == number(weighted.at("components").at("speed_score")));

  check_error(s.post("/api/v1/models/no-such-model/score/calculate", "", s.writer), 404, "MODEL_NOT_FOUND");
  check_error(s.get("/api/v1/models/llama-3.1-8b-instant/score", s.reader), 404, "MODEL_NOT_FOUND");
  check_error(s.post("/api/v1/models/gpt-4o/score/calculate",
                     R"({"configuration":{"weights":{"recency":-1}}})", s.writer),
              400, "INVALID_REQUEST");
  check_error(s.post("/api/v1/models/gpt-4o/score/calculate", "", s.reader), 403, "AUTHORIZATION_FAILED");
  check_error(http_request(s.stack.gateway_port(), "GET", "/api/v1/models/gpt-4o/score"), 401,
              "AUTHENTICATION_FAILED");
}

TEST_CASE("batches, names, comparison, ranking, configuration and validation through the gateway",
          "[integration][scoring]") {
  ScoringStack s;

  const json::value batch =
      data_of(s.post("/api/v1/models/scores/batch",
                     R"({"model_ids":["gpt-4o","no-such-model","claude-sonnet-4-5"]})", s.writer));
  CHECK(batch.at("status") == "completed");
  CHECK(batch.at("model_count") == 3);
  CHECK(batch.at("success_count") == 2);
  CHECK(batch.at("failure_count") == 1);
  REQUIRE(batch.at("results").as_array().size() == 3);
  CHECK(batch.at("results").at(1).at("success") == false);
  CHECK(batch.at("results").at(1).at("error").at("code") == "MODEL_NOT_FOUND");
  check_score(batch.at("results").at(2));

  const json::value started = data_of(
      s.post("/api/v1/models/scores/batch", R"({"model_ids":["gpt-4o-mini","o3"],"async":true})", s.writer),
      202);
  CHECK(started.at("status") == "processing");
  const std::string batch_id(started.at("batch_id").as_string());
  json::value finished;
  REQUIRE(wait_until(
      [&] {
        finished = data_of(s.get("/api/v1/models/scores/batch/" + batch_id, s.reader));
        return finished.at("status") != "processing";
      },
      30s));
  CHECK(finished.at("status") == "completed");
  CHECK(finished.at("success_count") == 2);
  check_error(s.get("/api/v1/models/scores/batch/batch_0", s.reader), 404, "NOT_FOUND");

  const json::value named =
      data_of(s.post("/api/v1/models/naming/add-suffix",
                     R"json({"model_name":"GPT-4 (SC:7.1)","score":8.55})json", s.reader));
  CHECK(named.at("updated_name") == "GPT-4 (SC:8.6)");
  const json::value renamed = data_of(s.post("/api/v1/models/naming/batch-update",
                                             R"({"model_scores":{"GPT-4":8.5,"Claude-3":7.84}})", s.reader));
  CHECK(renamed.at("results").at("Claude-3") == "Claude-3 (SC:7.8)");
  CHECK(renamed.at("count") == 2);

  const json::value compared =
      data_of(s.get("/api/v1/models/scores/compare?models=gpt-4o,claude-sonnet-4-5", s.reader));
  const json::value& comparison = compared.at("comparison");
  REQUIRE(comparison.at("results").as_array().size() == 2);
  CHECK(comparison.at("results").at(0).at("rank") == 1);
  CHECK(comparison.at("best_model") == comparison.at("results").at(0).at("model_id"));
  CHECK_FALSE(comparison.at("analysis").as_string().empty());
  check_error(s.get("/api/v1/models/scores/compare?models=gpt-4o", s.reader), 400, "INVALID_REQUEST");

  const HttpResult ranking_result = s.get("/api/v1/models/scores/ranking?category=cost&limit=2", s.reader);
  const json::value ranking = data_of(ranking_result);
  CHECK(ranking.at("category") == "cost");
  REQUIRE(ranking.at("rankings").as_array().size() == 2);
  CHECK(number(ranking.at("rankings").at(0).at("category_score")) >=
        number(ranking.at("rankings").at(1).at("category_score")));
  const json::value metadata = parse_json(ranking_result.body).at("metadata");
  CHECK(metadata.at("total_models") == 4);
  CHECK(metadata.at("filtered_models") == 4);
  check_error(s.get("/api/v1/models/scores/ranking?limit=0", s.reader), 400, "INVALID_REQUEST");

  const json::value defaults = data_of(s.get("/api/v1/scoring/configuration", s.reader));
  CHECK(defaults.at("config_name") == "default");
  CHECK(number(defaults.at("weights").at("response_speed")) == 0.25);
  const std::string speed_first =
      R"({"weights":{"response_speed":0.6,"model_efficiency":0.1,"cost_effectiveness":0.1,"capability":0.1,)"
      R"("recency":0.1}})";
  check_error(s.put("/api/v1/scoring/configuration/speed-first", speed_first, s.writer), 403,
              "AUTHORIZATION_FAILED");
  CHECK(data_of(s.put("/api/v1/scoring/configuration/speed-first", speed_first, s.admin)).at("config_name") ==
        "speed-first");
  CHECK(number(data_of(s.get("/api/v1/scoring/configuration?config=speed-first", s.reader))
                   .at("weights")
                   .at("response_speed")) == 0.6);

  const json::value valid = data_of(s.post("/api/v1/scoring/validate", R"({"model_id":"gpt-4o"})", s.reader));
  CHECK(valid.at("is_valid") == true);
  CHECK(valid.at("validation_result").at("calculation_hash_verified") == true);
  {
    pqxx::connection connection(s.stack.database_url());
    pqxx::nontransaction tamper(connection);
    tamper.exec0(
        "UPDATE scoring.scores SET inputs = jsonb_set(inputs, '{tokens_per_second}', '999') "
        "WHERE model_id = 'openai/gpt-4o'");
  }
  const json::value tampered =
      data_of(s.post("/api/v1/scoring/validate", R"({"model_id":"gpt-4o"})", s.reader));
  CHECK(tampered.at("is_valid") == false);
  CHECK(tampered.at("validation_result").at("calculation_hash_verified") == false);
  CHECK_FALSE(tampered.at("problems").as_array().empty());
}

}  // namespace rally::testing
