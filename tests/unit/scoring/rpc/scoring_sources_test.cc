// What the scoring service takes from the llm-proxy's and the arena's messages, and which updates a
// WatchScores watcher gets.
#include "services/scoring/rpc/scoring_sources.h"

#include <google/protobuf/util/time_util.h>

#include <catch2/catch.hpp>

#include "rally/v1/arena.pb.h"
#include "rally/v1/llm_proxy.pb.h"
#include "rally/v1/scoring.pb.h"
#include "services/scoring/rpc/score_watchers.h"

namespace rally::scoring {
namespace {

using google::protobuf::util::TimeUtil;

TEST_CASE("Catalog models from ListModels keep their names, provider and prices") {
  v1::ListModelsResponse response;
  v1::Model* gpt = response.add_models();
  gpt->set_name("gpt-4o");
  gpt->set_display_name("GPT-4o");
  gpt->set_provider(v1::PROVIDER_KIND_OPENAI);
  gpt->set_upstream_model("gpt-4o-2024-08-06");
  gpt->mutable_price()->set_input_usd_per_1m_tokens(2.5);
  gpt->mutable_price()->set_output_usd_per_1m_tokens(10);
  v1::Model* local = response.add_models();
  local->set_name("local-llama");
  local->set_provider(v1::PROVIDER_KIND_OPENAI_COMPATIBLE);
  local->set_upstream_model("llama3.1:8b");
  v1::Model* claude = response.add_models();
  claude->set_name("claude-sonnet-4-5");
  claude->set_provider(v1::PROVIDER_KIND_ANTHROPIC);
  claude->set_enabled(false);  // listed: a disabled model still has a score

  const std::vector<CatalogModel> models = catalog_models_of(response);
  REQUIRE(models.size() == 3);
  CHECK(models[0].name == "gpt-4o");
  CHECK(models[0].display_name == "GPT-4o");
  CHECK(models[0].provider == "openai");
  CHECK(models[0].upstream_model_id == "gpt-4o-2024-08-06");
  CHECK(models[0].input_usd_per_1m_tokens == 2.5);
  CHECK(models[0].output_usd_per_1m_tokens == 10.0);
  CHECK(models[1].provider == "openai-compatible");
  CHECK(models[1].input_usd_per_1m_tokens == 0.0);  // free, not unknown
  CHECK(models[2].provider == "anthropic");
}

TEST_CASE("Measurements from GetUsageStats leave cancelled requests out") {
  v1::GetUsageStatsResponse response;
  v1::ModelUsageStats* stats = response.add_models();
  stats->set_model("gpt-4o");
  stats->set_requests(12);
  stats->set_cancelled(2);
  stats->set_errors(1);
  stats->set_error_rate(0.1);
  *stats->mutable_p50_time_to_first_token() = TimeUtil::MillisecondsToDuration(420);
  stats->set_p50_tokens_per_second(75.5);
  v1::ModelUsageStats* odd = response.add_models();
  odd->set_model("odd");
  odd->set_requests(1);
  odd->set_cancelled(3);  // never negative

  const auto measured = measurements_of(response);
  const MeasuredPerformance& gpt = measured.at("gpt-4o");
  CHECK(gpt.completed_requests == 10);
  CHECK(gpt.time_to_first_token_ms == 420.0);
  CHECK(gpt.tokens_per_second == 75.5);
  CHECK(gpt.error_rate == 0.1);
  CHECK(measured.at("odd").completed_requests == 0);
}

TEST_CASE("Arena standings use the Bradley-Terry rating once a fit covered votes") {
  v1::LeaderboardResponse board;
  v1::LeaderboardEntry* entry = board.add_entries();
  entry->set_name("gpt-4o");
  entry->set_score(1230);
  entry->set_bt_rating(1262.5);
  entry->set_votes(40);
  CHECK(standings_of(board).at("gpt-4o").rating == 1230.0);  // no fit yet: the online ELO rating
  board.set_bt_votes(40);
  const ArenaStanding standing = standings_of(board).at("gpt-4o");
  CHECK(standing.rating == 1262.5);
  CHECK(standing.votes == 40);
}

TEST_CASE("A watcher gets the updates of the ids it named, by key or alias, or all") {
  v1::ScoreUpdate update;
  update.mutable_score()->set_model_id("openai/gpt-4o");
  update.add_model_aliases("gpt-4o");
  update.add_model_aliases("gpt-4o-prod");
  CHECK(wants({}, update));
  CHECK(wants({"*"}, update));
  CHECK(wants({"openai/gpt-4o"}, update));
  CHECK(wants({"claude-sonnet-4-5", "gpt-4o-prod"}, update));
  CHECK_FALSE(wants({"claude-sonnet-4-5"}, update));
  CHECK_FALSE(wants({"GPT-4o"}, update));  // exact ids only: what the update lists
  CHECK_FALSE(wants({"openai/gpt-4"}, update));
}

}  // namespace
}  // namespace rally::scoring
