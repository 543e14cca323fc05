#include "services/arena/domain/bradley_terry.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <stdexcept>

#include "services/arena/domain/random_draws.h"

namespace rally::arena {
namespace {

// A battle with the models replaced by their index in the sorted list of rated models.
struct IndexedBattle {
  std::size_t a = 0;
  std::size_t b = 0;
  double score_a = 0;  // 1, 0 or 0.5
};

// The sufficient statistics of a set of battles: games[i*n+j] between i and j, points[i*n+j] that i scored
// against j (wins plus half the ties), so points[i*n+j] + points[j*n+i] == games[i*n+j].
struct Tally {
  explicit Tally(std::size_t models) : n(models), games(models * models, 0.0), points(models * models, 0.0) {}

  void add(const IndexedBattle& battle) {
    games[battle.a * n + battle.b] += 1;
    games[battle.b * n + battle.a] += 1;
    points[battle.a * n + battle.b] += battle.score_a;
    points[battle.b * n + battle.a] += 1 - battle.score_a;
  }

  std::size_t n;
  std::vector<double> games;
  std::vector<double> points;
};

struct Problem {
  std::vector<std::string> names;  // sorted, unique
  std::vector<IndexedBattle> battles;
};

Problem make_problem(const std::vector<std::string>& models, const std::vector<Battle>& battles) {
  Problem problem;
  problem.names = models;
  for (const Battle& battle : battles) {
    problem.names.push_back(battle.model_a);
    problem.names.push_back(battle.model_b);
  }
  std::sort(problem.names.begin(), problem.names.end());
  problem.names.erase(std::unique(problem.names.begin(), problem.names.end()), problem.names.end());
  const auto index_of = [&](const std::string& name) {
    return static_cast<std::size_t>(std::lower_bound(problem.names.begin(), problem.names.end(), name) -
                                    problem.names.begin());
  };
  for (const Battle& battle : battles) {
    if (battle.model_a == battle.model_b) continue;
    problem.battles.push_back(
        IndexedBattle{index_of(battle.model_a), index_of(battle.model_b), score_of_a(battle.outcome)});
  }
  return problem;
}

double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

// log(sigmoid(x)) without overflow or cancellation for large |x|.
double log_sigmoid(double x) {
  return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x));
}

// The penalised log-likelihood being maximised.
double objective(const Tally& tally, const std::vector<double>& theta, double prior_ties) {
  const std::size_t n = tally.n;
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      if (tally.games[i * n + j] == 0) continue;
      const double d = theta[i] - theta[j];
      total += tally.points[i * n + j] * log_sigmoid(d) + tally.points[j * n + i] * log_sigmoid(-d);
    }
    total += prior_ties * 0.5 * (log_sigmoid(theta[i]) + log_sigmoid(-theta[i]));
  }
  return total;
}

