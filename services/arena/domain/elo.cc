#include "services/arena/domain/elo.h"

#include <cmath>

namespace rally::arena {

double expected_score(double rating_a, double rating_b) {
  return 1.0 / (1.0 + std::pow(10.0, (rating_b - rating_a) / 400.0));
}

EloUpdate apply_vote(double rating_a, double rating_b, VoteOutcome outcome, const EloSettings& settings) {
  const double delta = settings.k * (score_of_a(outcome) - expected_score(rating_a, rating_b));
  return EloUpdate{.new_a = rating_a + delta, .new_b = rating_b - delta, .delta = delta};
}

EloRatings replay(EloRatings initial, const std::vector<Battle>& votes, const EloSettings& settings) {
  EloRatings ratings = std::move(initial);
  for (const Battle& vote : votes) {
    if (vote.model_a == vote.model_b) continue;
    double& a = ratings.try_emplace(vote.model_a, settings.initial).first->second;
    double& b = ratings.try_emplace(vote.model_b, settings.initial).first->second;
    const EloUpdate update = apply_vote(a, b, vote.outcome, settings);
    a = update.new_a;
    b = update.new_b;
  }
  return ratings;
}

}  // namespace rally::arena
