// The leaderboard as the service answers it: the seed's rows (rank, name, ELO score, price, price_per_score)
// plus vote counts and the Bradley-Terry rating with its confidence interval and rank with ties. Pure: it
// combines numbers the service already has (stored ratings and counts, the last bootstrap).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "services/arena/domain/bradley_terry.h"
#include "services/arena/domain/vote_outcome.h"

namespace rally::arena {

struct VoteCounts {
  std::uint64_t votes = 0;  // every vote the model took part in: wins + losses + ties + both_bad
  std::uint64_t wins = 0;
  std::uint64_t losses = 0;
  std::uint64_t ties = 0;      // draws only
  std::uint64_t both_bad = 0;  // rated as draws, counted apart

  bool operator==(const VoteCounts&) const = default;
};

// Per-model counts over `battles` (self battles ignored), from each model's point of view.
std::map<std::string, VoteCounts, std::less<>> count_votes(const std::vector<Battle>& battles);

// What the service knows about one model; names are unique.
struct ModelStanding {
  std::string name;
  double score = 0;  // online ELO rating
  double price = 0;  // USD per 1K tokens, from the catalog
  VoteCounts counts;
};

struct LeaderboardRow {
  std::uint32_t rank = 0;  // 1-based position by score, see build_leaderboard
  std::string name;
  double score = 0;
  double price = 0;
  double price_per_score = 0;
  VoteCounts counts;
  double bt_rating = 0;
  double ci_lower = 0;
  double ci_upper = 0;
  std::uint32_t rank_ub = 0;  // rank_with_ties over the rows of this leaderboard
};

struct LeaderboardSnapshot {
  std::vector<LeaderboardRow> rows;  // best first
};

// The seed's definition, kept for compatibility: score / price (so, despite the name, score per dollar),
// and 0 when the price is 0 (free models would otherwise divide by zero).
double price_per_score(double score, double price);

// Rows ordered by ELO score, highest first; equal scores are ordered by name (byte-wise ascending) so the
// output never depends on input order. `rank` is the 1-based position in that order (the seed's rank:
// equal scores still get distinct ranks). The Bradley-Terry columns come from `estimates`; a model without an
// estimate shows `unrated_rating` (the anchor, about where the fit puts a model without votes) as rating and
// as both interval ends. rank_ub is rank_with_ties over the rows shown, except that a model without votes
// (counts.votes == 0) is treated as unknown: for ranking its interval is unbounded, so its rank_ub is 1
// (the best rank the evidence allows, which is any) and it never pushes another model down.
LeaderboardSnapshot build_leaderboard(std::vector<ModelStanding> standings, const RatingEstimates& estimates,
                                      double unrated_rating = 1200);

}  // namespace rally::arena
