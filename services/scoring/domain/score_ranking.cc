#include "services/scoring/domain/score_ranking.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>

#include "services/scoring/domain/score_format.h"

namespace rally::scoring {
namespace {

constexpr std::array<std::pair<std::string_view, ScoreCategory>, 6> kCategories = {{
    {"overall", ScoreCategory::kOverall},
    {"speed", ScoreCategory::kSpeed},
    {"efficiency", ScoreCategory::kEfficiency},
    {"cost", ScoreCategory::kCost},
    {"capability", ScoreCategory::kCapability},
    {"recency", ScoreCategory::kRecency},
}};

double raw_category_score(const StoredScore& s, ScoreCategory category) {
  switch (category) {
    case ScoreCategory::kOverall:
      return s.overall;
    case ScoreCategory::kSpeed:
      return s.components.speed;
    case ScoreCategory::kEfficiency:
      return s.components.efficiency;
    case ScoreCategory::kCost:
      return s.components.cost;
    case ScoreCategory::kCapability:
      return s.components.capability;
    case ScoreCategory::kRecency:
      return s.components.recency;
  }
  return s.overall;
}

common::Error invalid(std::string message, std::string field) {
  return common::Error(common::ErrorCode::kInvalidRequest, std::move(message), {{"field", std::move(field)}});
}

// Indices of `scores` in ranking order for `category` (the rounded scores computed once per row).
std::vector<std::size_t> ranked_order(const std::vector<StoredScore>& scores, ScoreCategory category) {
  struct Key {
    double category;
    double overall;
    std::size_t index;
  };
  std::vector<Key> keys;
  keys.reserve(scores.size());
  for (std::size_t i = 0; i < scores.size(); ++i) {
    keys.push_back(
        {category_score(scores[i], category), category_score(scores[i], ScoreCategory::kOverall), i});
  }
  std::sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
    if (a.category != b.category) return a.category > b.category;
    if (a.overall != b.overall) return a.overall > b.overall;
    return std::tie(scores[a.index].model_id, a.index) < std::tie(scores[b.index].model_id, b.index);
  });
  std::vector<std::size_t> order;
  order.reserve(keys.size());
  for (const Key& key : keys) order.push_back(key.index);
  return order;
}

}  // namespace

std::optional<ScoreCategory> parse_category(std::string_view name) {
  for (const auto& [text, category] : kCategories) {
    if (text == name) return category;
  }
  return std::nullopt;
}

std::string_view category_name(ScoreCategory category) {
  for (const auto& [text, c] : kCategories) {
    if (c == category) return text;
  }
  return "overall";
}

double category_score(const StoredScore& score, ScoreCategory category) {
  return round_to_tenth(clamp_score(raw_category_score(score, category)));
}

common::Result<Ranking> rank_scores(const std::vector<StoredScore>& scores, const RankingQuery& query) {
  const std::uint32_t limit = query.limit.value_or(kDefaultRankingLimit);
  if (limit < 1 || limit > kMaxRankingLimit) {
    return invalid("limit must be between 1 and " + std::to_string(kMaxRankingLimit), "limit");
  }
  if (query.min_score && !is_valid_score(*query.min_score)) {
    return invalid("min_score must be a number between 0 and 10", "min_score");
  }
  if (query.max_score && !is_valid_score(*query.max_score)) {
    return invalid("max_score must be a number between 0 and 10", "max_score");
  }
  if (query.min_score && query.max_score && *query.min_score > *query.max_score) {
    return invalid("min_score must not be greater than max_score", "min_score");
  }
  Ranking ranking;
  ranking.total_models = scores.size();
  for (const std::size_t i : ranked_order(scores, query.category)) {
    const StoredScore& s = scores[i];
    const double value = category_score(s, query.category);
    if (query.min_score && value < *query.min_score) continue;
    if (query.max_score && value > *query.max_score) continue;
    ++ranking.filtered_models;
    if (ranking.rows.size() >= limit) continue;
    RankedRow row;
    row.rank = static_cast<std::uint32_t>(ranking.rows.size() + 1);
    row.model_id = s.model_id;
    row.overall_score = category_score(s, ScoreCategory::kOverall);
    row.score_suffix = score_suffix(row.overall_score);
    row.model_name = add_suffix(s.model_name.empty() ? s.model_id : s.model_name, row.overall_score);
    row.category_score = value;
    row.last_updated_unix_seconds = s.last_updated_unix_seconds;
    ranking.rows.push_back(std::move(row));
  }
  return ranking;
}

