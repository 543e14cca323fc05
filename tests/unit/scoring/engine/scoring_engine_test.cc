// The scoring engine against real PostgreSQL (a scratch database with the scoring migrations), a small
// models.dev document and a clock the tests move.
#include "services/scoring/engine/scoring_engine.h"

#include <google/protobuf/util/time_util.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <string>
#include <vector>

#include "migrations/rally_scoring.h"
#include "services/common/migrations.h"
#include "services/common/pg_pool.h"
#include "services/scoring/storage/pg_score_store.h"
#include "tests/support/test_env.h"

namespace rally::scoring {
namespace {

using common::ErrorCode;
using namespace std::chrono_literals;

constexpr const char* kModels = R"({
  "_source": {"commit": "test"},
  "openai": {"id": "openai", "name": "OpenAI", "models": {
    "gpt-4o": {"id": "gpt-4o", "name": "GPT-4o", "family": "gpt", "attachment": true, "reasoning": false,
               "tool_call": true, "structured_output": true, "release_date": "2024-05-13",
               "last_updated": "2024-08-06", "open_weights": false,
               "modalities": {"input": ["text", "image"], "output": ["text"]},
               "cost": {"input": 2.5, "output": 10}, "limit": {"context": 128000, "output": 16384}}}},
  "anthropic": {"id": "anthropic", "name": "Anthropic", "models": {
    "claude-sonnet-4-5": {"id": "claude-sonnet-4-5", "name": "Claude Sonnet 4.5", "attachment": true,
               "reasoning": true, "tool_call": true, "release_date": "2025-09-29", "last_updated": "2025-09-29",
               "open_weights": false, "modalities": {"input": ["text", "image", "pdf"], "output": ["text"]},
               "cost": {"input": 3, "output": 15}, "limit": {"context": 200000, "output": 64000}}}},
  "groq": {"id": "groq", "name": "Groq", "models": {
    "llama-3.1-8b": {"id": "llama-3.1-8b", "name": "Llama 3.1 8B", "tool_call": true,
               "release_date": "2024-07-23", "open_weights": true,
               "modalities": {"input": ["text"], "output": ["text"]},
               "cost": {"input": 0.05, "output": 0.08}, "limit": {"context": 131072, "output": 8192}}}}
})";

common::PostgresSettings pool_settings(std::string url) {
  common::PostgresSettings settings;
  settings.url = std::move(url);
  settings.pool_size = 4;
  settings.connect_timeout = 1000ms;
  settings.acquire_timeout = 5000ms;
  return settings;
}

struct EngineFixture {
  explicit EngineFixture(std::chrono::milliseconds cache_ttl = 0ms) {
    pqxx::connection connection(database.url());
    common::apply_migrations(connection, "scoring", migrations());
    auto parsed = parse_models_dev(kModels);
    REQUIRE(parsed.ok());
    engine = std::make_unique<ScoringEngine>(
        ScoringEngine::Stores{scores, configurations, batches},
        std::make_shared<const ModelCatalog>(std::move(parsed.value())),
        EngineSettings{std::chrono::hours(24), cache_ttl}, [this] { return now; },
        [this](const v1::ScoreUpdate& update) { announced.push_back(update); });
  }

  void exec(const std::string& sql) const {
    pqxx::connection connection(database.url());
    pqxx::nontransaction transaction(connection);
    transaction.exec0(sql);
  }

  v1::ModelScore calculate(const std::string& model_id, bool force = false) {
    v1::CalculateScoreRequest request;
    request.set_model_id(model_id);
    request.set_force_recalculation(force);
    auto result = engine->calculate(request);
    INFO(model_id << ": " << (result.ok() ? "" : result.error().message));
    REQUIRE(result.ok());
    return result.value();
  }

