#include "services/arena/domain/leaderboard.h"

#include <algorithm>
#include <catch2/catch.hpp>

namespace rally::arena {
namespace {

TEST_CASE("count_votes counts every outcome from both sides") {
  const auto counts = count_votes({
      {"a", "b", VoteOutcome::kModelA},
      {"b", "a", VoteOutcome::kModelA},
      {"a", "c", VoteOutcome::kModelB},
      {"c", "b", VoteOutcome::kTie},
      {"a", "b", VoteOutcome::kBothBad},
      {"a", "a", VoteOutcome::kModelA},  // ignored
  });
  REQUIRE(counts.size() == 3);
  CHECK(counts.at("a") == VoteCounts{.votes = 4, .wins = 1, .losses = 2, .ties = 0, .both_bad = 1});
  CHECK(counts.at("b") == VoteCounts{.votes = 4, .wins = 1, .losses = 1, .ties = 1, .both_bad = 1});
  CHECK(counts.at("c") == VoteCounts{.votes = 2, .wins = 1, .losses = 0, .ties = 1, .both_bad = 0});
}

TEST_CASE("price_per_score is the seed's score / price, 0 for free models") {
  CHECK(price_per_score(1200, 0.002) == Approx(600'000));
  CHECK(price_per_score(1250, 0.05) == Approx(25'000));
  CHECK(price_per_score(1200, 0) == 0);
}

TEST_CASE("Rows are ordered by ELO score, equal scores by name, and ranked by position") {
  // The seed's catalog prices (USD per 1K tokens).
  std::vector<ModelStanding> standings = {
      {.name = "gpt-3.5-turbo",
       .score = 1180,
       .price = 0.002,
       .counts = {.votes = 10, .wins = 3, .losses = 7}},
      {.name = "gpt-4o",
       .score = 1230,
       .price = 0.05,
       .counts = {.votes = 12, .wins = 8, .losses = 2, .ties = 2}},
      {.name = "gpt-4-turbo", .score = 1195, .price = 0.03, .counts = {.votes = 4, .wins = 2, .losses = 2}},
      {.name = "gpt-4", .score = 1195, .price = 0.06, .counts = {.votes = 6, .wins = 3, .losses = 3}},
      {.name = "local", .score = 1200, .price = 0, .counts = {}},  // no votes yet
  };
  const RatingEstimates estimates = {
      {"gpt-3.5-turbo", {.rating = 1150, .ci_lower = 1100, .ci_upper = 1190}},
      {"gpt-4o", {.rating = 1260, .ci_lower = 1210, .ci_upper = 1300}},
      {"gpt-4-turbo", {.rating = 1200, .ci_lower = 1150, .ci_upper = 1250}},
      {"gpt-4", {.rating = 1190, .ci_lower = 1160, .ci_upper = 1205}},
      {"retired", {.rating = 1500, .ci_lower = 1400, .ci_upper = 1600}},  // not shown, not ranked against
  };
  const LeaderboardSnapshot snapshot = build_leaderboard(standings, estimates);
  REQUIRE(snapshot.rows.size() == 5);
  std::vector<std::string> names;
  for (const auto& row : snapshot.rows) names.push_back(row.name);
  CHECK(names == std::vector<std::string>{"gpt-4o", "local", "gpt-4", "gpt-4-turbo", "gpt-3.5-turbo"});
  for (std::size_t i = 0; i < snapshot.rows.size(); ++i) CHECK(snapshot.rows[i].rank == i + 1);

  const LeaderboardRow& top = snapshot.rows[0];
  CHECK(top.score == 1230);
  CHECK(top.price == 0.05);
  CHECK(top.price_per_score == Approx(1230 / 0.05));
  CHECK(top.counts == VoteCounts{.votes = 12, .wins = 8, .losses = 2, .ties = 2});
  CHECK(top.bt_rating == 1260);
  CHECK(top.ci_lower == 1210);
  CHECK(top.ci_upper == 1300);
  CHECK(top.rank_ub == 1);

  // No estimate: shown at the anchor with an interval of no width; no votes: could be the best, rank_ub 1.
  const LeaderboardRow& local = snapshot.rows[1];
  CHECK(local.price_per_score == 0);
  CHECK(local.bt_rating == 1200);
  CHECK(local.ci_lower == 1200);
  CHECK(local.ci_upper == 1200);
  CHECK(local.rank_ub == 1);

  CHECK(snapshot.rows[2].rank_ub == 2);  // gpt-4 [1160, 1205]: below gpt-4o only
  CHECK(snapshot.rows[3].rank_ub == 1);  // gpt-4-turbo [1150, 1250] overlaps everything
  CHECK(snapshot.rows[4].rank_ub == 2);  // gpt-3.5-turbo [1100, 1190]: below gpt-4o (local does not count)

  // The input order does not matter.
  std::reverse(standings.begin(), standings.end());
  const LeaderboardSnapshot again = build_leaderboard(standings, estimates);
  for (std::size_t i = 0; i < again.rows.size(); ++i) {
    CHECK(again.rows[i].name == snapshot.rows[i].name);
    CHECK(again.rows[i].rank_ub == snapshot.rows[i].rank_ub);
  }
}

TEST_CASE("A model without votes neither pushes others down nor is pushed down") {
  const std::vector<ModelStanding> standings = {
      {.name = "strong", .score = 1300, .price = 1, .counts = {.votes = 100, .wins = 90, .losses = 10}},
      {.name = "new", .score = 1200, .price = 1, .counts = {}},
      {.name = "weak", .score = 1100, .price = 1, .counts = {.votes = 100, .wins = 10, .losses = 90}},
  };
  const RatingEstimates estimates = {
      {"strong", {.rating = 1400, .ci_lower = 1350, .ci_upper = 1450}},
      {"new", {.rating = 1201, .ci_lower = 1199, .ci_upper = 1203}},  // what the bootstrap gives: narrow
      {"weak", {.rating = 1000, .ci_lower = 950, .ci_upper = 1050}},
  };
  const LeaderboardSnapshot snapshot = build_leaderboard(standings, estimates);
  REQUIRE(snapshot.rows.size() == 3);
  CHECK(snapshot.rows[0].rank_ub == 1);
  CHECK(snapshot.rows[1].name == "new");
  CHECK(snapshot.rows[1].rank_ub == 1);
  CHECK(snapshot.rows[1].ci_lower == 1199);  // shown as estimated
  CHECK(snapshot.rows[2].rank_ub == 2);      // only "strong" is known to be better
}

TEST_CASE("An empty leaderboard is empty, and the unrated rating is configurable") {
  CHECK(build_leaderboard({}, {}).rows.empty());
  const LeaderboardSnapshot snapshot =
      build_leaderboard({{.name = "a", .score = 1000, .price = 1}}, {}, 1000);
  REQUIRE(snapshot.rows.size() == 1);
  CHECK(snapshot.rows[0].bt_rating == 1000);
  CHECK(snapshot.rows[0].rank_ub == 1);
}

}  // namespace
}  // namespace rally::arena
