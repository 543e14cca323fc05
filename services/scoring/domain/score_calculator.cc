#include "services/scoring/domain/score_calculator.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <vector>

#include "services/common/digest.h"
#include "services/scoring/domain/score_format.h"

namespace rally::scoring {
namespace {

constexpr std::string_view kMissing = "~";

std::string shortest(double value) {
  std::array<char, 64> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  return ec == std::errc() ? std::string(buf.data(), end) : std::string("?");
}

bool plain_byte(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '/' || c == '+' || c == '-';
}

std::string escaped(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (plain_byte(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string modality_list(const std::vector<std::string>& modalities) {
  std::vector<std::string> sorted;
  for (const std::string& m : modalities) {
    if (!m.empty()) sorted.push_back(escaped(m));
  }
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string out;
  for (const std::string& m : sorted) {
    if (!out.empty()) out.push_back(',');
    out += m;
  }
  return out;
}

class Lines {
 public:
  void add(std::string_view key, std::string_view value) {
    text_.append(key);
    text_.push_back('=');
    text_.append(value);
    text_.push_back('\n');
  }
  void add(std::string_view key, double value) { add(key, shortest(value)); }
  void add(std::string_view key, const std::optional<double>& value) {
    if (value) {
      add(key, *value);
    } else {
      add(key, kMissing);
    }
  }
  void add_bool(std::string_view key, bool value) { add(key, value ? std::string_view("1") : "0"); }
  void add_count(std::string_view key, std::uint64_t value) { add(key, std::to_string(value)); }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

}  // namespace

double overall_score(const ScoreComponents& c, const ScoreWeights& w) {
  const double sum = w.response_speed * c.speed + w.model_efficiency * c.efficiency +
                     w.cost_effectiveness * c.cost + w.capability * c.capability + w.recency * c.recency;
  return clamp_score(sum);
}

std::string canonical_form(const ModelInputs& in, const ScoreWeights& weights,
                           std::chrono::sys_seconds reference, std::string_view algorithm_version) {
  Lines lines;
  lines.add("canonical", "rally-score-canonical/1");
  lines.add("algorithm_version", escaped(algorithm_version));
  lines.add("input_usd_per_1m_tokens", in.input_usd_per_1m_tokens);
  lines.add("output_usd_per_1m_tokens", in.output_usd_per_1m_tokens);
  lines.add_count("context_window_tokens", in.context_window_tokens);
  lines.add_count("max_output_tokens", in.max_output_tokens);
  lines.add("release_date", escaped(in.release_date));
  lines.add("last_updated", escaped(in.last_updated));
  lines.add("knowledge_cutoff", escaped(in.knowledge_cutoff));
  lines.add_bool("reasoning", in.reasoning);
  lines.add_bool("tool_call", in.tool_call);
  lines.add_bool("structured_output", in.structured_output);
  lines.add_bool("attachment", in.attachment);
  lines.add("input_modalities", modality_list(in.input_modalities));
  lines.add("output_modalities", modality_list(in.output_modalities));
  lines.add_bool("open_weights", in.open_weights);
  lines.add("time_to_first_token_ms", in.time_to_first_token_ms);
  lines.add("tokens_per_second", in.tokens_per_second);
  lines.add("error_rate", in.error_rate);
  lines.add("performance_source", performance_source_name(in.performance_source));
  lines.add("arena_rating", in.arena_rating);
  const std::array<double, 5> values = weights.values();
  for (std::size_t i = 0; i < values.size(); ++i) {
    lines.add("weight." + std::string(kWeightKeys[i]), values[i]);
  }
  lines.add("reference_time", std::to_string(reference.time_since_epoch().count()));
  return lines.take();
}

std::string calculation_hash(const ModelInputs& inputs, const ScoreWeights& weights,
                             std::chrono::sys_seconds reference, std::string_view algorithm_version) {
  return common::sha256_hex(canonical_form(inputs, weights, reference, algorithm_version));
}

ScoreComponents round_components(const ScoreComponents& c) {
  return ScoreComponents{.speed = round_to_tenth(c.speed),
                         .efficiency = round_to_tenth(c.efficiency),
                         .cost = round_to_tenth(c.cost),
                         .capability = round_to_tenth(c.capability),
                         .recency = round_to_tenth(c.recency)};
}

ScoreResult calculate_score(const ModelInputs& inputs, const NormalizedWeights& weights,
                            std::chrono::sys_seconds reference) {
  const ComponentResult parts = compute_components(inputs, reference);
  ScoreResult result;
  result.components = parts.components;
  result.flags = parts.flags;
  result.overall = overall_score(parts.components, weights.weights);
  result.rounded_components = round_components(parts.components);
  result.rounded_overall = round_to_tenth(result.overall);
  result.score_suffix = score_suffix(result.overall);
  result.weights = weights.weights;
  result.weights_normalized = weights.normalized;
  result.algorithm_version = std::string(kAlgorithmVersion);
  result.calculation_hash = calculation_hash(inputs, weights.weights, reference);
  return result;
}

}  // namespace rally::scoring
