// The scoring stores against real PostgreSQL: a scratch database built from the scoring migrations.
#include "services/scoring/storage/pg_score_store.h"

#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <string>
#include <vector>

#include "migrations/rally_scoring.h"
#include "services/common/migrations.h"
#include "services/common/pg_advisory_lock.h"
#include "services/common/pg_pool.h"
#include "tests/support/test_env.h"

namespace rally::scoring {
namespace {

using common::ErrorCode;
using google::protobuf::util::MessageDifferencer;
using google::protobuf::util::TimeUtil;

common::PostgresSettings pool_settings(std::string url) {
  common::PostgresSettings settings;
  settings.url = std::move(url);
  settings.pool_size = 4;
  settings.connect_timeout = std::chrono::milliseconds(1000);
  settings.acquire_timeout = std::chrono::milliseconds(5000);
  return settings;
}

struct ScoringDatabase {
  ScoringDatabase() {
    pqxx::connection connection(database.url());
    common::apply_migrations(connection, "scoring", migrations());
  }

  void exec(const std::string& sql) const {
    pqxx::connection connection(database.url());
    pqxx::nontransaction transaction(connection);
    transaction.exec0(sql);
  }

  testing::ScratchDatabase database;
  common::PgPool pool{pool_settings(database.url())};
  PgScoreStore scores{pool, {}};
  PgConfigurationStore configurations{pool, {}};
  PgBatchStore batches{pool, {}};
};

// A score as the service would store it; times at whole microseconds (the database's resolution).
v1::ModelScore sample_score(const std::string& model_id, double overall) {
  v1::ModelScore score;
  score.set_model_id(model_id);
  score.set_model_name("Model " + model_id);
  score.set_overall_score(overall);
  score.set_score_suffix("(SC:" + std::to_string(overall).substr(0, 3) + ")");
  v1::ScoreComponents& components = *score.mutable_components();
  components.set_speed_score(7.25);
  components.set_efficiency_score(6.5);
  components.set_cost_score(0.1 + 0.2);  // not exactly 0.3: doubles must round trip bit for bit
  components.set_capability_score(9.0);
  components.set_recency_score(4.125);
  *score.mutable_last_calculated() = TimeUtil::MicrosecondsToTimestamp(1'795'000'000'123'456);
  *score.mutable_valid_until() = TimeUtil::MicrosecondsToTimestamp(1'795'086'400'123'456);
  score.set_data_source("models.dev+measured");
  score.set_calculation_hash(std::string(64, 'a'));
  v1::ScoreWeights& weights = *score.mutable_weights();
  weights.set_response_speed(0.25);
  weights.set_model_efficiency(0.2);
  weights.set_cost_effectiveness(0.25);
  weights.set_capability(0.2);
  weights.set_recency(0.1);
  score.set_weights_normalized(true);
  v1::ScoreInputs& inputs = *score.mutable_inputs();
  inputs.set_input_usd_per_1m_tokens(2.5);  // output price left unset: "no published price" must survive
  inputs.set_context_window_tokens(128000);
  inputs.set_release_date("2024-05-13");
  inputs.set_reasoning(false);
  inputs.set_tool_call(true);
  inputs.add_input_modalities("image");
  inputs.add_input_modalities("text");
  inputs.set_time_to_first_token_ms(412.5);
  inputs.set_tokens_per_second(87.25);
  inputs.set_error_rate(0.0125);
  inputs.set_performance_source("measured");
  *inputs.mutable_reference_time() = TimeUtil::MicrosecondsToTimestamp(1'795'000'000'000'000);
  score.set_algorithm_version("rally-score-1");
  return score;
}

TEST_CASE("a stored score reads back field for field, unset optionals included", "[scoring][storage]") {
  ScoringDatabase db;
  const v1::ModelScore score = sample_score("openai/gpt-4o", 7.9);
  const auto saved = db.scores.save(score);
  REQUIRE(saved.ok());
  CHECK_FALSE(saved.value().has_value());  // a first score replaces nothing

  const auto read = db.scores.current("openai/gpt-4o");
  REQUIRE(read.ok());
  REQUIRE(read.value().has_value());
  std::string difference;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&difference);
  CHECK(differencer.Compare(score, *read.value()));
  INFO(difference);
  CHECK_FALSE(read.value()->inputs().has_output_usd_per_1m_tokens());

  const auto unknown = db.scores.current("nobody/none");
  REQUIRE(unknown.ok());
  CHECK_FALSE(unknown.value().has_value());
}

TEST_CASE("saving again replaces the current score and keeps the history with reasons",
          "[scoring][storage]") {
  ScoringDatabase db;
  REQUIRE(db.scores.save(sample_score("a/one", 6.0)).ok());
  v1::ModelScore again = sample_score("a/one", 6.5);
  again.set_recalc_reason("capabilities updated");
  again.set_calculation_hash(std::string(64, 'b'));
  const auto replaced = db.scores.save(again);
  REQUIRE(replaced.ok());
  CHECK(replaced.value() == std::optional<double>(6.0));

  const auto current = db.scores.current("a/one");
  REQUIRE(current.ok());
  CHECK(current.value()->overall_score() == 6.5);
  CHECK(current.value()->recalc_reason() == "capabilities updated");

  const auto history = db.scores.history("a/one", 10);
  REQUIRE(history.ok());
  REQUIRE(history.value().size() == 2);
  CHECK(history.value()[0].overall_score == 6.0);
  CHECK_FALSE(history.value()[0].previous_overall_score.has_value());
  CHECK(history.value()[1].previous_overall_score == std::optional<double>(6.0));
  CHECK(history.value()[1].reason == "capabilities updated");
  CHECK(history.value()[1].calculation_hash == std::string(64, 'b'));
  const auto last = db.scores.history("a/one", 1);
  REQUIRE(last.ok());
  REQUIRE(last.value().size() == 1);
  CHECK(last.value()[0].overall_score == 6.5);
}

TEST_CASE("current scores are read for a list of models or all of them, best first", "[scoring][storage]") {
  ScoringDatabase db;
  REQUIRE(db.scores.save(sample_score("p/low", 3.0)).ok());
  REQUIRE(db.scores.save(sample_score("p/high", 9.0)).ok());
  REQUIRE(db.scores.save(sample_score("p/mid", 6.0)).ok());

  const auto some = db.scores.current_of({"p/high", "p/missing", "p/low"});
  REQUIRE(some.ok());
  REQUIRE(some.value().size() == 2);
  const auto all = db.scores.all_current();
  REQUIRE(all.ok());
  REQUIRE(all.value().size() == 3);
  CHECK(all.value()[0].model_id() == "p/high");
  CHECK(all.value()[1].model_id() == "p/mid");
  CHECK(all.value()[2].model_id() == "p/low");
}

TEST_CASE("the default configuration holds the seed's weights, others are created and replaced",
          "[scoring][storage]") {
  ScoringDatabase db;
  const auto seeded = db.configurations.get("default");
  REQUIRE(seeded.ok());
  CHECK(seeded.value().weights().response_speed() == 0.25);
  CHECK(seeded.value().weights().model_efficiency() == 0.20);
  CHECK(seeded.value().weights().cost_effectiveness() == 0.25);
  CHECK(seeded.value().weights().capability() == 0.20);
  CHECK(seeded.value().weights().recency() == 0.10);
  CHECK(seeded.value().thresholds().max_score() == 10.0);
  CHECK(seeded.value().enabled());

  v1::ScoringConfiguration fast;
  fast.set_config_name("speed-first");
  v1::ScoreWeights& weights = *fast.mutable_weights();
  weights.set_response_speed(0.6);
  weights.set_model_efficiency(0.1);
  weights.set_cost_effectiveness(0.1);
  weights.set_capability(0.1);
  weights.set_recency(0.1);
  fast.mutable_thresholds()->set_max_score(10);
  fast.set_enabled(true);
  const auto stored = db.configurations.put(fast);
  REQUIRE(stored.ok());
  CHECK(stored.value().weights().response_speed() == 0.6);
  CHECK(stored.value().has_last_updated());

  fast.mutable_weights()->set_response_speed(0.5);
  fast.set_enabled(false);
  REQUIRE(db.configurations.put(fast).ok());
  const auto replaced = db.configurations.get("speed-first");
  REQUIRE(replaced.ok());
  CHECK(replaced.value().weights().response_speed() == 0.5);
  CHECK_FALSE(replaced.value().enabled());

  const auto unknown = db.configurations.get("nope");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == ErrorCode::kNotFound);

  v1::ScoringConfiguration bad = fast;
  bad.set_config_name("has spaces");
  const auto refused = db.configurations.put(bad);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kInvalidRequest);
}

v1::BatchItemResult item(const std::string& model_id, bool success) {
  v1::BatchItemResult result;
  result.set_model_id(model_id);
  result.set_success(success);
  if (success) {
    *result.mutable_score() = sample_score(model_id, 5.0);
  } else {
    result.mutable_error()->set_code("MODEL_NOT_FOUND");
  }
  return result;
}

TEST_CASE("a batch keeps its results in request order and finishes completed or failed",
          "[scoring][storage]") {
  ScoringDatabase db;
  v1::BatchCalculateRequest request;
  request.add_model_ids("x/a");
  request.add_model_ids("x/b");
  request.add_model_ids("x/c");
  request.set_async(true);

  const auto created = db.batches.create("batch_1", request);
  REQUIRE(created.ok());
  CHECK(created.value().status() == v1::BATCH_STATUS_PROCESSING);
  CHECK(created.value().model_count() == 3);
  const auto duplicate = db.batches.create("batch_1", request);
  REQUIRE_FALSE(duplicate.ok());
  CHECK(duplicate.error().code == ErrorCode::kConflict);

  REQUIRE(db.batches.add_results("batch_1", {{2, item("x/c", true)}, {0, item("x/a", false)}}, {}).ok());
  const auto partial = db.batches.get("batch_1");
  REQUIRE(partial.ok());
  CHECK(partial.value().status() == v1::BATCH_STATUS_PROCESSING);
  REQUIRE(partial.value().results_size() == 2);
  CHECK(partial.value().results(0).model_id() == "x/a");
  CHECK(partial.value().results(1).model_id() == "x/c");
  CHECK(partial.value().results(1).score().overall_score() == 5.0);

  const auto unfinished = db.batches.unfinished();
  REQUIRE(unfinished.ok());
  REQUIRE(unfinished.value().size() == 1);
  CHECK(unfinished.value()[0].batch_id == "batch_1");
  CHECK(unfinished.value()[0].request.model_ids_size() == 3);
  CHECK(unfinished.value()[0].done_positions == std::vector<std::uint32_t>{0, 2});

  REQUIRE(db.batches.add_results("batch_1", {{1, item("x/b", true)}}, {}).ok());
  const auto finished = db.batches.finish("batch_1");
  REQUIRE(finished.ok());
  CHECK(finished.value().status() == v1::BATCH_STATUS_COMPLETED);
  CHECK(finished.value().success_count() == 2);
  CHECK(finished.value().failure_count() == 1);
  CHECK(finished.value().has_completed_at());
  REQUIRE(db.batches.unfinished().ok());
  CHECK(db.batches.unfinished().value().empty());

  v1::BatchCalculateRequest doomed;
  doomed.add_model_ids("no/such");
  REQUIRE(db.batches.create("batch_2", doomed).ok());
  REQUIRE(db.batches.add_results("batch_2", {{0, item("no/such", false)}}, {}).ok());
  const auto failed = db.batches.finish("batch_2");
  REQUIRE(failed.ok());
  CHECK(failed.value().status() == v1::BATCH_STATUS_FAILED);

  const auto unknown = db.batches.get("batch_404");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == ErrorCode::kNotFound);
}

TEST_CASE("batch results and the scores they computed are stored together, or neither",
          "[scoring][storage]") {
  ScoringDatabase db;
  v1::BatchCalculateRequest request;
  for (const char* id : {"x/b", "x/a", "x/c"}) request.add_model_ids(id);
  REQUIRE(db.batches.create("batch_1", request).ok());
  REQUIRE(db.scores.save(sample_score("x/a", 4.0)).ok());

  // Given out of key order: each score's replaced value comes back at its own index.
  const auto replaced = db.batches.add_results("batch_1", {{0, item("x/b", true)}, {1, item("x/a", true)}},
                                               {sample_score("x/b", 6.0), sample_score("x/a", 7.0)});
  REQUIRE(replaced.ok());
  CHECK(replaced.value() == std::vector<std::optional<double>>{std::nullopt, 4.0});
  CHECK(db.scores.current("x/a").value()->overall_score() == 7.0);
  // Field for field, doubles bit for bit, like a score saved alone.
  std::string difference;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&difference);
  CHECK(differencer.Compare(sample_score("x/b", 6.0), *db.scores.current("x/b").value()));
  INFO(difference);
  const auto history = db.scores.history("x/a", 10);
  REQUIRE(history.ok());
  REQUIRE(history.value().size() == 2);
  CHECK(history.value()[1].previous_overall_score == 4.0);

