#include "services/scoring/domain/score_calculator.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <set>
#include <vector>

#include "services/scoring/domain/score_format.h"

namespace rally::scoring {
namespace {

using std::chrono::sys_days;
using std::chrono::sys_seconds;

const sys_seconds kReference{sys_days{std::chrono::year{2026} / 11 / 22}};

// openai/gpt-4o as the snapshot has it, with measured performance.
ModelInputs fixed_inputs() {
  ModelInputs in;
  in.input_usd_per_1m_tokens = 2.5;
  in.output_usd_per_1m_tokens = 10;
  in.context_window_tokens = 128000;
  in.max_output_tokens = 16384;
  in.release_date = "2024-05-13";
  in.last_updated = "2024-08-06";
  in.knowledge_cutoff = "2023-09";
  in.tool_call = true;
  in.structured_output = true;
  in.attachment = true;
  in.input_modalities = {"text", "image", "pdf"};
  in.output_modalities = {"text"};
  in.time_to_first_token_ms = 420;
  in.tokens_per_second = 95.5;
  in.error_rate = 0.004;
  in.performance_source = PerformanceSource::kMeasured;
  in.arena_rating = 1251.25;
  return in;
}

NormalizedWeights default_weights() {
  return normalize_weights(ScoreWeights{}).value();
}

TEST_CASE("The canonical form is the documented text") {
  CHECK(canonical_form(fixed_inputs(), ScoreWeights{}, kReference) ==
        "canonical=rally-score-canonical/1\n"
        "algorithm_version=rally-scoring/1\n"
        "input_usd_per_1m_tokens=2.5\n"
        "output_usd_per_1m_tokens=10\n"
        "context_window_tokens=128000\n"
        "max_output_tokens=16384\n"
        "release_date=2024-05-13\n"
        "last_updated=2024-08-06\n"
        "knowledge_cutoff=2023-09\n"
        "reasoning=0\n"
        "tool_call=1\n"
        "structured_output=1\n"
        "attachment=1\n"
        "input_modalities=image,pdf,text\n"
        "output_modalities=text\n"
        "open_weights=0\n"
        "time_to_first_token_ms=420\n"
        "tokens_per_second=95.5\n"
        "error_rate=0.004\n"
        "performance_source=measured\n"
        "arena_rating=1251.25\n"
        "weight.response_speed=0.25\n"
        "weight.model_efficiency=0.2\n"
        "weight.cost_effectiveness=0.25\n"
        "weight.capability=0.2\n"
        "weight.recency=0.1\n"
        "reference_time=1795305600\n");
}

TEST_CASE("Missing values, odd strings and modality order in the canonical form") {
  ModelInputs in;
  in.release_date = "2024-05-13 x=1\n";
  in.input_modalities = {"text", "", "image", "text", "a,b"};
  const std::string text = canonical_form(in, ScoreWeights{}, kReference);
  CHECK(text.find("input_usd_per_1m_tokens=~\n") != std::string::npos);
  CHECK(text.find("arena_rating=~\n") != std::string::npos);
  CHECK(text.find("release_date=2024-05-13%20x%3D1%0A\n") != std::string::npos);
  CHECK(text.find("input_modalities=a%2Cb,image,text\n") != std::string::npos);
  CHECK(text.find("output_modalities=\n") != std::string::npos);
  CHECK(text.find("performance_source=default\n") != std::string::npos);
  ModelInputs reordered = in;
  reordered.input_modalities = {"image", "a,b", "text"};
  CHECK(canonical_form(reordered, ScoreWeights{}, kReference) == text);
}

TEST_CASE("Golden hash of the fixed input") {
  // Changing this literal means changing the canonical form or the algorithm: bump kAlgorithmVersion and
  // docs/scoring.md with it, as stored hashes stop verifying.
  CHECK(calculation_hash(fixed_inputs(), ScoreWeights{}, kReference) ==
        "999b7051c1edf6fb5576e5d6af0e5c13741ba33b207ffcb90c14d85890d368f2");
}

TEST_CASE("Same inputs give the same result and hash, byte for byte") {
  const ScoreResult a = calculate_score(fixed_inputs(), default_weights(), kReference);
  const ScoreResult b = calculate_score(fixed_inputs(), default_weights(), kReference);
  CHECK(a.calculation_hash == b.calculation_hash);
  CHECK(a.overall == b.overall);
  CHECK(a.score_suffix == b.score_suffix);
  CHECK(a.calculation_hash.size() == 64);
  CHECK(a.calculation_hash == calculation_hash(fixed_inputs(), ScoreWeights{}, kReference));
  CHECK(a.algorithm_version == kAlgorithmVersion);
}

TEST_CASE("Any single input change gives a different hash") {
  const std::vector<std::function<void(ModelInputs&)>> changes = {
      [](ModelInputs& m) { m.input_usd_per_1m_tokens = 2.5000000000000004; },
      [](ModelInputs& m) { m.input_usd_per_1m_tokens.reset(); },
      [](ModelInputs& m) { m.output_usd_per_1m_tokens = 0; },
      [](ModelInputs& m) { m.output_usd_per_1m_tokens.reset(); },
      [](ModelInputs& m) { m.context_window_tokens += 1; },
      [](ModelInputs& m) { m.max_output_tokens = 0; },
      [](ModelInputs& m) { m.release_date = "2024-05-14"; },
      [](ModelInputs& m) { m.last_updated.clear(); },
      [](ModelInputs& m) { m.knowledge_cutoff = "2023-10"; },
      [](ModelInputs& m) { m.reasoning = true; },
      [](ModelInputs& m) { m.tool_call = false; },
      [](ModelInputs& m) { m.structured_output = false; },
      [](ModelInputs& m) { m.attachment = false; },
      [](ModelInputs& m) { m.input_modalities.push_back("audio"); },
      [](ModelInputs& m) {
        m.output_modalities = {"text", "image"};
      },
      [](ModelInputs& m) { m.open_weights = true; },
      [](ModelInputs& m) { m.time_to_first_token_ms = 421; },
      [](ModelInputs& m) { m.tokens_per_second = 95.50000000000001; },
      [](ModelInputs& m) { m.error_rate = 0.005; },
      [](ModelInputs& m) { m.performance_source = PerformanceSource::kDefault; },
      [](ModelInputs& m) { m.arena_rating.reset(); },
      [](ModelInputs& m) { m.arena_rating = 1251.5; },
  };
  std::set<std::string> hashes = {calculation_hash(fixed_inputs(), ScoreWeights{}, kReference)};
  for (std::size_t i = 0; i < changes.size(); ++i) {
    ModelInputs in = fixed_inputs();
    changes[i](in);
    INFO("change " << i);
    CHECK(hashes.insert(calculation_hash(in, ScoreWeights{}, kReference)).second);
  }
  CHECK(hashes.insert(calculation_hash(fixed_inputs(), ScoreWeights{0.3, 0.2, 0.2, 0.2, 0.1}, kReference))
            .second);
  CHECK(hashes.insert(calculation_hash(fixed_inputs(), ScoreWeights{}, kReference + std::chrono::seconds(1)))
            .second);
  CHECK(
      hashes.insert(calculation_hash(fixed_inputs(), ScoreWeights{}, kReference, "rally-scoring/2")).second);
}

TEST_CASE("Overall is the weighted sum, clamped, and rounded for display") {
  const ScoreComponents c{.speed = 8, .efficiency = 6, .cost = 4, .capability = 10, .recency = 2};
  CHECK(overall_score(c, ScoreWeights{}) == Approx(0.25 * 8 + 0.2 * 6 + 0.25 * 4 + 0.2 * 10 + 0.1 * 2));
  CHECK(overall_score(c, ScoreWeights{0, 0, 0, 1, 0}) == 10.0);
  CHECK(overall_score(c, ScoreWeights{0, 0, 0, 2, 0}) == 10.0);
  CHECK(overall_score(ScoreComponents{.speed = -5}, ScoreWeights{}) == 0.0);
  const ScoreResult r = calculate_score(fixed_inputs(), default_weights(), kReference);
  CHECK(r.overall == Approx(overall_score(r.components, ScoreWeights{})));
  CHECK(r.rounded_overall == round_to_tenth(r.overall));
  CHECK(r.score_suffix == score_suffix(r.overall));
  CHECK(r.rounded_components.cost == round_to_tenth(r.components.cost));
  CHECK_FALSE(r.weights_normalized);
  CHECK_FALSE(r.flags.price_missing);
  CHECK_FALSE(r.flags.performance_default);
}

}  // namespace
}  // namespace rally::scoring