  testing::ScratchDatabase database;
  common::PgPool pool{pool_settings(database.url())};
  PgScoreStore scores{pool, {}};
  PgConfigurationStore configurations{pool, {}};
  PgBatchStore batches{pool, {}};
  std::chrono::system_clock::time_point now =
      std::chrono::sys_days{std::chrono::year{2026} / 11 / 22} + std::chrono::hours(10);
  std::vector<v1::ScoreUpdate> announced;
  std::unique_ptr<ScoringEngine> engine;
};

std::string detail(const common::Error& error, const std::string& key) {
  for (const auto& [name, value] : error.details) {
    if (name == key) return value;
  }
  return "(none)";
}

TEST_CASE("a calculation resolves the id, stores the score and announces it", "[scoring][engine]") {
  EngineFixture f;
  const v1::ModelScore score = f.calculate("gpt-4o");
  CHECK(score.model_id() == "gpt-4o");  // as asked
  CHECK(score.model_name() == "GPT-4o");
  CHECK_FALSE(score.from_cache());
  CHECK(score.overall_score() >= 0);
  CHECK(score.overall_score() <= 10);
  CHECK(score.score_suffix().starts_with("(SC:"));
  CHECK(score.calculation_hash().size() == 64);
  CHECK(score.data_source() == "models.dev");
  CHECK(score.inputs().performance_source() == "default");
  CHECK(google::protobuf::util::TimeUtil::TimestampToSeconds(score.valid_until()) -
            google::protobuf::util::TimeUtil::TimestampToSeconds(score.last_calculated()) ==
        24 * 3600);
  REQUIRE(f.announced.size() == 1);
  CHECK(f.announced[0].score().model_id() == "openai/gpt-4o");  // announced under its key
  // ... with the other ids a watcher may have subscribed by.
  CHECK(std::vector<std::string>(f.announced[0].model_aliases().begin(),
                                 f.announced[0].model_aliases().end()) == std::vector<std::string>{"gpt-4o"});
  CHECK_FALSE(f.announced[0].has_previous_overall_score());

  const auto stored = f.scores.current("openai/gpt-4o");
  REQUIRE(stored.ok());
  REQUIRE(stored.value().has_value());
  CHECK(stored.value()->calculation_hash() == score.calculation_hash());

  const auto unknown = f.engine->calculate([] {
    v1::CalculateScoreRequest request;
    request.set_model_id("no-such-model");
    return request;
  }());
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == ErrorCode::kModelNotFound);
  CHECK(detail(unknown.error(), "model_id") == "no-such-model");
}

TEST_CASE("a valid stored score is returned until it expires, is forced, or the weights change",
          "[scoring][engine]") {
  EngineFixture f;
  const v1::ModelScore first = f.calculate("anthropic/claude-sonnet-4-5");
  f.now += 1h;
  const v1::ModelScore cached = f.calculate("anthropic/claude-sonnet-4-5");
  CHECK(cached.from_cache());
  CHECK(cached.calculation_hash() == first.calculation_hash());
  CHECK(f.announced.size() == 1);

  const v1::ModelScore forced = f.calculate("anthropic/claude-sonnet-4-5", true);
  CHECK_FALSE(forced.from_cache());
  CHECK(forced.calculation_hash() != first.calculation_hash());  // a later reference time
  REQUIRE(f.announced.size() == 2);
  CHECK(f.announced[1].previous_overall_score() == first.overall_score());

  v1::CalculateScoreRequest weighted;
  weighted.set_model_id("anthropic/claude-sonnet-4-5");
  weighted.mutable_configuration()->mutable_weights()->set_response_speed(1.0);
  const auto reweighted = f.engine->calculate(weighted);
  REQUIRE(reweighted.ok());
  CHECK_FALSE(reweighted->from_cache());
  CHECK(reweighted->weights_normalized());  // 1.0 + 0.75 of the rest does not sum to 1

  f.now += 25h;
  CHECK_FALSE(f.calculate("anthropic/claude-sonnet-4-5").from_cache());
}

