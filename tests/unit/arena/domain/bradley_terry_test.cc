#include "services/arena/domain/bradley_terry.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "services/arena/domain/random_draws.h"

namespace rally::arena {
namespace {

// 400 * log10(3): the rating gap of a 3-1 record.
constexpr double kThreeToOne = 190.84850188786498;

// A prior so weak that the fit is the plain maximum-likelihood estimate to well under 0.001 points.
const BradleyTerrySettings kPlainMle{.prior_ties = 1e-6};

void add(std::vector<Battle>& battles, const std::string& a, const std::string& b, int wins_a, int wins_b,
         int ties = 0, int both_bad = 0) {
  for (int i = 0; i < wins_a; ++i) battles.push_back({a, b, VoteOutcome::kModelA});
  for (int i = 0; i < wins_b; ++i) battles.push_back({a, b, VoteOutcome::kModelB});
  for (int i = 0; i < ties; ++i) battles.push_back({a, b, VoteOutcome::kTie});
  for (int i = 0; i < both_bad; ++i) battles.push_back({a, b, VoteOutcome::kBothBad});
}

double mean_of(const BradleyTerryRatings& ratings) {
  double sum = 0;
  for (const auto& [name, rating] : ratings) sum += rating;
  return sum / static_cast<double>(ratings.size());
}

TEST_CASE("A 3-1 record is a strength ratio of 3, 400 log10(3) points, centred on 1200") {
  std::vector<Battle> battles;
  add(battles, "a", "b", 3, 1);
  const BradleyTerryFit fit = fit_bradley_terry({}, battles, kPlainMle);
  CHECK(fit.converged);
  CHECK(fit.iterations < 30);
  REQUIRE(fit.ratings.size() == 2);
  CHECK(fit.ratings.at("a") - fit.ratings.at("b") == Approx(kThreeToOne).margin(1e-3));
  CHECK(fit.ratings.at("a") == Approx(1200 + kThreeToOne / 2).margin(1e-3));
  CHECK(mean_of(fit.ratings) == Approx(1200).margin(1e-9));
  // Which side a battle lists a model on does not matter.
  std::vector<Battle> swapped;
  add(swapped, "b", "a", 1, 3);
  const BradleyTerryFit same = fit_bradley_terry({}, swapped, kPlainMle);
  CHECK(same.ratings.at("a") == Approx(fit.ratings.at("a")).margin(1e-9));
}

TEST_CASE("The default prior of one virtual tie shrinks a short record towards the mean") {
  std::vector<Battle> battles;
  add(battles, "a", "b", 3, 1);
  const BradleyTerryFit fit = fit_bradley_terry({}, battles);
  const double gap = fit.ratings.at("a") - fit.ratings.at("b");
  CHECK(gap < kThreeToOne - 20);
  CHECK(gap > kThreeToOne - 35);
  // With a hundred times the evidence the prior hardly matters.
  std::vector<Battle> many;
  add(many, "a", "b", 300, 100);
  const BradleyTerryFit long_record = fit_bradley_terry({}, many);
  CHECK(long_record.ratings.at("a") - long_record.ratings.at("b") == Approx(kThreeToOne).margin(0.5));
}

TEST_CASE("Three models with consistent records: strengths 9, 3 and 1") {
  std::vector<Battle> battles;
  add(battles, "a", "b", 3, 1);
  add(battles, "b", "c", 3, 1);
  add(battles, "a", "c", 9, 1);
  const BradleyTerryFit fit = fit_bradley_terry({}, battles, kPlainMle);
  CHECK(fit.converged);
  CHECK(fit.ratings.at("a") == Approx(1200 + kThreeToOne).margin(1e-3));
  CHECK(fit.ratings.at("b") == Approx(1200).margin(1e-3));
  CHECK(fit.ratings.at("c") == Approx(1200 - kThreeToOne).margin(1e-3));
}

TEST_CASE("A three-model cycle rates everyone equally") {
  std::vector<Battle> battles;
  add(battles, "a", "b", 2, 1);
  add(battles, "b", "c", 2, 1);
  add(battles, "c", "a", 2, 1);
  for (const BradleyTerrySettings& settings : {kPlainMle, BradleyTerrySettings{}}) {
    const BradleyTerryFit fit = fit_bradley_terry({}, battles, settings);
    CHECK(fit.converged);
    for (const auto& [name, rating] : fit.ratings) CHECK(rating == Approx(1200).margin(1e-9));
  }
}

TEST_CASE("Ties and both-bad votes count half a win each way") {
  std::vector<Battle> wins_only;
  add(wins_only, "a", "b", 3, 1);
  std::vector<Battle> with_ties;
  add(with_ties, "a", "b", 2, 0, 2);
  std::vector<Battle> with_both_bad;
  add(with_both_bad, "a", "b", 2, 0, 0, 2);
  const double expected = fit_bradley_terry({}, wins_only).ratings.at("a");
  CHECK(fit_bradley_terry({}, with_ties).ratings.at("a") == Approx(expected).margin(1e-9));
  CHECK(fit_bradley_terry({}, with_both_bad).ratings.at("a") == Approx(expected).margin(1e-9));
  std::vector<Battle> all_ties;
  add(all_ties, "a", "b", 0, 0, 5, 5);
  for (const auto& [name, rating] : fit_bradley_terry({}, all_ties).ratings) {
    CHECK(rating == Approx(1200).margin(1e-9));
  }
}

TEST_CASE("A model with only wins or only losses stays finite") {
  std::vector<Battle> battles;
  add(battles, "winner", "b", 10, 0);
  add(battles, "b", "loser", 3, 0);
  add(battles, "winner", "loser", 5, 0);
  for (const BradleyTerrySettings& settings : {kPlainMle, BradleyTerrySettings{}}) {
    const BradleyTerryFit fit = fit_bradley_terry({}, battles, settings);
    CHECK(fit.converged);
    for (const auto& [name, rating] : fit.ratings) REQUIRE(std::isfinite(rating));
    CHECK(fit.ratings.at("winner") > fit.ratings.at("b"));
    CHECK(fit.ratings.at("b") > fit.ratings.at("loser"));
    CHECK(mean_of(fit.ratings) == Approx(1200).margin(1e-9));
  }
  // With the default prior the gap stays moderate: a few hundred points, not thousands.
  const BradleyTerryFit fit = fit_bradley_terry({}, battles);
  CHECK(fit.ratings.at("winner") - fit.ratings.at("loser") < 1000);
}

TEST_CASE("Groups never compared with each other are rated within each group and share the centre") {
  std::vector<Battle> battles;
  add(battles, "a", "b", 3, 1);
  add(battles, "c", "d", 1, 3);
  const BradleyTerryFit fit = fit_bradley_terry({"lonely"}, battles, kPlainMle);
  CHECK(fit.converged);
  REQUIRE(fit.ratings.size() == 5);
  CHECK(fit.ratings.at("a") - fit.ratings.at("b") == Approx(kThreeToOne).margin(1e-3));
  CHECK(fit.ratings.at("d") - fit.ratings.at("c") == Approx(kThreeToOne).margin(1e-3));
  CHECK((fit.ratings.at("a") + fit.ratings.at("b")) / 2 == Approx(1200).margin(1e-6));
  CHECK((fit.ratings.at("c") + fit.ratings.at("d")) / 2 == Approx(1200).margin(1e-6));
  CHECK(fit.ratings.at("lonely") == Approx(1200).margin(1e-6));
}

TEST_CASE("Models without battles get the anchor and self battles are ignored") {
  const BradleyTerryFit empty = fit_bradley_terry({"x", "y"}, {});
  CHECK(empty.converged);
  CHECK(empty.ratings == BradleyTerryRatings{{"x", 1200}, {"y", 1200}});
  CHECK(fit_bradley_terry({}, {}).ratings.empty());
  const BradleyTerryFit self = fit_bradley_terry({}, {Battle{"x", "x", VoteOutcome::kModelA}});
  CHECK(self.ratings == BradleyTerryRatings{{"x", 1200}});

  const BradleyTerrySettings fastchat{.scale = 400, .anchor = 1000};
  std::vector<Battle> battles;
  add(battles, "a", "b", 1, 1);
  CHECK(fit_bradley_terry({}, battles, fastchat).ratings.at("a") == Approx(1000).margin(1e-9));
}

TEST_CASE("The fit recovers known strengths from many simulated battles, whatever their order") {
  const std::vector<std::string> models = {"m0", "m1", "m2", "m3", "m4"};
  const std::vector<double> truth = {1400, 1300, 1200, 1100, 1000};  // mean 1200
  std::mt19937_64 random(11);
  std::vector<Battle> battles;
  while (battles.size() < 20'000) {
    const auto a = uniform_below(models.size(), random);
    const auto b = uniform_below(models.size(), random);
    if (a == b) continue;
    // Ties as often as 20% of the underdog's chance, taken half from each side, so that A's expected
    // score is still its Bradley-Terry probability.
    const double p_a = 1 / (1 + std::pow(10.0, (truth[b] - truth[a]) / 400));
    const double tie = 0.2 * std::min(p_a, 1 - p_a);
    const double draw = uniform_unit(random);
    const VoteOutcome outcome = draw < tie                   ? VoteOutcome::kTie
                                : draw < tie + p_a - tie / 2 ? VoteOutcome::kModelA
                                                             : VoteOutcome::kModelB;
    battles.push_back({models[a], models[b], outcome});
  }
  const BradleyTerryFit fit = fit_bradley_terry({}, battles);
  CHECK(fit.converged);
  for (std::size_t i = 0; i < models.size(); ++i) {
    CHECK(fit.ratings.at(models[i]) == Approx(truth[i]).margin(15));
  }

  std::vector<Battle> reversed(battles.rbegin(), battles.rend());
  CHECK(fit_bradley_terry({}, reversed).ratings == fit.ratings);
}

TEST_CASE("Invalid settings are refused") {
  CHECK_THROWS_AS(fit_bradley_terry({}, {}, BradleyTerrySettings{.prior_ties = 0}), std::invalid_argument);
  CHECK_THROWS_AS(fit_bradley_terry({}, {}, BradleyTerrySettings{.scale = -400}), std::invalid_argument);
  CHECK_THROWS_AS(fit_bradley_terry({}, {}, BradleyTerrySettings{.tolerance = 0}), std::invalid_argument);
  CHECK_THROWS_AS(fit_bradley_terry({}, {}, BradleyTerrySettings{.max_iterations = 0}),
                  std::invalid_argument);
  std::mt19937_64 random(1);
  CHECK_THROWS_AS(bootstrap_bradley_terry({}, {}, {}, BootstrapSettings{.confidence = 1}, random),
                  std::invalid_argument);
}

TEST_CASE("quantile interpolates linearly between order statistics (type 7)") {
  const std::vector<double> values = {1, 2, 3, 4};
  CHECK(quantile(values, 0) == 1);
  CHECK(quantile(values, 1) == 4);
  CHECK(quantile(values, 0.5) == 2.5);
  CHECK(quantile(values, 0.025) == Approx(1.075).epsilon(1e-12));
  CHECK(quantile(values, 0.975) == Approx(3.925).epsilon(1e-12));
  CHECK(quantile({7}, 0.3) == 7);
  // 100 bootstrap rounds 0..99: the 2.5% quantile sits between the 3rd and 4th smallest.
  std::vector<double> rounds(100);
  for (std::size_t i = 0; i < rounds.size(); ++i) rounds[i] = static_cast<double>(i);
  CHECK(quantile(rounds, 0.025) == Approx(2.475).epsilon(1e-12));
  CHECK(quantile(rounds, 0.975) == Approx(96.525).epsilon(1e-12));
  CHECK_THROWS_AS(quantile({}, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(quantile(values, 1.5), std::invalid_argument);
}

std::vector<Battle> league() {
  std::vector<Battle> battles;
  add(battles, "gpt-4o", "gpt-4", 30, 20, 5, 2);
  add(battles, "gpt-4", "gpt-3.5-turbo", 35, 15, 4, 1);
  add(battles, "gpt-4o", "gpt-3.5-turbo", 40, 8, 3, 3);
  add(battles, "gpt-4-turbo", "gpt-4", 12, 10, 2, 0);
  add(battles, "gpt-4-turbo", "gpt-3.5-turbo", 6, 0);  // only wins so far
  return battles;
}

TEST_CASE("Bootstrap intervals are reproducible for a seed and change with it") {
  const std::vector<std::string> models = {"gpt-3.5-turbo", "gpt-4", "gpt-4-turbo", "gpt-4o", "unvoted"};
  const std::vector<Battle> battles = league();
  std::mt19937_64 first(1234);
  std::mt19937_64 second(1234);
  std::mt19937_64 other(4321);
  const RatingEstimates a = bootstrap_bradley_terry(models, battles, {}, {}, first);
  const RatingEstimates b = bootstrap_bradley_terry(models, battles, {}, {}, second);
  const RatingEstimates c = bootstrap_bradley_terry(models, battles, {}, {}, other);
  REQUIRE(a.size() == 5);
  bool any_difference = false;
  for (const auto& [name, estimate] : a) {
    const RatingEstimate& again = b.at(name);
    CHECK(std::memcmp(&estimate, &again, sizeof estimate) == 0);  // byte-identical
    CHECK(c.at(name).rating == estimate.rating);  // the point estimate does not depend on the seed
    if (name != "unvoted") any_difference |= c.at(name).ci_lower != estimate.ci_lower;
  }
  CHECK(any_difference);
  CHECK(first() == second());  // both consumed the same number of draws
}

TEST_CASE("Bootstrap intervals contain the point estimate, which is the plain fit") {
  const std::vector<Battle> battles = league();
  const BradleyTerryFit fit = fit_bradley_terry({}, battles);
  std::mt19937_64 random(5);
  const RatingEstimates estimates =
      bootstrap_bradley_terry({}, battles, {}, BootstrapSettings{.rounds = 200}, random);
  REQUIRE(estimates.size() == fit.ratings.size());
  for (const auto& [name, estimate] : estimates) {
    CHECK(estimate.rating == fit.ratings.at(name));
    CHECK(estimate.ci_lower <= estimate.rating);
    CHECK(estimate.rating <= estimate.ci_upper);
    CHECK(estimate.ci_upper - estimate.ci_lower > 1);
    CHECK(estimate.ci_upper - estimate.ci_lower < 600);
  }
  // gpt-4o's 111 battles pin it down better than gpt-4-turbo's 30.
  const auto width = [&](const char* name) {
    return estimates.at(name).ci_upper - estimates.at(name).ci_lower;
  };
  CHECK(width("gpt-4o") < width("gpt-4-turbo"));
}

TEST_CASE("Without rounds or battles the intervals have no width and no draws are made") {
  std::mt19937_64 random(8);
  const std::mt19937_64 untouched = random;
  const RatingEstimates no_rounds =
      bootstrap_bradley_terry({}, league(), {}, BootstrapSettings{.rounds = 0}, random);
  for (const auto& [name, estimate] : no_rounds) {
    CHECK(estimate.ci_lower == estimate.rating);
    CHECK(estimate.ci_upper == estimate.rating);
  }
  const RatingEstimates no_battles = bootstrap_bradley_terry({"a", "b"}, {}, {}, {}, random);
  REQUIRE(no_battles.size() == 2);
  for (const auto& [name, estimate] : no_battles) {
    CHECK(estimate.rating == 1200);
    CHECK(estimate.ci_lower == 1200);
    CHECK(estimate.ci_upper == 1200);
  }
  CHECK(random == untouched);
}

TEST_CASE("rank_with_ties counts the models whose interval lies entirely above") {
  const std::vector<RatingEstimate> estimates = {
      {.rating = 1320, .ci_lower = 1300, .ci_upper = 1350},  // nobody above: 1
      {.rating = 1300, .ci_lower = 1280, .ci_upper = 1320},  // overlaps the first: 1
      {.rating = 1200, .ci_lower = 1100, .ci_upper = 1250},  // below both: 3
      {.rating = 1050, .ci_lower = 1000, .ci_upper = 1100},  // touches the third's lower bound: not above, 3
      {.rating = 900, .ci_lower = 850, .ci_upper = 950},     // below all four: 5
  };
  CHECK(rank_with_ties(estimates) == std::vector<std::uint32_t>{1, 1, 3, 3, 5});
  CHECK(rank_with_ties({}).empty());
  CHECK(rank_with_ties({{.rating = 1, .ci_lower = 0, .ci_upper = 2}}) == std::vector<std::uint32_t>{1});
}

}  // namespace
}  // namespace rally::arena
