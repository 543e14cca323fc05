// Rate limiters: the Redis one every gateway replica shares, and the per-process one it falls back to while
// Redis is unreachable.
//
// Algorithm: fixed windows aligned to multiples of the window length (a 60 s window runs from one whole
// minute to the next). The X-RateLimit-* headers need a limit, what is left and when it resets, and fixed
// windows give all three exactly, with one small hash per (class, subject) that expires with its window.
// Sliding logs cost memory per request, and GCRA has no natural "remaining" or "reset"; the price of fixed
// windows, up to twice the limit across a window boundary, is acceptable for fair-use limits.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gateway/edge/access.h"
#include "gateway/edge/rate_limit_classes.h"

namespace rally::common {
class RedisClient;
struct RedisSettings;
namespace metrics {
class Counter;
class Gauge;
class Registry;
template <typename Metric>
class Family;
}  // namespace metrics
}  // namespace rally::common

namespace rally::gateway::edge {

// The headers of a limited response: X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset (unix
// seconds) and, when refused, Retry-After (seconds, at least 1).
std::vector<std::pair<std::string, std::string>> rate_limit_headers(const RateLimitDecision& decision);

// Fixed windows in this process's memory, behind one mutex. Windows are forgotten when they end, and at
// most `max_windows` are kept (the one ending first makes room), so memory stays bounded however many
// subjects call. Decisions say fallback = false; RedisRateLimiter marks the ones it takes from here.
class LocalRateLimiter final : public RateLimiter {
 public:
  static constexpr std::size_t kDefaultMaxWindows = 100'000;

  explicit LocalRateLimiter(std::size_t max_windows = kDefaultMaxWindows);

  RateLimitDecision check(std::string_view subject, std::string_view route_class,
                          const RateLimitRule& rule) override;
  // The same at a given time (tests).
  RateLimitDecision check_at(std::string_view subject, std::string_view route_class,
                             const RateLimitRule& rule, std::chrono::system_clock::time_point now);

  // Windows held now (tests, and a bound to watch).
  std::size_t window_count() const;

 private:
  struct Window {
    std::int64_t start = 0;  // unix seconds
    std::int64_t end = 0;
    std::uint32_t count = 0;
    std::multimap<std::int64_t, std::string>::iterator by_end;
  };

  void evict_ended(std::int64_t now);

  const std::size_t max_windows_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;  // by "class\0subject"
  std::multimap<std::int64_t, std::string> ends_;    // window end -> key, to find ended windows at once
};

// One Lua script per check on Redis (atomic), so every replica pointed at the same Redis shares the limits.
// The script reads the time from Redis (TIME): replicas' clocks never decide a window. Checks are spread
// round-robin over `connections` clients, each with RedisSettings' connect and command timeouts and
// reconnect backoff. When a check fails (unreachable, timed out, an error reply) the LocalRateLimiter
// decides it with the same rule and the decision says fallback = true; the switch to the fallback and back
// is logged once each way.
//
// Metrics: rally_gateway_rate_limit_decisions_total{class,decision="allowed|limited"},
// rally_gateway_rate_limit_fallback (1 while falling back), rally_gateway_rate_limit_redis_errors_total.
class RedisRateLimiter final : public RateLimiter {
 public:
  RedisRateLimiter(const common::RedisSettings& redis, std::size_t connections,
                   common::metrics::Registry& registry);
  ~RedisRateLimiter() override;
  RedisRateLimiter(const RedisRateLimiter&) = delete;
  RedisRateLimiter& operator=(const RedisRateLimiter&) = delete;

  RateLimitDecision check(std::string_view subject, std::string_view route_class,
                          const RateLimitRule& rule) override;

  // True while the last check fell back to the local limiter.
  bool falling_back() const;

 private:
  // Redis's decision; throws common::RedisUnavailable when there is none.
  RateLimitDecision check_redis(std::string_view subject, std::string_view route_class,
                                const RateLimitRule& rule);
  void note_redis(bool reachable, std::string_view error);

  struct DecisionCounters {
    common::metrics::Counter* allowed;
    common::metrics::Counter* limited;
  };
  DecisionCounters counters_for(std::string_view route_class) const;

  std::vector<std::unique_ptr<common::RedisClient>> clients_;
  std::atomic<std::size_t> next_client_{0};
  LocalRateLimiter local_;
  std::atomic<bool> falling_back_{false};
  std::mutex transition_mutex_;  // orders the switches with what they log and set
  common::metrics::Family<common::metrics::Counter>& decisions_;
  // The children of decisions_ for kRateLimitClasses, made once: no lookup under the family's lock per check.
  const std::map<std::string, DecisionCounters, std::less<>> class_counters_;
  common::metrics::Gauge& fallback_gauge_;
  common::metrics::Counter& redis_errors_;
};

// The limiter `settings` ask for, its rules logged: a RedisRateLimiter, or null when rate limits are off
// (logged as a warning).
std::unique_ptr<RateLimiter> make_rate_limiter(const RateLimitSettings& settings,
                                               const common::RedisSettings& redis,
                                               common::metrics::Registry& registry);

}  // namespace rally::gateway::edge