// Solves matrix * x = rhs for a symmetric positive definite n x n matrix (Cholesky), in place.
void solve_positive_definite(std::vector<double>& matrix, std::vector<double>& rhs) {
  const std::size_t n = rhs.size();
  for (std::size_t j = 0; j < n; ++j) {
    double diagonal = matrix[j * n + j];
    for (std::size_t k = 0; k < j; ++k) diagonal -= matrix[j * n + k] * matrix[j * n + k];
    // The prior makes the matrix positive definite in exact arithmetic; the ridge added by the caller keeps
    // it so after rounding. A pivot that still fails is a broken invariant.
    if (!(diagonal > 0)) throw std::logic_error("Bradley-Terry: Hessian is not positive definite");
    const double pivot = std::sqrt(diagonal);
    matrix[j * n + j] = pivot;
    for (std::size_t i = j + 1; i < n; ++i) {
      double value = matrix[i * n + j];
      for (std::size_t k = 0; k < j; ++k) value -= matrix[i * n + k] * matrix[j * n + k];
      matrix[i * n + j] = value / pivot;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {  // L y = rhs
    double value = rhs[i];
    for (std::size_t k = 0; k < i; ++k) value -= matrix[i * n + k] * rhs[k];
    rhs[i] = value / matrix[i * n + i];
  }
  for (std::size_t i = n; i-- > 0;) {  // L^T x = y
    double value = rhs[i];
    for (std::size_t k = i + 1; k < n; ++k) value -= matrix[k * n + i] * rhs[k];
    rhs[i] = value / matrix[i * n + i];
  }
}

struct Solution {
  std::vector<double> theta;
  std::uint32_t iterations = 0;
  bool converged = false;
};

Solution maximise(const Tally& tally, const BradleyTerrySettings& settings) {
  const std::size_t n = tally.n;
  const double points_per_nat = settings.scale / std::numbers::ln10;
  Solution solution;
  solution.theta.assign(n, 0.0);
  if (n == 0) {
    solution.converged = true;
    return solution;
  }
  std::vector<double> gradient(n);
  std::vector<double> curvature(n * n);  // the negated Hessian
  std::vector<double> candidate(n);
  double current = objective(tally, solution.theta, settings.prior_ties);
  while (solution.iterations < settings.max_iterations) {
    ++solution.iterations;
    std::fill(gradient.begin(), gradient.end(), 0.0);
    std::fill(curvature.begin(), curvature.end(), 0.0);
    const std::vector<double>& theta = solution.theta;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) {
        const double games = tally.games[i * n + j];
        if (games == 0) continue;
        const double p = sigmoid(theta[i] - theta[j]);
        const double surplus = tally.points[i * n + j] - games * p;
        const double weight = games * p * (1 - p);
        gradient[i] += surplus;
        gradient[j] -= surplus;
        curvature[i * n + i] += weight;
        curvature[j * n + j] += weight;
        curvature[i * n + j] -= weight;
        curvature[j * n + i] -= weight;
      }
      const double q = sigmoid(theta[i]);
      gradient[i] += settings.prior_ties * (0.5 - q);
      curvature[i * n + i] += settings.prior_ties * q * (1 - q);
    }
    double largest_diagonal = 0;
    for (std::size_t i = 0; i < n; ++i) largest_diagonal = std::max(largest_diagonal, curvature[i * n + i]);
    for (std::size_t i = 0; i < n; ++i) curvature[i * n + i] += 1e-12 * std::max(1.0, largest_diagonal);

    std::vector<double> step = gradient;
    solve_positive_definite(curvature, step);
    double slope = 0;
    for (std::size_t i = 0; i < n; ++i) slope += gradient[i] * step[i];

    // Backtracking (Armijo): any positive definite system gives an ascent direction, so a small enough step
    // always improves the objective unless rounding hides the improvement, i.e. the optimum is reached.
    double length = 1;
    bool improved = false;
    double next = current;
    while (length > 1e-10) {
      for (std::size_t i = 0; i < n; ++i) candidate[i] = theta[i] + length * step[i];
      next = objective(tally, candidate, settings.prior_ties);
      if (next >= current + 1e-4 * length * slope) {
        improved = true;
        break;
      }
      length /= 2;
    }
    // Convergence is judged on the ratings as shown, i.e. after centring: the common level is fixed only by
    // the prior, so with a tiny prior it is poorly conditioned and may wander by rounding noise forever.
    double mean_step = 0;
    for (std::size_t i = 0; i < n; ++i) mean_step += step[i];
    mean_step /= static_cast<double>(n);
    double largest_move = 0;
    for (std::size_t i = 0; i < n; ++i) {
      largest_move = std::max(largest_move, std::abs(length * (step[i] - mean_step)));
    }
    if (!improved) {
      solution.converged = true;  // no representable improvement left
      break;
    }
    solution.theta.swap(candidate);
    current = next;
    if (largest_move * points_per_nat < settings.tolerance) {
      solution.converged = true;
      break;
    }
  }
  return solution;
}

void check_settings(const BradleyTerrySettings& settings) {
  if (!(settings.prior_ties > 0) || !std::isfinite(settings.prior_ties)) {
    throw std::invalid_argument("BradleyTerrySettings::prior_ties must be a finite number > 0");
  }
  if (!(settings.scale > 0) || !std::isfinite(settings.scale)) {
    throw std::invalid_argument("BradleyTerrySettings::scale must be a finite number > 0");
  }
  if (!std::isfinite(settings.anchor))
    throw std::invalid_argument("BradleyTerrySettings::anchor must be finite");
  if (!(settings.tolerance > 0)) throw std::invalid_argument("BradleyTerrySettings::tolerance must be > 0");
  if (settings.max_iterations < 1) {
    throw std::invalid_argument("BradleyTerrySettings::max_iterations must be at least 1");
  }
}

