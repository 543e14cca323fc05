#include "services/scoring/domain/score_ranking.h"

#include <catch2/catch.hpp>
#include <limits>

namespace rally::scoring {
namespace {

StoredScore row(std::string id, double overall, ScoreComponents c = {}) {
  return StoredScore{.model_id = id,
                     .model_name = id + " name",
                     .overall = overall,
                     .components = c,
                     .last_updated_unix_seconds = 1795305600};
}

std::vector<std::string> ids(const Ranking& r) {
  std::vector<std::string> out;
  for (const RankedRow& row : r.rows) out.push_back(row.model_id);
  return out;
}

TEST_CASE("Categories by name") {
  for (const char* name : {"overall", "speed", "efficiency", "cost", "capability", "recency"}) {
    const auto c = parse_category(name);
    REQUIRE(c);
    CHECK(category_name(*c) == name);
  }
  CHECK_FALSE(parse_category("Overall"));
  CHECK_FALSE(parse_category(""));
}

TEST_CASE("Ranking orders by rounded category score, then overall, then model id") {
  const std::vector<StoredScore> scores = {
      row("c", 7.04, {.speed = 9}),
      row("a", 6.96, {.speed = 9}),  // both show 7.0: by id
      row("b", 8.5, {.speed = 2}),
      row("d", 7.0, {.speed = 9.04}),
  };
  const auto overall = rank_scores(scores, {});
  REQUIRE(overall.ok());
  CHECK(ids(overall.value()) == std::vector<std::string>{"b", "a", "c", "d"});
  CHECK(overall->rows[0].rank == 1);
  CHECK(overall->rows[3].rank == 4);
  CHECK(overall->rows[0].model_name == "b name (SC:8.5)");
  CHECK(overall->rows[0].score_suffix == "(SC:8.5)");
  CHECK(overall->rows[1].overall_score == 7.0);
  CHECK(overall->rows[0].last_updated_unix_seconds == 1795305600);
  CHECK(overall->total_models == 4);
  CHECK(overall->filtered_models == 4);

  // Speed: a, c and d all show 9.0; then overall (all 7.0), then id.
  const auto speed = rank_scores(scores, {.category = ScoreCategory::kSpeed});
  REQUIRE(speed.ok());
  CHECK(ids(speed.value()) == std::vector<std::string>{"a", "c", "d", "b"});
  CHECK(speed->rows[0].category_score == 9.0);
  CHECK(speed->rows[3].category_score == 2.0);
  // The order does not depend on the input order.
  std::vector<StoredScore> reversed(scores.rbegin(), scores.rend());
  CHECK(ids(rank_scores(reversed, {.category = ScoreCategory::kSpeed}).value()) == ids(speed.value()));
}

TEST_CASE("Ranking filters, limits and counts") {
  std::vector<StoredScore> scores;
  for (int i = 0; i <= 100; ++i) scores.push_back(row("m" + std::to_string(1000 + i), i / 10.0));
  const auto all = rank_scores(scores, {});
  REQUIRE(all.ok());
  CHECK(all->rows.size() == kDefaultRankingLimit);
  CHECK(all->total_models == 101);
  CHECK(all->filtered_models == 101);
  CHECK(all->rows.front().overall_score == 10.0);

  const auto window = rank_scores(scores, {.limit = 3, .min_score = 7.0, .max_score = 8.0});
  REQUIRE(window.ok());
  CHECK(window->filtered_models == 11);  // 7.0 .. 8.0 inclusive
  CHECK(ids(window.value()) == std::vector<std::string>{"m1080", "m1079", "m1078"});

  // Filters apply to the rounded score: 6.96 shows as 7.0 and passes min 7.0.
  const auto rounded = rank_scores({row("x", 6.96), row("y", 6.94)}, {.min_score = 7.0});
  REQUIRE(rounded.ok());
  CHECK(ids(rounded.value()) == std::vector<std::string>{"x"});

  const auto none = rank_scores({}, {});
  REQUIRE(none.ok());
  CHECK(none->rows.empty());
  CHECK(none->total_models == 0);
}

TEST_CASE("Ranking refuses bad limits and filters") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<std::pair<RankingQuery, std::string>> bad = {
      {{.limit = 0}, "limit"},
      {{.limit = kMaxRankingLimit + 1}, "limit"},
      {{.min_score = -1}, "min_score"},
      {{.min_score = nan}, "min_score"},
      {{.max_score = 10.5}, "max_score"},
      {{.min_score = 8, .max_score = 7}, "min_score"},
  };
  for (const auto& [query, field] : bad) {
    const auto r = rank_scores({row("a", 5)}, query);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == common::ErrorCode::kInvalidRequest);
    REQUIRE(r.error().details.size() == 1);
    CHECK(r.error().details[0].second == field);
  }
  CHECK(rank_scores({row("a", 5)}, {.limit = kMaxRankingLimit}).ok());
}

TEST_CASE("Compare ranks the models and explains the lead") {
  const std::vector<StoredScore> scores = {
      row("claude-x", 7.84, {.speed = 7.5, .efficiency = 6, .cost = 6.2, .capability = 9, .recency = 8}),
      row("llama-y", 6.9, {.speed = 5, .efficiency = 5, .cost = 9, .capability = 5, .recency = 5}),
      row("gpt-4o", 8.06, {.speed = 6.04, .efficiency = 7, .cost = 9.0, .capability = 9, .recency = 8}),
  };
  const Comparison c = compare_scores(scores);
  REQUIRE(c.results.size() == 3);
  CHECK(c.best_model == "gpt-4o");
  CHECK(c.results[0].model_id == "gpt-4o");
  CHECK(c.results[0].rank == 1);
  CHECK(c.results[0].overall_score == 8.1);
  CHECK(c.results[0].components.speed == 6.0);
  CHECK(c.results[1].model_id == "claude-x");
  CHECK(c.results[2].model_id == "llama-y");
  CHECK(c.results[2].rank == 3);
  CHECK(
      c.analysis ==
      "gpt-4o leads with 8.1, ahead of claude-x (7.8). Its biggest edge over claude-x is cost (9.0 vs 6.2), "
      "while claude-x is ahead on speed (7.5 vs 6.0).");
}

TEST_CASE("Compare: ties, one model, no models, no edge") {
  const ScoreComponents same{.speed = 5, .efficiency = 5, .cost = 5, .capability = 5, .recency = 5};
  Comparison c = compare_scores({row("b", 6.0, same), row("a", 6.0, same)});
  CHECK(c.best_model == "a");
  CHECK(c.analysis == "a and b tie at 6.0 (a is listed first by model id). Their components are equal.");

  ScoreComponents faster = same;
  faster.speed = 7;
  c = compare_scores({row("b", 6.0, faster), row("a", 6.04, same)});
  CHECK(c.best_model == "a");
  CHECK(c.analysis ==
        "a and b tie at 6.0 (a is listed first by model id). b is ahead on speed (7.0 vs 5.0).");

  c = compare_scores({row("solo", 4.25, same)});
  CHECK(c.best_model == "solo");
  CHECK(c.analysis == "solo is the only model compared, with 4.3.");

  c = compare_scores({});
  CHECK(c.results.empty());
  CHECK(c.best_model.empty());
  CHECK(c.analysis.empty());

  // Equal differences: the first component in order wins.
  ScoreComponents x = same;
  x.cost = 6;
  x.capability = 6;
  c = compare_scores({row("x", 7, x), row("y", 5, same)});
  CHECK(c.analysis == "x leads with 7.0, ahead of y (5.0). Its biggest edge over y is cost (6.0 vs 5.0).");
}

}  // namespace
}  // namespace rally::scoring
