// The five component scores of a model, each a continuous, monotone function onto [0, 10] of what
// models.dev publishes and what the llm-proxy measured (docs/scoring.md has every curve, its anchors and a
// worked example). Pure arithmetic: no clock is read, recency is measured against a reference time the caller
// passes in, so a score is reproducible from its inputs.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rally::scoring {

enum class PerformanceSource { kMeasured, kDefault };

// "measured" or "default", as in rally.v1.ScoreInputs.performance_source.
std::string_view performance_source_name(PerformanceSource source);

// Used for speed and efficiency when the llm-proxy has no statistics for a model: they put speed at exactly
// 5.0 (the middle of the scale) and assume a 1% error rate.
inline constexpr double kDefaultTimeToFirstTokenMs = 1000;
inline constexpr double kDefaultTokensPerSecond = 50;
inline constexpr double kDefaultErrorRate = 0.01;

// Everything a score is computed from; mirrors rally.v1.ScoreInputs (the reference time is passed apart).
struct ModelInputs {
  // USD per 1M tokens; nullopt when the model has no published price (0 means free).
  std::optional<double> input_usd_per_1m_tokens;
  std::optional<double> output_usd_per_1m_tokens;
  std::uint64_t context_window_tokens = 0;  // 0 when unknown
  std::uint64_t max_output_tokens = 0;      // 0 when unknown
  // "YYYY-MM-DD" or "YYYY-MM"; empty when unknown.
  std::string release_date;
  std::string last_updated;
  std::string knowledge_cutoff;
  bool reasoning = false;
  bool tool_call = false;
  bool structured_output = false;
  bool attachment = false;
  std::vector<std::string> input_modalities;
  std::vector<std::string> output_modalities;
  bool open_weights = false;  // recorded (and hashed) but not scored
  double time_to_first_token_ms = kDefaultTimeToFirstTokenMs;
  double tokens_per_second = kDefaultTokensPerSecond;
  double error_rate = kDefaultErrorRate;  // in [0, 1]
  PerformanceSource performance_source = PerformanceSource::kDefault;
  // The arena's ELO rating, when the model plays in the arena.
  std::optional<double> arena_rating;
};

// Sets the three performance fields to the defaults above and the source to kDefault.
void use_default_performance(ModelInputs& inputs);

struct ScoreComponents {
  double speed = 0;
  double efficiency = 0;
  double cost = 0;
  double capability = 0;
  double recency = 0;
};

// --- speed -------------------------------------------------------------------------------------------------
// 10 / (1 + (ttft / 1000 ms)^1.5): 0 ms -> 10, 250 ms -> 8.89, 1 s -> 5, 4 s -> 1.11. Negative is read as 0,
// NaN as the default.
double time_to_first_token_score(double ttft_ms);
// 10 * t^1.5 / (t^1.5 + 50^1.5) for t tokens/s: 0 -> 0, 12.5 -> 1.11, 50 -> 5, 200 -> 8.89.
double throughput_score(double tokens_per_second);
// The mean of the two.
double speed_score(double ttft_ms, double tokens_per_second);

// --- cost --------------------------------------------------------------------------------------------------
// (3 * input + output) / 4, the usual 3:1 input:output blend. With one price missing the other stands for
// both; nullopt when both are missing. Negative or non-finite prices count as missing.
std::optional<double> blended_price(std::optional<double> input_usd_per_1m,
                                    std::optional<double> output_usd_per_1m);
// 10 / (1 + P / 3 USD): free -> 10, 1 -> 7.5, 3 -> 5, 10 -> 2.31, 30 -> 0.91. Unknown price -> 5.0 (neutral).
inline constexpr double kMissingPriceScore = 5.0;
double cost_score(std::optional<double> blended_usd_per_1m);

// --- efficiency --------------------------------------------------------------------------------------------
// Output tokens per USD (1e6 / output price) as v / (v + 100k): free -> 1, $10 per 1M -> 0.5, $1 -> 0.91.
// Unknown output price (after the input-price fallback of blended_price) -> 0.5.
double value_factor(std::optional<double> output_usd_per_1m);
// Share of the context window one answer may fill, r = max_output / context, as r / (r + 0.125);
// r is capped at 1. Unknown context or output -> 0.5.
double output_share_factor(std::uint64_t context_window_tokens, std::uint64_t max_output_tokens);
// 10 * (1 - error_rate) * (0.6 * value + 0.4 * output share): a failed call is paid for and retried, so the
// useful work per call scales with the success rate. error_rate is clamped to [0, 1], NaN -> default.
double efficiency_score(std::optional<double> output_usd_per_1m, std::uint64_t context_window_tokens,
                        std::uint64_t max_output_tokens, double error_rate);

// --- capability --------------------------------------------------------------------------------------------
// Features and limits out of 8 points, scaled to 10: reasoning 1.5, tool calls 1.0, structured output 0.5,
// attachments 0.5, context c / (c + 128k) * 2.0, max output o / (o + 16k) * 1.0, and 1.5 * (1 - 0.5^n) for
// n distinct modalities other than text (inputs and outputs together).
double feature_capability(const ModelInputs& inputs);
// 10 / (1 + 10^((1200 - rating) / 400)): the ELO expected score against a new arena model (1200) -> 5.0,
// 1400 -> 7.6, 1600 -> 9.09.
double arena_capability(double rating);
inline constexpr double kArenaBlend = 0.4;
// Without a rating: feature_capability. With one: 0.6 * features + 0.4 * arena_capability(rating).
double capability_score(const ModelInputs& inputs);

// --- recency -----------------------------------------------------------------------------------------------
// "YYYY-MM-DD" or "YYYY-MM" (the first of the month); nullopt when it is anything else or not a real date.
std::optional<std::chrono::sys_days> parse_model_date(std::string_view text);
// The date recency is measured from: release_date, else last_updated, else knowledge_cutoff (the first that
// parses). nullopt when none does.
std::optional<std::chrono::sys_days> recency_date(const ModelInputs& inputs);
// Days from `date` to `reference` (fractional, negative when the date is later).
double age_in_days(std::chrono::sys_days date, std::chrono::sys_seconds reference);
// 10 * 2^(-age / 365): released today (or later) -> 10, a year ago -> 5, two years -> 2.5. Unknown -> 5.0.
inline constexpr double kRecencyHalfLifeDays = 365;
inline constexpr double kMissingDateScore = 5.0;
double recency_score(std::optional<double> age_days);

// What was filled in for missing data while computing the components.
struct ComponentFlags {
  bool price_missing = false;        // cost took kMissingPriceScore
  bool price_partial = false;        // one of the two prices was missing
  bool date_missing = false;         // recency took kMissingDateScore
  bool performance_default = false;  // speed and efficiency used defaults (source kDefault)
};

struct ComponentResult {
  ScoreComponents components;
  ComponentFlags flags;
};

ComponentResult compute_components(const ModelInputs& inputs, std::chrono::sys_seconds reference);

}  // namespace rally::scoring
