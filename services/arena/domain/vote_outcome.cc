#include "services/arena/domain/vote_outcome.h"

namespace rally::arena {

std::string_view vote_outcome_name(VoteOutcome outcome) {
  switch (outcome) {
    case VoteOutcome::kModelA:
      return "model_a";
    case VoteOutcome::kModelB:
      return "model_b";
    case VoteOutcome::kTie:
      return "tie";
    case VoteOutcome::kBothBad:
      return "both_bad";
  }
  return "unknown";
}

std::optional<VoteOutcome> parse_vote_outcome(std::string_view name) {
  for (const VoteOutcome outcome :
       {VoteOutcome::kModelA, VoteOutcome::kModelB, VoteOutcome::kTie, VoteOutcome::kBothBad}) {
    if (vote_outcome_name(outcome) == name) return outcome;
  }
  return std::nullopt;
}

double score_of_a(VoteOutcome outcome) {
  switch (outcome) {
    case VoteOutcome::kModelA:
      return 1.0;
    case VoteOutcome::kModelB:
      return 0.0;
    case VoteOutcome::kTie:
    case VoteOutcome::kBothBad:
      return 0.5;
  }
  return 0.5;
}

}  // namespace rally::arena