// Ratings on the ELO scale, centred on the anchor.
std::vector<double> to_ratings(const std::vector<double>& theta, const BradleyTerrySettings& settings) {
  double mean = 0;
  for (const double value : theta) mean += value;
  if (!theta.empty()) mean /= static_cast<double>(theta.size());
  std::vector<double> ratings(theta.size());
  for (std::size_t i = 0; i < theta.size(); ++i) {
    ratings[i] = settings.anchor + settings.scale / std::numbers::ln10 * (theta[i] - mean);
  }
  return ratings;
}

Tally tally_all(const Problem& problem) {
  Tally tally(problem.names.size());
  for (const IndexedBattle& battle : problem.battles) tally.add(battle);
  return tally;
}

}  // namespace

BradleyTerryFit fit_bradley_terry(const std::vector<std::string>& models, const std::vector<Battle>& battles,
                                  const BradleyTerrySettings& settings) {
  check_settings(settings);
  const Problem problem = make_problem(models, battles);
  const Solution solution = maximise(tally_all(problem), settings);
  const std::vector<double> ratings = to_ratings(solution.theta, settings);
  BradleyTerryFit fit;
  for (std::size_t i = 0; i < problem.names.size(); ++i) fit.ratings.emplace(problem.names[i], ratings[i]);
  fit.iterations = solution.iterations;
  fit.converged = solution.converged;
  return fit;
}

RatingEstimates bootstrap_bradley_terry(const std::vector<std::string>& models,
                                        const std::vector<Battle>& battles,
                                        const BradleyTerrySettings& settings,
                                        const BootstrapSettings& bootstrap, std::mt19937_64& random) {
  check_settings(settings);
  if (!(bootstrap.confidence > 0 && bootstrap.confidence < 1)) {
    throw std::invalid_argument("BootstrapSettings::confidence must be in (0, 1)");
  }
  const Problem problem = make_problem(models, battles);
  const std::size_t n = problem.names.size();
  const std::vector<double> point = to_ratings(maximise(tally_all(problem), settings).theta, settings);

  std::vector<std::vector<double>> samples(n);
  const std::size_t count = problem.battles.size();
  if (count > 0) {
    for (auto& model_samples : samples) model_samples.reserve(bootstrap.rounds);
    for (std::uint32_t round = 0; round < bootstrap.rounds; ++round) {
      Tally tally(n);
      for (std::size_t k = 0; k < count; ++k) tally.add(problem.battles[uniform_below(count, random)]);
      const std::vector<double> ratings = to_ratings(maximise(tally, settings).theta, settings);
      for (std::size_t i = 0; i < n; ++i) samples[i].push_back(ratings[i]);
    }
  }

  const double tail = (1 - bootstrap.confidence) / 2;
  RatingEstimates estimates;
  for (std::size_t i = 0; i < n; ++i) {
    RatingEstimate estimate{.rating = point[i], .ci_lower = point[i], .ci_upper = point[i]};
    if (!samples[i].empty()) {
      std::sort(samples[i].begin(), samples[i].end());
      estimate.ci_lower = std::min(point[i], quantile(samples[i], tail));
      estimate.ci_upper = std::max(point[i], quantile(samples[i], 1 - tail));
    }
    estimates.emplace(problem.names[i], estimate);
  }
  return estimates;
}

double quantile(const std::vector<double>& sorted_values, double probability) {
  if (sorted_values.empty()) throw std::invalid_argument("quantile of an empty list");
  if (!(probability >= 0 && probability <= 1))
    throw std::invalid_argument("quantile: probability not in [0, 1]");
  const double h = static_cast<double>(sorted_values.size() - 1) * probability;
  const auto low = static_cast<std::size_t>(std::floor(h));
  if (low + 1 >= sorted_values.size()) return sorted_values.back();
  const double fraction = h - static_cast<double>(low);
  return sorted_values[low] + fraction * (sorted_values[low + 1] - sorted_values[low]);
}

std::vector<std::uint32_t> rank_with_ties(const std::vector<RatingEstimate>& estimates) {
  std::vector<std::uint32_t> ranks(estimates.size(), 1);
  for (std::size_t i = 0; i < estimates.size(); ++i) {
    for (const RatingEstimate& other : estimates) {
      if (other.ci_lower > estimates[i].ci_upper) ++ranks[i];
    }
  }
  return ranks;
}

}  // namespace rally::arena
