// The domain's values as rally.v1 messages and back: what the service stores and answers is the message,
// what it computes with is the domain struct. Pure code.
#pragma once

#include <chrono>

#include "rally/v1/scoring.pb.h"
#include "services/scoring/domain/score_components.h"
#include "services/scoring/domain/score_weights.h"

namespace rally::scoring {

// The inputs with the reference time the score was computed against.
v1::ScoreInputs to_message(const ModelInputs& inputs, std::chrono::sys_seconds reference);
ModelInputs inputs_of(const v1::ScoreInputs& message);
std::chrono::sys_seconds reference_of(const v1::ScoreInputs& message);

// Every key set.
v1::ScoreWeights to_message(const ScoreWeights& weights);
// Unset keys read as 0 (a stored or configured set always has all five).
ScoreWeights weights_of(const v1::ScoreWeights& message);
// Only the keys the message sets.
WeightOverrides overrides_of(const v1::ScoreWeights& message);

v1::ScoreComponents to_message(const ScoreComponents& components);
ScoreComponents components_of(const v1::ScoreComponents& message);

}  // namespace rally::scoring