TEST_CASE("configurations and scores in memory answer until their copy expires, own writes at once",
          "[scoring][engine]") {
  EngineFixture f(5s);
  v1::CalculateScoreRequest request;
  request.set_model_id("gpt-4o");
  CHECK_FALSE(f.engine->calculate_in_memory(request));  // nothing read yet

  const v1::ModelScore first = f.calculate("gpt-4o");
  auto answer = f.engine->calculate_in_memory(request);
  REQUIRE(answer);
  REQUIRE(answer->ok());
  CHECK(answer->value().from_cache());
  CHECK(answer->value().model_id() == "gpt-4o");
  CHECK(answer->value().calculation_hash() == first.calculation_hash());

  v1::CalculateScoreRequest forced = request;
  forced.set_force_recalculation(true);
  CHECK_FALSE(f.engine->calculate_in_memory(forced));  // a forced calculation is always stored
  v1::CalculateScoreRequest unknown = request;
  unknown.set_model_id("nobody/none");
  CHECK_FALSE(f.engine->calculate_in_memory(unknown));  // may need the catalog refresher
  v1::CalculateScoreRequest other_weights = request;
  other_weights.mutable_configuration()->mutable_weights()->set_capability(1.0);
  CHECK_FALSE(f.engine->calculate_in_memory(other_weights));  // the stored score does not answer these
  v1::CalculateScoreRequest bad = request;
  bad.mutable_configuration()->mutable_weights()->set_capability(-1.0);
  answer = f.engine->calculate_in_memory(bad);
  REQUIRE(answer);
  REQUIRE_FALSE(answer->ok());
  CHECK(answer->error().code == ErrorCode::kInvalidRequest);

  // A change behind the engine's back (another replica's) shows once the copy expires.
  f.exec("UPDATE scoring.configurations SET enabled = false WHERE name = 'default'");
  CHECK(f.engine->calculate(request).ok());
  f.now += 6s;
  const auto disabled = f.engine->calculate(request);
  REQUIRE_FALSE(disabled.ok());
  CHECK(disabled.error().code == ErrorCode::kInvalidRequest);
  // The engine's own writes show at once.
  v1::ScoringConfiguration configuration = f.engine->configuration("default").value();
  configuration.set_enabled(true);
  REQUIRE(f.engine->put_configuration(configuration).ok());
  CHECK(f.engine->calculate(request).ok());
  const v1::ModelScore recalculated = f.calculate("gpt-4o", true);
  answer = f.engine->calculate_in_memory(request);
  REQUIRE(answer);
  REQUIRE(answer->ok());
  CHECK(answer->value().calculation_hash() == recalculated.calculation_hash());
  CHECK(answer->value().calculation_hash() != first.calculation_hash());
}

TEST_CASE("bad weights, unknown or disabled configurations are refused naming the field",
          "[scoring][engine]") {
  EngineFixture f;
  v1::CalculateScoreRequest request;
  request.set_model_id("gpt-4o");
  request.mutable_configuration()->mutable_weights()->set_recency(-1);
  auto negative = f.engine->calculate(request);
  REQUIRE_FALSE(negative.ok());
  CHECK(negative.error().code == ErrorCode::kInvalidRequest);
  CHECK(detail(negative.error(), "field") == "configuration.weights.recency");

  request.mutable_configuration()->clear_weights();
  request.mutable_configuration()->set_config_name("missing");
  auto unknown = f.engine->calculate(request);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == ErrorCode::kInvalidRequest);
  CHECK(detail(unknown.error(), "config") == "missing");

  v1::ScoringConfiguration off;
  off.set_config_name("off");
  *off.mutable_weights() = f.configurations.get("default").value().weights();
  off.set_enabled(false);
  REQUIRE(f.engine->put_configuration(off).ok());
  request.mutable_configuration()->set_config_name("off");
  CHECK(f.engine->calculate(request).error().code == ErrorCode::kInvalidRequest);

  v1::ScoringConfiguration zero;
  zero.set_config_name("zero");
  zero.mutable_weights();  // all five 0
  CHECK(f.engine->put_configuration(zero).error().code == ErrorCode::kInvalidRequest);
  CHECK(f.engine->configuration("zero").error().code == ErrorCode::kNotFound);
  CHECK(f.engine->configuration("").value().config_name() == "default");
}

