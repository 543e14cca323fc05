// What a vote says about a pair of models, and a recorded vote ("battle") as the rating code sees it: the
// one vocabulary shared by the ELO update, the Bradley-Terry fit and the vote statistics.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rally::arena {

enum class VoteOutcome {
  kModelA,   // model A's answer was better
  kModelB,   // model B's answer was better
  kTie,      // the seed's 'draw', the arena's tie: half a win each way
  kBothBad,  // both answers were bad: rated exactly like a tie, counted separately in the statistics
};

// "model_a", "model_b", "tie", "both_bad": stable names for storage, logs and metric labels.
std::string_view vote_outcome_name(VoteOutcome outcome);
std::optional<VoteOutcome> parse_vote_outcome(std::string_view name);

// Model A's actual score in the rating formulas: 1 for a win, 0 for a loss, 0.5 for a tie or both bad.
double score_of_a(VoteOutcome outcome);

// One recorded vote between two different models.
struct Battle {
  std::string model_a;
  std::string model_b;
  VoteOutcome outcome = VoteOutcome::kTie;
};

}  // namespace rally::arena
