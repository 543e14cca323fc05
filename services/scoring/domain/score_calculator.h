// The overall score: the weighted sum of the five components, and the calculation hash that lets the service
// recompute a stored score and detect tampering (POST /scoring/validate). Same inputs, weights and reference
// time give the same result and the same hash, byte for byte.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "services/scoring/domain/score_components.h"
#include "services/scoring/domain/score_weights.h"

namespace rally::scoring {

// Names the formulas of score_components.h and the canonical form below; bump it when either changes.
inline constexpr std::string_view kAlgorithmVersion = "rally-scoring/1";

// sum(weight_i * component_i) clamped to [0, 10] (NaN -> 0). `weights` should be normalised.
double overall_score(const ScoreComponents& components, const ScoreWeights& weights);

// The byte-stable text the hash covers (docs/scoring.md, "Calculation hash"): one "key=value\n" line per
// field in a fixed order, starting "canonical=rally-score-canonical/1" and "algorithm_version=...". Doubles
// are the shortest text that reads back as the same double (std::to_chars), a missing optional is "~",
// booleans are 0/1, modality lists are sorted, deduplicated and comma-joined (empty names dropped), strings
// are percent-encoded outside [A-Za-z0-9._:/+-], the weights are the ones applied (normalised) and the
// reference time is Unix seconds.
std::string canonical_form(const ModelInputs& inputs, const ScoreWeights& weights,
                           std::chrono::sys_seconds reference,
                           std::string_view algorithm_version = kAlgorithmVersion);

// Lower-case hex SHA-256 of canonical_form.
std::string calculation_hash(const ModelInputs& inputs, const ScoreWeights& weights,
                             std::chrono::sys_seconds reference,
                             std::string_view algorithm_version = kAlgorithmVersion);

struct ScoreResult {
  ScoreComponents components;          // full precision
  double overall = 0;                  // full precision, from the unrounded components, clamped to [0, 10]
  ScoreComponents rounded_components;  // round_to_tenth of each (what the API shows)
  double rounded_overall = 0;          // round_to_tenth(overall)
  std::string score_suffix;            // "(SC:8.6)"
  ComponentFlags flags;
  ScoreWeights weights;  // applied (normalised)
  bool weights_normalized = false;
  std::string algorithm_version;
  std::string calculation_hash;
};

// Components, overall, rounding, suffix and hash in one call.
ScoreResult calculate_score(const ModelInputs& inputs, const NormalizedWeights& weights,
                            std::chrono::sys_seconds reference);

// The rounded components as the API shows them, each rounded with round_to_tenth.
ScoreComponents round_components(const ScoreComponents& components);

}  // namespace rally::scoring