TEST_CASE("get answers the stored score, or MODEL_NOT_FOUND before the first calculation",
          "[scoring][engine]") {
  EngineFixture f;
  const auto before = f.engine->get("gpt-4o");
  REQUIRE_FALSE(before.ok());
  CHECK(before.error().code == ErrorCode::kModelNotFound);
  const v1::ModelScore score = f.calculate("gpt-4o");
  const auto after = f.engine->get("gpt-4o");
  REQUIRE(after.ok());
  CHECK(after->calculation_hash() == score.calculation_hash());
  CHECK(after->model_id() == "gpt-4o");

  v1::RecalculateScoreRequest recalculate;
  recalculate.set_model_id("gpt-4o");
  recalculate.set_reason("Model capabilities updated");
  f.now += 1min;
  const auto recalculated = f.engine->recalculate(recalculate);
  REQUIRE(recalculated.ok());
  CHECK(recalculated->recalc_reason() == "Model capabilities updated");
  const auto history = f.scores.history("openai/gpt-4o", 10);
  REQUIRE(history.ok());
  REQUIRE(history->size() == 2);
  CHECK(history->back().reason == "Model capabilities updated");
}

TEST_CASE("a batch scores every model in order, failures named, and resumes where it stopped",
          "[scoring][engine]") {
  EngineFixture f;
  v1::BatchCalculateRequest request;
  request.add_model_ids("gpt-4o");
  request.add_model_ids("nobody/none");
  request.add_model_ids("llama-3.1-8b");
  const auto batch = f.engine->run_batch(request);
  REQUIRE(batch.ok());
  CHECK(batch->status() == v1::BATCH_STATUS_COMPLETED);
  CHECK(batch->success_count() == 2);
  CHECK(batch->failure_count() == 1);
  REQUIRE(batch->results_size() == 3);
  CHECK(batch->results(1).error().code() == "MODEL_NOT_FOUND");
  CHECK(batch->results(2).score().model_id() == "llama-3.1-8b");
  CHECK(f.engine->get_batch(batch->batch_id()).value().results_size() == 3);

  // A batch stopped after its first model: resuming scores only the rest.
  const auto started = f.engine->start_batch(request);
  REQUIRE(started.ok());
  CHECK(started->status() == v1::BATCH_STATUS_PROCESSING);
  v1::BatchItemResult done;
  done.set_model_id("gpt-4o");
  done.set_success(true);
  REQUIRE(f.batches.add_results(started->batch_id(), {{0, done}}, {}).ok());
  const auto unfinished = f.engine->unfinished_batches();
  REQUIRE(unfinished.ok());
  REQUIRE(unfinished->size() == 1);
  const std::size_t announced_before = f.announced.size();
  const auto resumed = f.engine->run_stored_batch(started->batch_id(), unfinished->front().request,
                                                  unfinished->front().done_positions);
  REQUIRE(resumed.ok());
  CHECK(resumed->status() == v1::BATCH_STATUS_COMPLETED);
  CHECK(resumed->results(0).score().model_id().empty());  // position 0 kept as it was stored
  CHECK(f.announced.size() == announced_before);          // llama's stored score was still valid
  CHECK(f.engine->unfinished_batches().value().empty());
}

