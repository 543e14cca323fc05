#include "services/arena/domain/pair_sampler.h"

#include <cmath>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "services/arena/domain/random_draws.h"

namespace rally::arena {
namespace {

// Index into `eligible` drawn with probability weight / total, skipping `excluded`.
std::size_t draw_by_weight(const std::vector<const PairCandidate*>& eligible, std::size_t excluded,
                           std::mt19937_64& random) {
  double total = 0;
  for (std::size_t i = 0; i < eligible.size(); ++i) {
    if (i != excluded) total += eligible[i]->sampling_weight;
  }
  const double target = uniform_unit(random) * total;
  double cumulative = 0;
  std::size_t last = eligible.size();
  for (std::size_t i = 0; i < eligible.size(); ++i) {
    if (i == excluded) continue;
    cumulative += eligible[i]->sampling_weight;
    last = i;
    if (target < cumulative) return i;
  }
  return last;  // target == total after rounding: the last candidate's share
}

}  // namespace

bool is_eligible(const PairCandidate& candidate) {
  return candidate.enabled && !candidate.cooled_down && std::isfinite(candidate.sampling_weight) &&
         candidate.sampling_weight > 0;
}

common::Result<ModelPair> sample_pair(const std::vector<PairCandidate>& candidates, std::mt19937_64& random) {
  std::vector<const PairCandidate*> eligible;
  std::set<std::string_view> seen;
  for (const PairCandidate& candidate : candidates) {
    if (!seen.insert(candidate.name).second) continue;
    if (is_eligible(candidate)) eligible.push_back(&candidate);
  }
  if (eligible.size() < 2) {
    std::string names;
    for (const PairCandidate* candidate : eligible) names += (names.empty() ? "" : ",") + candidate->name;
    return common::Error(common::ErrorCode::kServiceUnavailable,
                         "Fewer than two models are available for a comparison (eligible: " +
                             std::to_string(eligible.size()) + " of " + std::to_string(seen.size()) +
                             "; a model must be enabled, have a sampling weight above 0 and not be cooling "
                             "down)",
                         {{"eligible_models", names}});
  }
  const std::size_t first = draw_by_weight(eligible, eligible.size(), random);
  const std::size_t second = draw_by_weight(eligible, first, random);
  ModelPair pair{eligible[first]->name, eligible[second]->name};
  if (fair_coin(random)) std::swap(pair.model_a, pair.model_b);
  return pair;
}

}  // namespace rally::arena