  // A result that cannot be stored (no such batch) takes its scores with it.
  const auto orphan =
      db.batches.add_results("batch_404", {{0, item("x/c", true)}}, {sample_score("x/c", 9.0)});
  REQUIRE_FALSE(orphan.ok());
  CHECK(orphan.error().code == ErrorCode::kDatabaseError);
  CHECK_FALSE(db.scores.current("x/c").value().has_value());
  CHECK(db.batches.get("batch_1").value().results_size() == 2);
}

TEST_CASE("replicas adopt only the batches whose replica's lock is free, each once", "[scoring][storage]") {
  ScoringDatabase db;
  common::PgAdvisoryLock lock_a(db.pool, "scoring.replica/test-a");
  common::PgAdvisoryLock lock_b(db.pool, "scoring.replica/test-b");
  common::PgAdvisoryLock lock_c(db.pool, "scoring.replica/test-c");
  REQUIRE(lock_a.try_hold() == common::LeaseState::kHeld);
  REQUIRE(lock_b.try_hold() == common::LeaseState::kHeld);
  REQUIRE(lock_c.try_hold() == common::LeaseState::kHeld);
  PgBatchStore replica_a(db.pool, {}, lock_a.key());
  PgBatchStore replica_b(db.pool, {}, lock_b.key());
  PgBatchStore replica_c(db.pool, {}, lock_c.key());

  v1::BatchCalculateRequest request;
  request.add_model_ids("x/a");
  request.add_model_ids("x/b");
  REQUIRE(replica_a.create("batch_a", request).ok());
  REQUIRE(replica_a.add_results("batch_a", {{0, item("x/a", true)}}, {}).ok());
  // A row from before owners were recorded has none: anyone may adopt it.
  db.exec(
      "INSERT INTO scoring.batches (batch_id, status, request, model_count, created_at) "
      "VALUES ('batch_legacy', 'processing', '{\"modelIds\":[\"x/c\"]}', 1, now())");

  // Replica A is alive: B adopts only the ownerless row, and adopting again finds nothing new.
  const auto first = replica_b.unfinished();
  REQUIRE(first.ok());
  REQUIRE(first.value().size() == 1);
  CHECK(first.value()[0].batch_id == "batch_legacy");
  CHECK(replica_b.unfinished().value().empty());
  CHECK(replica_c.unfinished().value().empty());

  // A's session ends: exactly one of B and C takes its batch, with the position A finished.
  lock_a.release();
  const auto by_c = replica_c.unfinished();
  REQUIRE(by_c.ok());
  REQUIRE(by_c.value().size() == 1);
  CHECK(by_c.value()[0].batch_id == "batch_a");
  CHECK(by_c.value()[0].done_positions == std::vector<std::uint32_t>{0});
  CHECK(replica_b.unfinished().value().empty());
  CHECK(replica_a.unfinished().value().empty());  // lock released, A's store finds C alive
}

TEST_CASE("the scoring stores answer DATABASE_ERROR when PostgreSQL is unreachable", "[scoring][storage]") {
  common::PgPool pool(
      pool_settings("postgresql://rally@127.0.0.1:" + std::to_string(testing::free_port()) + "/x"));
  PgScoreStore scores(pool, {});
  PgConfigurationStore configurations(pool, {});
  PgBatchStore batches(pool, {});
  CHECK(scores.current("a/b").error().code == ErrorCode::kDatabaseError);
  CHECK(scores.save(sample_score("a/b", 1.0)).error().code == ErrorCode::kDatabaseError);
  CHECK(configurations.get("default").error().code == ErrorCode::kDatabaseError);
  CHECK(batches.get("batch_1").error().code == ErrorCode::kDatabaseError);
  CHECK(batches.add_results("batch_1", {{0, item("a/b", true)}}, {}).error().code ==
        ErrorCode::kDatabaseError);
}

}  // namespace
}  // namespace rally::scoring
