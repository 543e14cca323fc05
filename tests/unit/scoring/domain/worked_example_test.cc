// The worked example of docs/scoring.md: two models from the committed snapshot, scored with the default
// weights, default performance and no arena rating, against 2026-11-22T00:00:00Z. When this test changes,
// change the document with it.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "services/scoring/domain/model_catalog.h"
#include "services/scoring/domain/score_calculator.h"
#include "services/scoring/domain/score_format.h"

namespace rally::scoring {
namespace {

const std::chrono::sys_seconds kReference{std::chrono::sys_days{std::chrono::year{2026} / 11 / 22}};

ScoreResult score_of(const ModelCatalog& catalog, std::string_view key) {
  const ModelRecord& record = catalog.models.at(std::string(key));
  return calculate_score(record.inputs, normalize_weights(ScoreWeights{}).value(), kReference);
}

TEST_CASE("docs/scoring.md worked example") {
  std::ifstream file(std::string(RALLY_SOURCE_DIR) + "/deploy/data/models-dev-snapshot.json",
                     std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  const ModelCatalog catalog = parse_models_dev(text.str()).value();

  const ScoreResult gpt = score_of(catalog, "openai/gpt-4o");
  CHECK(gpt.components.speed == Approx(5.0).margin(1e-12));
  CHECK(gpt.components.efficiency == Approx(4.97348).margin(1e-5));
  CHECK(gpt.components.cost == Approx(4.06780).margin(1e-5));
  CHECK(gpt.components.capability == Approx(5.78125).margin(1e-5));
  CHECK(gpt.components.recency == Approx(1.73287).margin(1e-5));
  CHECK(gpt.overall == Approx(4.59118).margin(1e-5));
  CHECK(format_one_decimal(gpt.components.efficiency) == "5.0");
  CHECK(format_one_decimal(gpt.components.cost) == "4.1");
  CHECK(format_one_decimal(gpt.components.capability) == "5.8");
  CHECK(format_one_decimal(gpt.components.recency) == "1.7");
  CHECK(gpt.score_suffix == "(SC:4.6)");
  CHECK(gpt.flags.performance_default);
  CHECK(gpt.calculation_hash == "099758fdec96518cead53fea4d57287bc20462f93b9e15225175b1bb4de03d0a");

  const ScoreResult sonnet = score_of(catalog, "anthropic/claude-sonnet-4-5");
  CHECK(sonnet.components.speed == Approx(5.0).margin(1e-12));
  CHECK(sonnet.components.efficiency == Approx(5.22364).margin(1e-5));
  CHECK(sonnet.components.cost == Approx(10.0 / 3.0).margin(1e-12));
  CHECK(sonnet.components.capability == Approx(7.67586).margin(1e-5));
  CHECK(sonnet.components.recency == Approx(4.51268).margin(1e-5));
  CHECK(sonnet.overall == Approx(5.11450).margin(1e-5));
  CHECK(format_one_decimal(sonnet.components.efficiency) == "5.2");
  CHECK(format_one_decimal(sonnet.components.cost) == "3.3");
  CHECK(format_one_decimal(sonnet.components.capability) == "7.7");
  CHECK(format_one_decimal(sonnet.components.recency) == "4.5");
  CHECK(sonnet.score_suffix == "(SC:5.1)");
  CHECK(sonnet.calculation_hash == "88f4745ed1cc3cca7f859d99d49d9f3be36d8300377271ed91526b971c2bff53");

  // With measured performance (TTFT 600 ms, 80 tokens/s, 0.5% errors) and an arena rating of 1300 for
  // gpt-4o, as in the document's second table.
  ModelInputs measured = catalog.models.at("openai/gpt-4o").inputs;
  measured.time_to_first_token_ms = 600;
  measured.tokens_per_second = 80;
  measured.error_rate = 0.005;
  measured.performance_source = PerformanceSource::kMeasured;
  measured.arena_rating = 1300;
  const ScoreResult m = calculate_score(measured, normalize_weights(ScoreWeights{}).value(), kReference);
  CHECK(m.components.speed == Approx(6.76002).margin(1e-5));
  CHECK(m.components.efficiency == Approx(4.99860).margin(1e-5));
  CHECK(m.components.cost == gpt.components.cost);
  CHECK(m.components.capability == Approx(6.02901).margin(1e-5));
  CHECK(m.components.recency == gpt.components.recency);
  CHECK(m.overall == Approx(5.08576).margin(1e-5));
  CHECK(m.score_suffix == "(SC:5.1)");
}

}  // namespace
}  // namespace rally::scoring
