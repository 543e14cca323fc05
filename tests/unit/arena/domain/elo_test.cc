#include "services/arena/domain/elo.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "services/arena/domain/random_draws.h"

namespace rally::arena {
namespace {

TEST_CASE("expected_score follows the base 10, scale 400 logistic curve") {
  CHECK(expected_score(1200, 1200) == 0.5);
  CHECK(expected_score(1400, 1200) == Approx(0.7597469266479578).epsilon(1e-15));
  CHECK(expected_score(1200, 1400) == Approx(0.2402530733520422).epsilon(1e-15));
  CHECK(expected_score(1600, 1200) == Approx(10.0 / 11.0).epsilon(1e-15));
  CHECK(expected_score(1337, 1111) + expected_score(1111, 1337) == Approx(1.0).epsilon(1e-15));
}

TEST_CASE("Equal ratings: a win moves 16 points each way, a draw nothing") {
  const EloUpdate a_wins = apply_vote(1200, 1200, VoteOutcome::kModelA);
  CHECK(a_wins.new_a == 1216);
  CHECK(a_wins.new_b == 1184);
  CHECK(a_wins.delta == 16);
  const EloUpdate b_wins = apply_vote(1200, 1200, VoteOutcome::kModelB);
  CHECK(b_wins.new_a == 1184);
  CHECK(b_wins.new_b == 1216);
  CHECK(b_wins.delta == -16);
  for (const VoteOutcome draw : {VoteOutcome::kTie, VoteOutcome::kBothBad}) {
    const EloUpdate update = apply_vote(1234.5, 1234.5, draw);
    CHECK(update.new_a == 1234.5);
    CHECK(update.new_b == 1234.5);
    CHECK(update.delta == 0);
  }
}

TEST_CASE("1400 against 1200: hand-computed updates for each outcome") {
  // Ea = 1 / (1 + 10^-0.5) = 0.7597469266479578
  const EloUpdate a_wins = apply_vote(1400, 1200, VoteOutcome::kModelA);
  CHECK(a_wins.delta == Approx(7.688098347265350).epsilon(1e-12));
  CHECK(a_wins.new_a == Approx(1407.688098347265).epsilon(1e-14));
  CHECK(a_wins.new_b == Approx(1192.311901652735).epsilon(1e-14));
  const EloUpdate b_wins = apply_vote(1400, 1200, VoteOutcome::kModelB);
  CHECK(b_wins.delta == Approx(-24.31190165273465).epsilon(1e-12));
  CHECK(b_wins.new_a == Approx(1375.688098347265).epsilon(1e-14));
  CHECK(b_wins.new_b == Approx(1224.311901652735).epsilon(1e-14));
  const EloUpdate tie = apply_vote(1400, 1200, VoteOutcome::kTie);
  CHECK(tie.delta == Approx(-8.311901652734650).epsilon(1e-12));
  CHECK(tie.new_a == Approx(1391.688098347265).epsilon(1e-14));
  CHECK(tie.new_b == Approx(1208.311901652735).epsilon(1e-14));
  // Both bad is rated exactly like a tie.
  const EloUpdate both_bad = apply_vote(1400, 1200, VoteOutcome::kBothBad);
  CHECK(both_bad.delta == tie.delta);
  CHECK(both_bad.new_a == tie.new_a);
  CHECK(both_bad.new_b == tie.new_b);
}

TEST_CASE("K bounds every change and scales it") {
  // The biggest upset possible still moves less than K.
  const EloUpdate upset = apply_vote(0, 3000, VoteOutcome::kModelA);
  CHECK(upset.delta < 32);
  CHECK(upset.delta > 31.99);
  const EloUpdate small_k =
      apply_vote(1200, 1200, VoteOutcome::kModelA, EloSettings{.k = 4, .initial = 1000});
  CHECK(small_k.delta == 2);
  CHECK(small_k.new_a == 1202);
  const EloUpdate no_k = apply_vote(1500, 1100, VoteOutcome::kModelB, EloSettings{.k = 0, .initial = 1200});
  CHECK(no_k.new_a == 1500);
  CHECK(no_k.new_b == 1100);

  std::mt19937_64 random(7);
  for (int i = 0; i < 1000; ++i) {
    const double a = 800 + 800 * uniform_unit(random);
    const double b = 800 + 800 * uniform_unit(random);
    const auto outcome = static_cast<VoteOutcome>(uniform_below(4, random));
    const EloUpdate update = apply_vote(a, b, outcome);
    REQUIRE(std::abs(update.delta) <= 32);
    REQUIRE(update.delta == 32 * (score_of_a(outcome) - expected_score(a, b)));
    REQUIRE(update.new_a == a + update.delta);
    REQUIRE(update.new_b == b - update.delta);
  }
}

std::vector<Battle> random_votes(std::size_t count, const std::vector<std::string>& models,
                                 std::mt19937_64& random) {
  std::vector<Battle> votes;
  while (votes.size() < count) {
    const auto a = uniform_below(models.size(), random);
    const auto b = uniform_below(models.size(), random);
    if (a == b) continue;
    votes.push_back(Battle{models[a], models[b], static_cast<VoteOutcome>(uniform_below(4, random))});
  }
  return votes;
}

TEST_CASE("The sum of all ratings is conserved over 10,000 random votes") {
  const std::vector<std::string> models = {"gpt-3.5-turbo", "gpt-4",  "gpt-4-turbo",
                                           "gpt-4o",        "claude", "llama"};
  std::mt19937_64 random(2024);
  EloRatings ratings;
  for (const auto& model : models) ratings[model] = 1200;
  for (const Battle& vote : random_votes(10'000, models, random)) {
    const EloUpdate update = apply_vote(ratings[vote.model_a], ratings[vote.model_b], vote.outcome);
    ratings[vote.model_a] = update.new_a;
    ratings[vote.model_b] = update.new_b;
  }
  double sum = 0;
  double spread = 0;
  for (const auto& [name, rating] : ratings) {
    sum += rating;
    spread = std::max(spread, std::abs(rating - 1200));
  }
  CHECK(std::abs(sum - 1200.0 * static_cast<double>(models.size())) < 1e-9);
  CHECK(spread > 1);  // the votes did move the ratings
}

TEST_CASE("replay equals applying the votes one by one") {
  const std::vector<std::string> models = {"a", "b", "c", "d"};
  std::mt19937_64 random(99);
  const std::vector<Battle> votes = random_votes(2'000, models, random);
  EloRatings incremental = {{"a", 1300}, {"b", 1250}, {"c", 1200}, {"d", 1150}};
  const EloRatings initial = incremental;
  for (const Battle& vote : votes) {
    const EloUpdate update = apply_vote(incremental[vote.model_a], incremental[vote.model_b], vote.outcome);
    incremental[vote.model_a] = update.new_a;
    incremental[vote.model_b] = update.new_b;
  }
  CHECK(replay(initial, votes) == incremental);
  CHECK(replay(initial, {}) == initial);
}

TEST_CASE("replay starts unknown models at the initial rating and ignores self votes") {
  const EloSettings settings{.k = 32, .initial = 1000};
  const EloRatings ratings =
      replay({{"a", 1200}},
             {Battle{"a", "new", VoteOutcome::kModelB}, Battle{"a", "a", VoteOutcome::kModelA}}, settings);
  const EloUpdate expected = apply_vote(1200, 1000, VoteOutcome::kModelB, settings);
  REQUIRE(ratings.size() == 2);
  CHECK(ratings.at("a") == expected.new_a);
  CHECK(ratings.at("new") == expected.new_b);
}

}  // namespace
}  // namespace rally::arena
