#include "services/arena/domain/leaderboard.h"

#include <algorithm>
#include <limits>

namespace rally::arena {

std::map<std::string, VoteCounts, std::less<>> count_votes(const std::vector<Battle>& battles) {
  std::map<std::string, VoteCounts, std::less<>> counts;
  for (const Battle& battle : battles) {
    if (battle.model_a == battle.model_b) continue;
    VoteCounts& a = counts[battle.model_a];
    VoteCounts& b = counts[battle.model_b];
    ++a.votes;
    ++b.votes;
    switch (battle.outcome) {
      case VoteOutcome::kModelA:
        ++a.wins;
        ++b.losses;
        break;
      case VoteOutcome::kModelB:
        ++a.losses;
        ++b.wins;
        break;
      case VoteOutcome::kTie:
        ++a.ties;
        ++b.ties;
        break;
      case VoteOutcome::kBothBad:
        ++a.both_bad;
        ++b.both_bad;
        break;
    }
  }
  return counts;
}

double price_per_score(double score, double price) {
  return price == 0 ? 0.0 : score / price;
}

LeaderboardSnapshot build_leaderboard(std::vector<ModelStanding> standings, const RatingEstimates& estimates,
                                      double unrated_rating) {
  std::sort(standings.begin(), standings.end(), [](const ModelStanding& left, const ModelStanding& right) {
    if (left.score != right.score) return left.score > right.score;
    return left.name < right.name;
  });
  LeaderboardSnapshot snapshot;
  snapshot.rows.reserve(standings.size());
  std::vector<RatingEstimate> intervals;
  intervals.reserve(standings.size());
  for (ModelStanding& standing : standings) {
    RatingEstimate estimate{.rating = unrated_rating, .ci_lower = unrated_rating, .ci_upper = unrated_rating};
    if (const auto it = estimates.find(standing.name); it != estimates.end()) estimate = it->second;
    if (standing.counts.votes == 0) {
      constexpr double kInfinity = std::numeric_limits<double>::infinity();
      intervals.push_back({.rating = estimate.rating, .ci_lower = -kInfinity, .ci_upper = kInfinity});
    } else {
      intervals.push_back(estimate);
    }
    LeaderboardRow row;
    row.rank = static_cast<std::uint32_t>(snapshot.rows.size() + 1);
    row.price_per_score = price_per_score(standing.score, standing.price);
    row.name = std::move(standing.name);
    row.score = standing.score;
    row.price = standing.price;
    row.counts = standing.counts;
    row.bt_rating = estimate.rating;
    row.ci_lower = estimate.ci_lower;
    row.ci_upper = estimate.ci_upper;
    snapshot.rows.push_back(std::move(row));
  }
  const std::vector<std::uint32_t> ranks = rank_with_ties(intervals);
  for (std::size_t i = 0; i < ranks.size(); ++i) snapshot.rows[i].rank_ub = ranks[i];
  return snapshot;
}

}  // namespace rally::arena
