// Online ELO, as the seed's leaderboard score: K = 32, initial rating 1200, base 10, scale 400. Unlike the
// seed, which updated B from A's already-updated rating (so the ratings' sum drifted), both new ratings come
// from the two pre-vote ratings and the update is zero-sum: whatever A gains, B loses. Pure arithmetic; the
// service applies an update and stores the vote in one transaction.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "services/arena/domain/vote_outcome.h"

namespace rally::arena {

struct EloSettings {
  double k = 32;          // the largest change one vote can make
  double initial = 1200;  // the rating of a model that has no votes yet
};

// A's expected score against B: 1 / (1 + 10^((rb - ra) / 400)).
double expected_score(double rating_a, double rating_b);

struct EloUpdate {
  double new_a = 0;
  double new_b = 0;
  // What A gained and B lost: K * (Sa - Ea), computed once from both pre-vote ratings.
  double delta = 0;
};

// new_a = ra + delta and new_b = rb - delta, so new_a + new_b equals ra + rb up to the rounding of those two
// additions (at most one unit in the last place of each rating, about 2e-13 near 1200). Over many votes the
// sum of all ratings therefore stays at models * initial within a tiny, random-walk rounding error.
EloUpdate apply_vote(double rating_a, double rating_b, VoteOutcome outcome, const EloSettings& settings = {});

using EloRatings = std::map<std::string, double, std::less<>>;

// The ratings after applying `votes` in order to `initial`, with apply_vote: what the service compares with
// its stored ratings to check them against the votes table. A model missing from `initial` starts at
// settings.initial. A vote of a model against itself changes nothing (validation never lets one through).
EloRatings replay(EloRatings initial, const std::vector<Battle>& votes, const EloSettings& settings = {});

}  // namespace rally::arena
