// Bradley-Terry ratings: the maximum-likelihood strengths behind all recorded battles at once (unlike online
// ELO, independent of the order of the votes), with bootstrap confidence intervals and Chatbot Arena's
// "rank with ties". Pure: the random source is passed in, and a seed gives byte-identical results.
//
// Model: P(i beats j) = s_i / (s_i + s_j), with log-strengths theta_i. A tie or a "both bad" vote counts as
// half a win each way. Shown on the ELO scale: rating_i = anchor + scale * log10(s_i / g), g being the
// geometric mean strength of the rated models. With the defaults (scale 400, anchor 1200) a difference of D
// points means the same expected score as in expected_score() of elo.h, and the ratings average 1200 like the
// zero-sum online ELO (whose mean stays at EloSettings::initial = 1200), so the two columns of the
// leaderboard share a centre. (Chatbot Arena anchors at 1000, its own initial rating; 1200 is this suite's.)
//
// Prior: every model is credited with `prior_ties` virtual drawn games against a reference player of
// log-strength 0. This keeps a model that has only wins (or only losses) finite, makes the fit unique when
// the comparison graph is disconnected (each group is pulled towards the reference, so groups never compared
// with each other end up with their centres near each other), and rates a model without votes at the
// reference, within a few points of the mean. At the optimum the models' expected scores against the
// reference average exactly 1/2, so the reference sits in the middle of the field. Its pull shrinks like
// prior_ties / games: one virtual tie narrows the gap of a 3-1 record from 191 to 165 points, and hardly
// matters at hundreds of votes.
//
// Fit: Newton's method on the (strictly concave) penalised log-likelihood with a backtracking line search,
// from all log-strengths 0; quadratic convergence, usually under 10 iterations.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "services/arena/domain/vote_outcome.h"

namespace rally::arena {

struct BradleyTerrySettings {
  double scale = 400;       // rating points per factor of 10 in strength, as in ELO
  double anchor = 1200;     // the mean rating of the rated models (EloSettings::initial)
  double prior_ties = 1.0;  // virtual drawn games of each model against the reference player; must be > 0
  // Rating points: converged when no rating moved more than this in an iteration. Far below what is shown
  // (0.01), yet above the rounding noise of extreme fits (a model thousands of points from the rest).
  double tolerance = 1e-6;
  std::uint32_t max_iterations = 100;  // Newton iterations; must be >= 1
};

using BradleyTerryRatings = std::map<std::string, double, std::less<>>;

struct BradleyTerryFit {
  BradleyTerryRatings ratings;  // every model in `models` and in the battles
  std::uint32_t iterations = 0;
  bool converged = false;  // false when max_iterations ran out first (the ratings are then the last iterate)
};

// Rates every model in `models` and every model that appears in `battles` (a model without battles is rated
// at the reference, near the anchor). Battles of a model against itself are ignored. Invalid settings throw
// std::invalid_argument.
BradleyTerryFit fit_bradley_terry(const std::vector<std::string>& models, const std::vector<Battle>& battles,
                                  const BradleyTerrySettings& settings = {});

struct BootstrapSettings {
  std::uint32_t rounds = 100;  // 0 gives intervals of zero width at the point estimate
  double confidence = 0.95;    // in (0, 1): the interval runs from quantile (1-c)/2 to quantile (1+c)/2
};

struct RatingEstimate {
  double rating = 0;    // the fit on all battles
  double ci_lower = 0;  // bootstrap confidence interval
  double ci_upper = 0;
};

using RatingEstimates = std::map<std::string, RatingEstimate, std::less<>>;

// The point estimate from all battles plus a percentile-bootstrap interval: each round draws battles.size()
// battles uniformly with replacement (random_draws.h, so the stream of draws is fixed by the seed), refits
// the same set of models, and the interval's ends are the quantile() of the rounds' ratings at (1-c)/2 and
// (1+c)/2 (2.5% and 97.5% by default). A percentile interval of a skewed distribution can miss the point
// estimate; it is then widened to include it, so ci_lower <= rating <= ci_upper always holds. The virtual
// ties are not resampled, so a model without battles gets a narrow interval near the anchor although
// nothing is known about it (build_leaderboard accounts for that in rank_ub). Consumes
// exactly rounds * battles.size() draws' worth of engine outputs (plus rare rejections), nothing when there
// are no battles.
RatingEstimates bootstrap_bradley_terry(const std::vector<std::string>& models,
                                        const std::vector<Battle>& battles,
                                        const BradleyTerrySettings& settings,
                                        const BootstrapSettings& bootstrap, std::mt19937_64& random);

// The `probability` quantile of ascending `sorted_values` by linear interpolation between order statistics
// (Hyndman and Fan's type 7, the default of numpy and pandas, hence of FastChat's notebooks): with
// h = (n - 1) * p, x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)]). Throws
// std::invalid_argument when the list is empty or p is outside [0, 1].
double quantile(const std::vector<double>& sorted_values, double probability);

// Chatbot Arena's rank with ties, by position: 1 + the number of models whose ci_lower is strictly above this
// model's ci_upper. Models whose intervals overlap share a rank; ranks need not be consecutive.
std::vector<std::uint32_t> rank_with_ties(const std::vector<RatingEstimate>& estimates);

}  // namespace rally::arena
