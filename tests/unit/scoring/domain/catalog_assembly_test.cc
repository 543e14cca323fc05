#include "services/scoring/domain/catalog_assembly.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

namespace rally::scoring {
namespace {

constexpr std::string_view kDocument = R"json({
  "openai": {"models": {
    "gpt-4o": {"name": "GPT-4o", "cost": {"input": 2.5, "output": 10}, "release_date": "2024-05-13"}}},
  "anthropic": {"models": {
    "claude-sonnet-4-5": {"name": "Claude Sonnet 4.5", "cost": {"input": 3, "output": 15}}}}
})json";

ModelCatalog models_dev() {
  return parse_models_dev(kDocument).value();
}

MeasuredPerformance measured(std::uint64_t completed, double ttft_ms, double tokens_per_second,
                             double error_rate) {
  return {completed, ttft_ms, tokens_per_second, error_rate};
}

}  // namespace

TEST_CASE("A measurement needs enough requests, then each usable figure is taken and defaults stay for the rest") {
  ModelInputs inputs;
  CHECK(apply_measurement(inputs, measured(kMinMeasuredRequests, 400, 80, 0.02)));
  CHECK(inputs.performance_source == PerformanceSource::kMeasured);
  CHECK(inputs.time_to_first_token_ms == 400);
  CHECK(inputs.tokens_per_second == 80);
  CHECK(inputs.error_rate == 0.02);

  ModelInputs few;
  CHECK_FALSE(apply_measurement(few, measured(kMinMeasuredRequests - 1, 400, 80, 0.02)));
  CHECK(few.performance_source == PerformanceSource::kDefault);
  CHECK(few.time_to_first_token_ms == kDefaultTimeToFirstTokenMs);

  // Unary requests only: no time to first token, the rest measured.
  ModelInputs unary;
  CHECK(apply_measurement(unary, measured(10, 0, 15000, 0)));
  CHECK(unary.time_to_first_token_ms == kDefaultTimeToFirstTokenMs);
  CHECK(unary.tokens_per_second == 15000);
  CHECK(unary.error_rate == 0.0);
  CHECK(unary.performance_source == PerformanceSource::kMeasured);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  ModelInputs odd;
  CHECK(apply_measurement(odd, measured(10, nan, inf, 0.5)));  // only the error rate is a number
  CHECK(odd.time_to_first_token_ms == kDefaultTimeToFirstTokenMs);
  CHECK(odd.tokens_per_second == kDefaultTokensPerSecond);
  CHECK(odd.error_rate == 0.5);

  ModelInputs nothing;
  CHECK_FALSE(apply_measurement(nothing, measured(10, -1, 0, 1.5)));
  CHECK(nothing.performance_source == PerformanceSource::kDefault);
  CHECK(nothing.error_rate == kDefaultErrorRate);
}

TEST_CASE("Assembling: catalog models present, measurements and ratings where usable") {
  ScoringSources sources;
  sources.catalog = {{.name = "gpt-4o", .provider = "openai"},
                     {.name = "gpt-4o-eu", .provider = "openai", .upstream_model_id = "gpt-4o"},
                     {.name = "claude-sonnet-4-5", .provider = "anthropic"},
                     {.name = "local-llama", .provider = "ollama", .input_usd_per_1m_tokens = 0}};
  sources.measured["gpt-4o"] = measured(10, 600, 80, 0.005);
  sources.measured["gpt-4o-eu"] = measured(40, 900, 60, 0.02);      // more requests: it wins
  sources.measured["claude-sonnet-4-5"] = measured(2, 300, 90, 0);  // too few
  sources.measured["unknown-model"] = measured(100, 100, 100, 0);   // not in the catalog: ignored
  sources.arena["gpt-4o"] = {1300, 50};
  sources.arena["gpt-4o-eu"] = {1100, 20};  // fewer votes than gpt-4o's
  sources.arena["claude-sonnet-4-5"] = {1400, kMinArenaVotes - 1};

  const ModelCatalog catalog = assemble_catalog(models_dev(), sources);

  const ModelInputs& gpt = catalog.models.at("openai/gpt-4o").inputs;
  CHECK(gpt.performance_source == PerformanceSource::kMeasured);
  CHECK(gpt.time_to_first_token_ms == 900);
  CHECK(gpt.tokens_per_second == 60);
  CHECK(gpt.error_rate == 0.02);
  REQUIRE(gpt.arena_rating);
  CHECK(*gpt.arena_rating == 1300);
  CHECK(gpt.input_usd_per_1m_tokens == 2.5);  // models.dev's data stays

  const ModelInputs& claude = catalog.models.at("anthropic/claude-sonnet-4-5").inputs;
  CHECK(claude.performance_source == PerformanceSource::kDefault);
  CHECK(claude.time_to_first_token_ms == kDefaultTimeToFirstTokenMs);
  CHECK_FALSE(claude.arena_rating);

  // A model only the suite's catalog has is still there, with defaults.
  const ModelRecord& llama = catalog.models.at("ollama/local-llama");
  CHECK(llama.data_source == "catalog");
  CHECK(llama.inputs.input_usd_per_1m_tokens == 0.0);
  CHECK(llama.inputs.performance_source == PerformanceSource::kDefault);
}

TEST_CASE("Assembling starts from the models.dev data each time") {
  ScoringSources sources;
  sources.catalog = {{.name = "gpt-4o", .provider = "openai"}};
  sources.measured["gpt-4o"] = measured(10, 600, 80, 0.005);
  sources.arena["gpt-4o"] = {1300, 50};
  const ModelCatalog base = models_dev();
  CHECK(assemble_catalog(base, sources).models.at("openai/gpt-4o").inputs.arena_rating);

  // The next round lacks both: nothing of the previous round lingers.
  sources.measured.clear();
  sources.arena.clear();
  const ModelCatalog next = assemble_catalog(base, sources);
  const ModelInputs& gpt = next.models.at("openai/gpt-4o").inputs;
  CHECK(gpt.performance_source == PerformanceSource::kDefault);
  CHECK_FALSE(gpt.arena_rating);
}

}  // namespace rally::scoring