TEST_CASE("a batch scores a model named several times once per mention, across chunks", "[scoring][engine]") {
  EngineFixture f;
  v1::BatchCalculateRequest request;
  request.set_force_recalculation(true);
  // 250 positions (more than one chunk of stored results); gpt-4o also by its key, right after.
  for (int i = 0; i < 125; ++i) {
    request.add_model_ids(i % 2 == 0 ? "gpt-4o" : "openai/gpt-4o");
    request.add_model_ids("claude-sonnet-4-5");
  }
  const auto batch = f.engine->run_batch(request);
  REQUIRE(batch.ok());
  CHECK(batch->status() == v1::BATCH_STATUS_COMPLETED);
  CHECK(batch->success_count() == 250);
  REQUIRE(batch->results_size() == 250);
  CHECK(batch->results(0).score().model_id() == "gpt-4o");  // as asked
  CHECK(batch->results(2).score().model_id() == "openai/gpt-4o");
  CHECK(f.announced.size() == 250);
  const auto history = f.scores.history("openai/gpt-4o", 1000);
  REQUIRE(history.ok());
  CHECK(history->size() == 125);
  // Each stored score replaced the one before it.
  CHECK_FALSE(history->front().previous_overall_score.has_value());
  CHECK(history->back().previous_overall_score.has_value());

  // A configuration that cannot be used fails every model, naming it; the batch itself completes as failed.
  request.mutable_configuration()->set_config_name("nope");
  const auto refused = f.engine->run_batch(request);
  REQUIRE(refused.ok());
  CHECK(refused->status() == v1::BATCH_STATUS_FAILED);
  CHECK(refused->failure_count() == 250);
  CHECK(refused->results(0).error().code() == "INVALID_REQUEST");
  CHECK(f.announced.size() == 250);
}

TEST_CASE("compare ranks the models and explains the lead, ranking filters stored scores",
          "[scoring][engine]") {
  EngineFixture f;
  v1::CompareScoresRequest compare;
  compare.add_model_ids("gpt-4o");
  compare.add_model_ids("claude-sonnet-4-5");
  compare.add_model_ids("llama-3.1-8b");
  const auto compared = f.engine->compare(compare);
  REQUIRE(compared.ok());
  REQUIRE(compared->results_size() == 3);
  CHECK(compared->results(0).rank() == 1);
  CHECK(compared->results(0).overall_score() >= compared->results(1).overall_score());
  CHECK(compared->best_model() == compared->results(0).model_id());
  CHECK_FALSE(compared->analysis().empty());
  compare.add_model_ids("nope");
  CHECK(f.engine->compare(compare).error().code == ErrorCode::kModelNotFound);

  v1::GetRankingRequest ranking;
  const auto all = f.engine->ranking(ranking);
  REQUIRE(all.ok());
  CHECK(all->total_models() == 3);
  CHECK(all->filtered_models() == 3);
  REQUIRE(all->rankings_size() == 3);
  CHECK(all->rankings(0).model_name().find("(SC:") != std::string::npos);
  ranking.set_category(v1::SCORE_CATEGORY_COST);
  ranking.set_limit(1);
  const auto cheapest = f.engine->ranking(ranking);
  REQUIRE(cheapest.ok());
  REQUIRE(cheapest->rankings_size() == 1);
  CHECK(cheapest->rankings(0).model_id() == "groq/llama-3.1-8b");
  CHECK(cheapest->category() == v1::SCORE_CATEGORY_COST);
  ranking.set_min_score(10);
  ranking.set_max_score(10);
  CHECK(f.engine->ranking(ranking).value().filtered_models() == 0);
}