Comparison compare_scores(const std::vector<StoredScore>& scores) {
  Comparison comparison;
  for (const std::size_t i : ranked_order(scores, ScoreCategory::kOverall)) {
    const StoredScore& s = scores[i];
    ComparedModel row;
    row.rank = static_cast<std::uint32_t>(comparison.results.size() + 1);
    row.model_id = s.model_id;
    row.model_name = s.model_name;
    row.overall_score = category_score(s, ScoreCategory::kOverall);
    for (const ScoreCategory c : {ScoreCategory::kSpeed, ScoreCategory::kEfficiency, ScoreCategory::kCost,
                                  ScoreCategory::kCapability, ScoreCategory::kRecency}) {
      const double v = category_score(s, c);
      switch (c) {
        case ScoreCategory::kSpeed:
          row.components.speed = v;
          break;
        case ScoreCategory::kEfficiency:
          row.components.efficiency = v;
          break;
        case ScoreCategory::kCost:
          row.components.cost = v;
          break;
        case ScoreCategory::kCapability:
          row.components.capability = v;
          break;
        default:
          row.components.recency = v;
          break;
      }
    }
    comparison.results.push_back(std::move(row));
  }
  if (comparison.results.empty()) return comparison;
  const ComparedModel& best = comparison.results[0];
  comparison.best_model = best.model_id;
  if (comparison.results.size() == 1) {
    comparison.analysis =
        best.model_id + " is the only model compared, with " + format_one_decimal(best.overall_score) + ".";
    return comparison;
  }
  const ComparedModel& next = comparison.results[1];
  std::string text;
  if (best.overall_score == next.overall_score) {
    text = best.model_id + " and " + next.model_id + " tie at " + format_one_decimal(best.overall_score) +
           " (" + best.model_id + " is listed first by model id).";
  } else {
    text = best.model_id + " leads with " + format_one_decimal(best.overall_score) + ", ahead of " +
           next.model_id + " (" + format_one_decimal(next.overall_score) + ").";
  }
  // The largest component difference each way; on equal differences the first in component order.
  const std::array<std::pair<std::string_view, double>, 5> a = {{{"speed", best.components.speed},
                                                                 {"efficiency", best.components.efficiency},
                                                                 {"cost", best.components.cost},
                                                                 {"capability", best.components.capability},
                                                                 {"recency", best.components.recency}}};
  const std::array<double, 5> b = {next.components.speed, next.components.efficiency, next.components.cost,
                                   next.components.capability, next.components.recency};
  std::optional<std::size_t> edge;
  std::optional<std::size_t> deficit;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double diff = a[i].second - b[i];
    if (diff > 0 && (!edge || diff > a[*edge].second - b[*edge])) edge = i;
    if (diff < 0 && (!deficit || diff < a[*deficit].second - b[*deficit])) deficit = i;
  }
  const auto pair_text = [&](std::size_t i, bool best_first) {
    const std::string x = format_one_decimal(a[i].second);
    const std::string y = format_one_decimal(b[i]);
    return std::string(a[i].first) + " (" + (best_first ? x + " vs " + y : y + " vs " + x) + ")";
  };
  if (edge) {
    text += " Its biggest edge over " + next.model_id + " is " + pair_text(*edge, true);
    text += deficit ? ", while " + next.model_id + " is ahead on " + pair_text(*deficit, false) + "." : ".";
  } else if (deficit) {
    text += " " + next.model_id + " is ahead on " + pair_text(*deficit, false) + ".";
  } else {
    text += " Their components are equal.";
  }
  comparison.analysis = std::move(text);
  return comparison;
}

}  // namespace rally::scoring
