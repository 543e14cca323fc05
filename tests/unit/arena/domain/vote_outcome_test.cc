#include "services/arena/domain/vote_outcome.h"

#include <catch2/catch.hpp>

namespace rally::arena {
namespace {

TEST_CASE("Vote outcomes have stable names that parse back") {
  for (const VoteOutcome outcome :
       {VoteOutcome::kModelA, VoteOutcome::kModelB, VoteOutcome::kTie, VoteOutcome::kBothBad}) {
    CHECK(parse_vote_outcome(vote_outcome_name(outcome)) == outcome);
  }
  CHECK(vote_outcome_name(VoteOutcome::kModelA) == "model_a");
  CHECK(vote_outcome_name(VoteOutcome::kModelB) == "model_b");
  CHECK(vote_outcome_name(VoteOutcome::kTie) == "tie");
  CHECK(vote_outcome_name(VoteOutcome::kBothBad) == "both_bad");
  CHECK_FALSE(parse_vote_outcome("draw"));
  CHECK_FALSE(parse_vote_outcome("Tie"));
  CHECK_FALSE(parse_vote_outcome(""));
}

TEST_CASE("A win scores 1, a loss 0, a tie and both bad half") {
  CHECK(score_of_a(VoteOutcome::kModelA) == 1);
  CHECK(score_of_a(VoteOutcome::kModelB) == 0);
  CHECK(score_of_a(VoteOutcome::kTie) == 0.5);
  CHECK(score_of_a(VoteOutcome::kBothBad) == 0.5);
}

}  // namespace
}  // namespace rally::arena