TEST_CASE("validation recomputes the stored score and finds a tampered row", "[scoring][engine]") {
  EngineFixture f;
  const v1::ModelScore score = f.calculate("gpt-4o");
  v1::ValidateScoreRequest request;
  request.set_model_id("gpt-4o");
  request.mutable_expected_range()->set_min(0);
  request.mutable_expected_range()->set_max(10);
  const auto valid = f.engine->validate(request);
  REQUIRE(valid.ok());
  INFO(valid->problems_size());
  CHECK(valid->is_valid());
  CHECK(valid->validation_result().calculation_hash_verified());
  CHECK(valid->validation_result().component_scores_valid());
  CHECK(valid->score() == score.overall_score());

  SECTION("a client's score outside its expected range") {
    request.set_score(score.overall_score());
    request.mutable_expected_range()->set_min(score.overall_score() + 0.5);
    const auto outside = f.engine->validate(request);
    REQUIRE(outside.ok());
    CHECK_FALSE(outside->is_valid());
    CHECK_FALSE(outside->validation_result().within_expected_range());
  }
  SECTION("a client's score that is not the stored one") {
    request.set_score(score.overall_score() > 5 ? 1.0 : 9.0);
    const auto other = f.engine->validate(request);
    REQUIRE(other.ok());
    CHECK_FALSE(other->validation_result().component_scores_valid());
  }
  SECTION("stored inputs changed behind the service's back") {
    f.exec("UPDATE scoring.scores SET inputs = jsonb_set(inputs, '{tokens_per_second}', '500')");
    const auto tampered = f.engine->validate(request);
    REQUIRE(tampered.ok());
    CHECK_FALSE(tampered->is_valid());
    CHECK_FALSE(tampered->validation_result().calculation_hash_verified());
    REQUIRE(tampered->problems_size() >= 1);
    CHECK(tampered->problems(0).find("hash") != std::string::npos);
  }
  SECTION("a stored overall score changed") {
    f.exec("UPDATE scoring.scores SET overall_score = 9.9");
    const auto tampered = f.engine->validate(request);
    REQUIRE(tampered.ok());
    CHECK_FALSE(tampered->is_valid());
    CHECK(tampered->validation_result().calculation_hash_verified());  // the inputs are intact
    CHECK_FALSE(tampered->validation_result().component_scores_valid());
  }
  SECTION("a stored hash changed") {
    f.exec("UPDATE scoring.scores SET calculation_hash = repeat('0', 64)");
    CHECK_FALSE(f.engine->validate(request).value().validation_result().calculation_hash_verified());
  }
}

TEST_CASE("names get their suffix, an old one replaced", "[scoring][engine]") {
  EngineFixture f;
  v1::AddSuffixRequest request;
  request.set_model_name("GPT-4 (SC:7.1)");
  request.set_score(8.55);
  const v1::AddSuffixResponse response = f.engine->add_suffix(request);
  CHECK(response.updated_name() == "GPT-4 (SC:8.6)");
  CHECK(response.score_suffix() == "(SC:8.6)");
  CHECK(response.original_name() == "GPT-4 (SC:7.1)");

  v1::BatchUpdateNamesRequest names;
  (*names.mutable_model_scores())["Claude-3"] = 7.84;
  (*names.mutable_model_scores())["Llama-2"] = 6.9;
  const v1::BatchUpdateNamesResponse updated = f.engine->batch_update_names(names);
  CHECK(updated.count() == 2);
  CHECK(updated.results().at("Claude-3") == "Claude-3 (SC:7.8)");
  CHECK(updated.results().at("Llama-2") == "Llama-2 (SC:6.9)");
}

