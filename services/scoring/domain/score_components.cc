#include "services/scoring/domain/score_components.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace rally::scoring {
namespace {

// A price that can be used: finite and not negative (an infinite price is as unknown as a NaN).
std::optional<double> usable_price(std::optional<double> price) {
  if (!price || !std::isfinite(*price) || *price < 0) return std::nullopt;
  return price;
}

// x / (x + anchor) for x >= 0: 0 at 0, 0.5 at the anchor, towards 1 as x grows.
double saturating(double x, double anchor) {
  return x / (x + anchor);
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int to_int(std::string_view digits) {
  int value = 0;
  for (const char c : digits) value = value * 10 + (c - '0');
  return value;
}

}  // namespace

std::string_view performance_source_name(PerformanceSource source) {
  return source == PerformanceSource::kMeasured ? "measured" : "default";
}

void use_default_performance(ModelInputs& inputs) {
  inputs.time_to_first_token_ms = kDefaultTimeToFirstTokenMs;
  inputs.tokens_per_second = kDefaultTokensPerSecond;
  inputs.error_rate = kDefaultErrorRate;
  inputs.performance_source = PerformanceSource::kDefault;
}

double time_to_first_token_score(double ttft_ms) {
  if (std::isnan(ttft_ms)) ttft_ms = kDefaultTimeToFirstTokenMs;
  if (ttft_ms <= 0) return 10.0;
  if (std::isinf(ttft_ms)) return 0.0;
  return 10.0 / (1.0 + std::pow(ttft_ms / 1000.0, 1.5));
}

double throughput_score(double tokens_per_second) {
  if (std::isnan(tokens_per_second)) tokens_per_second = kDefaultTokensPerSecond;
  if (tokens_per_second <= 0) return 0.0;
  if (std::isinf(tokens_per_second)) return 10.0;
  // t^1.5 / (t^1.5 + 50^1.5) written as 1 / (1 + (50 / t)^1.5), which cannot overflow.
  return 10.0 / (1.0 + std::pow(50.0 / tokens_per_second, 1.5));
}

double speed_score(double ttft_ms, double tokens_per_second) {
  return 0.5 * time_to_first_token_score(ttft_ms) + 0.5 * throughput_score(tokens_per_second);
}

std::optional<double> blended_price(std::optional<double> input_usd_per_1m,
                                    std::optional<double> output_usd_per_1m) {
  const std::optional<double> in = usable_price(input_usd_per_1m);
  const std::optional<double> out = usable_price(output_usd_per_1m);
  if (in && out) return (3.0 * *in + *out) / 4.0;
  if (in) return in;
  return out;
}

double cost_score(std::optional<double> blended_usd_per_1m) {
  const std::optional<double> price = usable_price(blended_usd_per_1m);
  if (!price) return kMissingPriceScore;
  return 10.0 / (1.0 + *price / 3.0);
}

double value_factor(std::optional<double> output_usd_per_1m) {
  const std::optional<double> price = usable_price(output_usd_per_1m);
  if (!price) return 0.5;
  if (*price == 0) return 1.0;
  // (1e6 / p) / (1e6 / p + 1e5) = 10 / (10 + p)
  return 10.0 / (10.0 + *price);
}

double output_share_factor(std::uint64_t context_window_tokens, std::uint64_t max_output_tokens) {
  if (context_window_tokens == 0 || max_output_tokens == 0) return 0.5;
  const double share =
      std::min(1.0, static_cast<double>(max_output_tokens) / static_cast<double>(context_window_tokens));
  return saturating(share, 0.125);
}

double efficiency_score(std::optional<double> output_usd_per_1m, std::uint64_t context_window_tokens,
                        std::uint64_t max_output_tokens, double error_rate) {
  if (std::isnan(error_rate)) error_rate = kDefaultErrorRate;
  const double success = 1.0 - std::clamp(error_rate, 0.0, 1.0);
  return 10.0 * success *
         (0.6 * value_factor(output_usd_per_1m) +
          0.4 * output_share_factor(context_window_tokens, max_output_tokens));
}

double feature_capability(const ModelInputs& inputs) {
  double points = 0;
  if (inputs.reasoning) points += 1.5;
  if (inputs.tool_call) points += 1.0;
  if (inputs.structured_output) points += 0.5;
  if (inputs.attachment) points += 0.5;
  points += 2.0 * saturating(static_cast<double>(inputs.context_window_tokens), 128000.0);
  points += 1.0 * saturating(static_cast<double>(inputs.max_output_tokens), 16384.0);
  std::set<std::string, std::less<>> modalities;
  for (const auto* list : {&inputs.input_modalities, &inputs.output_modalities}) {
    for (const std::string& m : *list) {
      if (m != "text" && !m.empty()) modalities.insert(m);
    }
  }
  points += 1.5 * (1.0 - std::pow(0.5, static_cast<double>(modalities.size())));
  return std::clamp(10.0 * points / 8.0, 0.0, 10.0);
}

double arena_capability(double rating) {
  if (std::isnan(rating)) return 5.0;
  return 10.0 / (1.0 + std::pow(10.0, (1200.0 - rating) / 400.0));
}

double capability_score(const ModelInputs& inputs) {
  const double features = feature_capability(inputs);
  if (!inputs.arena_rating || std::isnan(*inputs.arena_rating)) return features;
  return (1.0 - kArenaBlend) * features + kArenaBlend * arena_capability(*inputs.arena_rating);
}

std::optional<std::chrono::sys_days> parse_model_date(std::string_view text) {
  // YYYY-MM or YYYY-MM-DD, nothing else (no spaces, no time).
  if (text.size() != 7 && text.size() != 10) return std::nullopt;
  const std::string_view y = text.substr(0, 4);
  const std::string_view m = text.substr(5, 2);
  if (text[4] != '-' || !all_digits(y) || !all_digits(m)) return std::nullopt;
  unsigned day = 1;
  if (text.size() == 10) {
    const std::string_view d = text.substr(8, 2);
    if (text[7] != '-' || !all_digits(d)) return std::nullopt;
    day = static_cast<unsigned>(to_int(d));
  }
  const std::chrono::year_month_day ymd{std::chrono::year{to_int(y)},
                                        std::chrono::month{static_cast<unsigned>(to_int(m))},
                                        std::chrono::day{day}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd};
}

std::optional<std::chrono::sys_days> recency_date(const ModelInputs& inputs) {
  for (const std::string* field : {&inputs.release_date, &inputs.last_updated, &inputs.knowledge_cutoff}) {
    if (auto date = parse_model_date(*field)) return date;
  }
  return std::nullopt;
}

double age_in_days(std::chrono::sys_days date, std::chrono::sys_seconds reference) {
  const std::chrono::sys_seconds start{date};
  return static_cast<double>((reference - start).count()) / 86400.0;
}

double recency_score(std::optional<double> age_days) {
  if (!age_days || std::isnan(*age_days)) return kMissingDateScore;
  const double age = std::max(0.0, *age_days);
  return 10.0 * std::exp2(-age / kRecencyHalfLifeDays);
}

ComponentResult compute_components(const ModelInputs& inputs, std::chrono::sys_seconds reference) {
  ComponentResult result;
  const std::optional<double> in = usable_price(inputs.input_usd_per_1m_tokens);
  const std::optional<double> out = usable_price(inputs.output_usd_per_1m_tokens);
  result.flags.price_missing = !in && !out;
  result.flags.price_partial = static_cast<bool>(in) != static_cast<bool>(out);
  result.flags.performance_default = inputs.performance_source == PerformanceSource::kDefault;

  result.components.speed = speed_score(inputs.time_to_first_token_ms, inputs.tokens_per_second);
  result.components.efficiency = efficiency_score(out ? out : in, inputs.context_window_tokens,
                                                  inputs.max_output_tokens, inputs.error_rate);
  result.components.cost = cost_score(blended_price(in, out));
  result.components.capability = capability_score(inputs);
  const std::optional<std::chrono::sys_days> date = recency_date(inputs);
  result.flags.date_missing = !date;
  result.components.recency =
      recency_score(date ? std::optional(age_in_days(*date, reference)) : std::nullopt);
  return result;
}

}  // namespace rally::scoring
