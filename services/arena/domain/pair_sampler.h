// Drawing the two models of a comparison (the seed's /random_models, the arena's RandomPair and battles):
// two different models, each chosen with probability proportional to its catalog sampling weight, shown in
// random left/right order. Pure: the random source is passed in (random_draws.h), so a seed fixes the pairs.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "services/common/errors.h"

namespace rally::arena {

// A model as the sampler sees it; the service fills these from the catalog (llm-proxy's ListModels) and the
// models it currently considers unavailable.
struct PairCandidate {
  std::string name;
  double sampling_weight = 1.0;  // relative; 0 (or negative, or not finite) means never drawn
  bool enabled = true;
  bool cooled_down = false;  // its provider is failing: not offered until it recovers
};

struct ModelPair {
  std::string model_a;  // shown on the left
  std::string model_b;  // shown on the right
};

// True for candidates that can be drawn: enabled, not cooled down, with a finite weight > 0.
bool is_eligible(const PairCandidate& candidate);

// The first model is drawn by weight among the eligible candidates, the second by weight among the others,
// then a fair coin decides which one is model_a. A name listed twice counts once (its first entry).
// Fewer than two eligible models is SERVICE_UNAVAILABLE (503): the request is fine, but the arena cannot
// serve it until the catalog or the providers change, which is what 503 tells a client (retry later). The
// message counts the eligible models; details carry "eligible_models" (comma separated).
common::Result<ModelPair> sample_pair(const std::vector<PairCandidate>& candidates, std::mt19937_64& random);

}  // namespace rally::arena
