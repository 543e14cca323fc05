#include "services/scoring/domain/score_weights.h"

#include <cmath>
#include <string>

namespace rally::scoring {

common::Result<NormalizedWeights> normalize_weights(const ScoreWeights& weights) {
  const std::array<double, 5> values = weights.values();
  double sum = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i]) || values[i] < 0) {
      const std::string key(kWeightKeys[i]);
      return common::Error(common::ErrorCode::kInvalidRequest,
                           "weight " + key + " must be a finite number >= 0", {{"field", key}});
    }
    sum += values[i];
  }
  if (sum == 0) {
    return common::Error(common::ErrorCode::kInvalidRequest, "at least one weight must be greater than 0",
                         {{"field", "weights"}});
  }
  // Five finite values each below DBL_MAX can still overflow their sum.
  if (!std::isfinite(sum)) {
    return common::Error(common::ErrorCode::kInvalidRequest, "the weights' sum is not finite",
                         {{"field", "weights"}});
  }
  if (std::fabs(sum - 1.0) <= kWeightSumTolerance) return NormalizedWeights{weights, false};
  std::array<double, 5> scaled{};
  for (std::size_t i = 0; i < values.size(); ++i) scaled[i] = values[i] / sum;
  return NormalizedWeights{ScoreWeights::from_values(scaled), true};
}

ScoreWeights apply_overrides(const ScoreWeights& base, const WeightOverrides& overrides) {
  ScoreWeights w = base;
  if (overrides.response_speed) w.response_speed = *overrides.response_speed;
  if (overrides.model_efficiency) w.model_efficiency = *overrides.model_efficiency;
  if (overrides.cost_effectiveness) w.cost_effectiveness = *overrides.cost_effectiveness;
  if (overrides.capability) w.capability = *overrides.capability;
  if (overrides.recency) w.recency = *overrides.recency;
  return w;
}

common::Result<NormalizedWeights> resolve_weights(const ScoreWeights& base,
                                                  const WeightOverrides& overrides) {
  return normalize_weights(apply_overrides(base, overrides));
}

}  // namespace rally::scoring
