#include "gateway/edge/rate_limit_classes.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <utility>

#include "services/common/config.h"

namespace rally::gateway::edge {
namespace {

using std::chrono::seconds;

constexpr std::string_view kRuleFormat = "off or N/WINDOW such as 100/60s, 10/1m or 1000/1h";
constexpr std::int64_t kMaxLimit = 1'000'000'000;
constexpr std::chrono::hours kMaxWindow{24};

char upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

std::string key_of(std::string_view route_class) {
  std::string key = "RALLY_GATEWAY_RATE_LIMIT_";
  for (const char c : route_class) {
    key.push_back(upper(c));
  }
  return key;
}

// "N/WINDOW" or "off" from `key`. The two halves are read as any other RALLY_* integer and duration, so
// they take the same forms and their errors read alike.
RateLimitRule parse_rule(const std::string& key, const std::string& text, const RateLimitRule& fallback) {
  // Case aside, as RALLY_GATEWAY_RATE_LIMITS=off (a boolean) is read.
  if (std::ranges::equal(text, std::string_view("OFF"), {}, upper)) {
    return {0, fallback.window};
  }
  const std::size_t slash = text.find('/');
  if (slash == std::string::npos) {
    throw common::ConfigError(key, "expected " + std::string(kRuleFormat) + ", got \"" + text + "\"");
  }
  const auto halves = common::ConfigSource::from_values(
      {}, {{"limit", text.substr(0, slash)}, {"window", text.substr(slash + 1)}});
  try {
    const auto limit = halves.get_int("limit", 0, 1, kMaxLimit);
    const auto window = halves.get_duration("window", {}, seconds(1), kMaxWindow);
    if (window % seconds(1) != std::chrono::milliseconds(0)) {
      throw common::ConfigError(key, "the window must be whole seconds, got \"" + text + "\"");
    }
    return {static_cast<std::uint32_t>(limit), std::chrono::duration_cast<seconds>(window)};
  } catch (const common::ConfigError& e) {
    if (e.key() == key) {
      throw;
    }
    throw common::ConfigError(key, "expected " + std::string(kRuleFormat) + " (" + e.what() + ")");
  }
}

}  // namespace

bool is_rate_limit_class(std::string_view name) {
  return std::find(kRateLimitClasses.begin(), kRateLimitClasses.end(), name) != kRateLimitClasses.end();
}

std::map<std::string, RateLimitRule, std::less<>> default_rate_limit_rules() {
  const seconds minute(60);
  return {
      {"score", {100, minute}},   {"batch", {10, minute}}, {"naming", {200, minute}},
      {"compare", {50, minute}},  {"llm", {60, minute}},   {"vote", {120, minute}},
      {"critique", {20, minute}}, {"read", {600, minute}}, {"admin", {60, minute}},
  };
}

RateLimitSettings RateLimitSettings::from(const common::ConfigSource& config) {
  const RateLimitSettings defaults;
  RateLimitSettings settings;
  settings.enabled = config.get_bool("RALLY_GATEWAY_RATE_LIMITS", defaults.enabled);
  for (auto& [route_class, rule] : settings.rules) {
    const std::string key = key_of(route_class);
    if (const auto text = config.raw(key)) {
      rule = parse_rule(key, *text, rule);
    }
  }
  settings.connections = static_cast<std::size_t>(config.get_int(
      "RALLY_GATEWAY_RATE_LIMIT_CONNECTIONS", static_cast<std::int64_t>(defaults.connections), 1, 64));
  return settings;
}

std::string to_string(const RateLimitRule& rule) {
  if (rule.limit == 0) {
    return "off";
  }
  return std::to_string(rule.limit) + "/" + std::to_string(rule.window.count()) + "s";
}

std::string describe(const RateLimitSettings& settings) {
  if (!settings.enabled) {
    return "off (RALLY_GATEWAY_RATE_LIMITS=off): no request is limited";
  }
  std::string text;
  for (const std::string_view route_class : kRateLimitClasses) {
    if (!text.empty()) {
      text += ", ";
    }
    text += std::string(route_class) + " " + to_string(settings.rules.at(std::string(route_class)));
  }
  return text;
}

RateLimitRule rule_for(const RateLimitSettings& settings, std::string_view route_class,
                       const Principal& caller) {
  const auto rule = settings.rules.find(route_class);
  if (rule == settings.rules.end()) {
    throw std::invalid_argument("unknown rate limit class \"" + std::string(route_class) + "\"");
  }
  if (!settings.enabled) {
    return {0, rule->second.window};
  }
  const auto override_limit = caller.rate_limits.find(route_class);
  if (override_limit == caller.rate_limits.end()) {
    return rule->second;
  }
  return {override_limit->second, rule->second.window};
}

}  // namespace rally::gateway::edge
