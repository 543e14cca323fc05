// Component weights under the scoring API's five keys, their per-request overrides and their validation.
// The weights actually applied always sum to 1 (docs/scoring.md, "Weights").
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "services/common/errors.h"

namespace rally::scoring {

// The seed's keys, in the order used everywhere (canonical form, docs, errors).
inline constexpr std::array<std::string_view, 5> kWeightKeys = {
    "response_speed", "model_efficiency", "cost_effectiveness", "capability", "recency"};

struct ScoreWeights {
  double response_speed = 0.25;
  double model_efficiency = 0.20;
  double cost_effectiveness = 0.25;
  double capability = 0.20;
  double recency = 0.10;

  // In kWeightKeys order.
  std::array<double, 5> values() const {
    return {response_speed, model_efficiency, cost_effectiveness, capability, recency};
  }
  static ScoreWeights from_values(const std::array<double, 5>& v) { return {v[0], v[1], v[2], v[3], v[4]}; }
  bool operator==(const ScoreWeights&) const = default;
};

// A request's weights: unset keys keep the base configuration's value.
struct WeightOverrides {
  std::optional<double> response_speed;
  std::optional<double> model_efficiency;
  std::optional<double> cost_effectiveness;
  std::optional<double> capability;
  std::optional<double> recency;
};

struct NormalizedWeights {
  ScoreWeights weights;
  // True when the given weights did not sum to 1 (within 1e-9) and were divided by their sum.
  bool normalized = false;
};

// Weights whose sum is within this of 1 are used as given.
inline constexpr double kWeightSumTolerance = 1e-9;

// kInvalidRequest (details: "field" -> the key) for a negative or non-finite weight; kInvalidRequest when all
// five are zero. Otherwise the weights divided by their sum, unless the sum is already 1.
common::Result<NormalizedWeights> normalize_weights(const ScoreWeights& weights);

// The base with each set override in place of its value.
ScoreWeights apply_overrides(const ScoreWeights& base, const WeightOverrides& overrides);

// apply_overrides, then normalize_weights.
common::Result<NormalizedWeights> resolve_weights(const ScoreWeights& base, const WeightOverrides& overrides);

}  // namespace rally::scoring
