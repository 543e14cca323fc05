// The pure part of GET /models/scores/ranking and GET /models/scores/compare: ordering stored scores,
// filters, limits and the comparison's analysis sentence. Deterministic: the same rows give the same answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/errors.h"
#include "services/scoring/domain/score_components.h"

namespace rally::scoring {

enum class ScoreCategory { kOverall, kSpeed, kEfficiency, kCost, kCapability, kRecency };

// "overall", "speed", "efficiency", "cost", "capability", "recency" (exact, lower case).
std::optional<ScoreCategory> parse_category(std::string_view name);
std::string_view category_name(ScoreCategory category);

// A model's latest stored score.
struct StoredScore {
  std::string model_id;
  std::string model_name;  // without suffix
  double overall = 0;
  ScoreComponents components;
  std::int64_t last_updated_unix_seconds = 0;  // passed through
};

// The category's score of a row, rounded to one decimal (what the API shows).
double category_score(const StoredScore& score, ScoreCategory category);

inline constexpr std::uint32_t kDefaultRankingLimit = 50;
inline constexpr std::uint32_t kMaxRankingLimit = 500;

struct RankingQuery {
  ScoreCategory category = ScoreCategory::kOverall;
  std::optional<std::uint32_t> limit;  // default 50, 1..500
  std::optional<double> min_score;     // inclusive, on the rounded category score, finite, in [0, 10]
  std::optional<double> max_score;     // inclusive, likewise; min <= max
};

struct RankedRow {
  std::uint32_t rank = 0;  // 1, 2, 3, ... (distinct even when scores tie)
  std::string model_id;
  std::string model_name;    // with its "(SC:X.X)" suffix
  double overall_score = 0;  // rounded
  std::string score_suffix;
  double category_score = 0;  // rounded
  std::int64_t last_updated_unix_seconds = 0;
};

struct Ranking {
  std::vector<RankedRow> rows;
  std::size_t total_models = 0;     // rows given
  std::size_t filtered_models = 0;  // rows passing the min/max filters (before the limit)
};

// Orders by rounded category score (highest first), then rounded overall score (highest first), then model id
// (bytewise ascending); ranks are the positions 1..n. kInvalidRequest (details "field") for a limit outside
// 1..500, a min/max that is not finite or outside [0, 10], or min > max.
common::Result<Ranking> rank_scores(const std::vector<StoredScore>& scores, const RankingQuery& query);

struct ComparedModel {
  std::uint32_t rank = 0;
  std::string model_id;
  std::string model_name;
  double overall_score = 0;    // rounded
  ScoreComponents components;  // rounded
};

struct Comparison {
  std::vector<ComparedModel> results;  // best first (the ranking order of rank_scores for kOverall)
  std::string best_model;              // model id; empty when no models
  std::string analysis;
};

// Ranks the models by overall score and explains the lead of the first over the second from their rounded
// components, e.g. "gpt-4o leads with 8.1, ahead of claude-x (7.8). Its biggest edge over claude-x is cost
// (9.0 vs 6.2), while claude-x is ahead on speed (7.5 vs 6.0)." (docs/scoring.md, "Compare").
Comparison compare_scores(const std::vector<StoredScore>& scores);

}  // namespace rally::scoring
