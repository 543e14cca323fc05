// The route classes that rate limits count separately, their default rules and the settings that change
// them. Pure: no I/O, no clocks.
//
// A rule's `limit` of 0 means "not limited" (what admission skips): a class switched off, every class when
// RALLY_GATEWAY_RATE_LIMITS=off, or a token's override of 0.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "gateway/edge/access.h"

namespace rally::common {
class ConfigSource;
}

namespace rally::gateway::edge {

// Every route class, as routes name them in RoutePolicy::rate_class and tokens in Principal::rate_limits.
// The first four are the seed's (scoring API reference, "Rate Limiting").
inline constexpr std::array<std::string_view, 9> kRateLimitClasses = {
    "score",     // score calculation: 100/60s
    "batch",     // batch operations: 10/60s
    "naming",    // model naming (suffixes): 200/60s
    "compare",   // score comparison: 50/60s
    "llm",       // LLM calls (completions, streams, the OpenAI API): 60/60s
    "vote",      // arena votes and battles: 120/60s
    "critique",  // on-chain critiques (each costs gas): 20/60s
    "read",      // every other read: 600/60s
    "admin",     // token and configuration administration: 60/60s
};

bool is_rate_limit_class(std::string_view name);

// The default rule of each class in kRateLimitClasses.
std::map<std::string, RateLimitRule, std::less<>> default_rate_limit_rules();

struct RateLimitSettings {
  // RALLY_GATEWAY_RATE_LIMITS=on|off. Off admits every request unlimited (logged as a warning at start).
  bool enabled = true;
  // One rule per class in kRateLimitClasses. RALLY_GATEWAY_RATE_LIMIT_<CLASS>=N/WINDOW ("100/60s", "10/1m")
  // or "off" (limit 0, the window kept for tokens' overrides).
  std::map<std::string, RateLimitRule, std::less<>> rules = default_rate_limit_rules();
  // Redis connections the limiter spreads its checks over. RALLY_GATEWAY_RATE_LIMIT_CONNECTIONS
  std::size_t connections = 4;

  // Throws common::ConfigError naming the key of the first bad value.
  static RateLimitSettings from(const common::ConfigSource& config);
};

// "100/60s", or "off" for a limit of 0.
std::string to_string(const RateLimitRule& rule);

// One line for the start-up log: "off (RALLY_GATEWAY_RATE_LIMITS=off): no request is limited" or
// "score 100/60s, batch 10/60s, ...".
std::string describe(const RateLimitSettings& settings);

// The rule of `route_class` for `caller`: the class's rule with the caller's override of its limit
// (Principal::rate_limits) when it has one; limit 0 when rate limits are off. The window is always the
// class's. `route_class` must be one of kRateLimitClasses (std::invalid_argument otherwise: routes are
// registered with known classes, see is_rate_limit_class).
RateLimitRule rule_for(const RateLimitSettings& settings, std::string_view route_class,
                       const Principal& caller);

}  // namespace rally::gateway::edge