TEST_CASE("the scheduled recalculation stores every score again and announces only changes",
          "[scoring][engine]") {
  EngineFixture f;
  f.calculate("gpt-4o");
  v1::CalculateScoreRequest weighted;
  weighted.set_model_id("anthropic/claude-sonnet-4-5");
  weighted.mutable_configuration()->mutable_weights()->set_response_speed(1.0);
  const v1::ModelScore claude = f.engine->calculate(weighted).value();
  REQUIRE(f.announced.size() == 2);

  // Same inputs an hour later: stored again (new hash: a new reference time), nothing announced.
  f.now += 1h;
  RecalculationSummary summary = f.engine->recalculate_all("scheduled").value();
  CHECK(summary.recalculated == 2);
  CHECK(summary.changed == 0);
  CHECK(f.announced.size() == 2);
  const v1::ModelScore again = f.engine->get("anthropic/claude-sonnet-4-5").value();
  CHECK(again.calculation_hash() != claude.calculation_hash());
  CHECK(again.recalc_reason() == "scheduled");
  CHECK(again.weights().response_speed() == claude.weights().response_speed());  // its own weights kept

  // gpt-4o gains an arena rating, the suite's catalog adds a model, claude leaves the catalog.
  ModelCatalog next = parse_models_dev(kModels).value();
  next.models.erase("anthropic/claude-sonnet-4-5");
  merge_catalog(next, {{.name = "llama-small", .provider = "groq", .upstream_model_id = "llama-3.1-8b"}});
  next.models.at("openai/gpt-4o").inputs.arena_rating = 1600;
  f.engine->set_catalog(std::make_shared<const ModelCatalog>(std::move(next)));
  f.now += 1h;
  summary = f.engine->recalculate_all("scheduled").value();
  CHECK(summary.recalculated == 2);  // gpt-4o and the catalog's llama
  CHECK(summary.skipped == 1);       // claude: its last score stays
  CHECK(summary.changed == 2);
  REQUIRE(f.announced.size() == 4);
  CHECK(f.announced[2].score().model_id() == "groq/llama-3.1-8b");
  CHECK_FALSE(f.announced[2].has_previous_overall_score());
  CHECK(std::vector<std::string>(f.announced[2].model_aliases().begin(),
                                 f.announced[2].model_aliases().end()) ==
        std::vector<std::string>{"llama-3.1-8b", "llama-small"});
  CHECK(f.announced[3].score().model_id() == "openai/gpt-4o");
  CHECK(f.announced[3].score().data_source() == "models.dev+arena");
  CHECK(f.announced[3].score().components().capability_score() >
        f.announced[0].score().components().capability_score());
  CHECK(f.announced[3].previous_overall_score() == f.announced[0].score().overall_score());
  CHECK(f.engine->get("anthropic/claude-sonnet-4-5").ok() == false);  // not resolvable any more...
  CHECK(f.scores.current("anthropic/claude-sonnet-4-5").value());     // ...but kept
}

TEST_CASE("an unknown model asks the refresher once, which may find it or time out", "[scoring][engine]") {
  EngineFixture f;
  int refreshes = 0;
  common::Result<bool> answer = false;
  f.engine->set_catalog_refresher([&] {
    ++refreshes;
    return answer;
  });
  f.calculate("gpt-4o");
  CHECK(refreshes == 0);  // known models never wait on models.dev

  v1::CalculateScoreRequest request;
  request.set_model_id("openai/gpt-5");
  auto result = f.engine->calculate(request);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kModelNotFound);
  CHECK(refreshes == 1);

  answer = common::Error(ErrorCode::kApiTimeout, "models.dev did not answer within 3000 ms");
  result = f.engine->calculate(request);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kApiTimeout);
  CHECK(detail(result.error(), "model_id") == "openai/gpt-5");

  // models.dev unreachable: the id is still unknown, and the 404 says why it could not be looked up.
  answer = common::Error(ErrorCode::kUpstreamError, "models.dev: connection refused");
  result = f.engine->calculate(request);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kModelNotFound);
  CHECK(detail(result.error(), "models_dev") == "models.dev: connection refused");

  // The refresher installs a catalog that has it.
  f.engine->set_catalog_refresher([&] {
    ++refreshes;
    ModelCatalog next = parse_models_dev(kModels).value();
    merge_catalog(next, {{.name = "gpt-5", .provider = "openai", .input_usd_per_1m_tokens = 1.25}});
    f.engine->set_catalog(std::make_shared<const ModelCatalog>(std::move(next)));
    return common::Result<bool>(true);
  });
  const v1::ModelScore score = f.calculate("openai/gpt-5");
  CHECK(score.model_id() == "openai/gpt-5");
  CHECK(score.data_source() == "catalog");
  CHECK(refreshes == 4);
}

}  // namespace
}  // namespace rally::scoring
