// Validation of the seed's POST /vote body {modelA, modelB, result}, with the seed's errors: 400
// INVALID_REQUEST "Invalid input" and 404 MODEL_NOT_FOUND "Model not found". Pure: the gateway parses the
// JSON (a field that is absent, null or not a string arrives as nullopt) and the service passes the names
// of the models it knows.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "services/arena/domain/vote_outcome.h"
#include "services/common/errors.h"

namespace rally::arena {

struct VoteInput {
  std::optional<std::string> model_a;
  std::optional<std::string> model_b;
  std::optional<std::string> result;  // model_a's name, model_b's name or "draw"
};

// The vote the input asks for: result == modelA is kModelA, == modelB is kModelB, "draw" is kTie.
struct ValidVote {
  std::string model_a;
  std::string model_b;
  VoteOutcome outcome = VoteOutcome::kTie;
};

// Checks, in this order, each failing with exactly the seed's message:
//   400 INVALID_REQUEST "Invalid input": a field is missing or empty (details: field = "modelA", "modelB"
//       or "result"; the first missing one), modelA == modelB, or result is none of modelA, modelB, "draw"
//       (matched exactly, case included; "draw" means a draw even if a model had that name);
//   404 MODEL_NOT_FOUND "Model not found": modelA or modelB is not in `known_models` (details: model = the
//       first unknown name).
// Input errors come first, so a malformed vote naming unknown models is a 400, like a malformed one naming
// known models.
common::Result<ValidVote> validate_vote(const VoteInput& input, const std::vector<std::string>& known_models);

}  // namespace rally::arena
