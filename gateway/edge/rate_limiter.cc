#include "gateway/edge/rate_limiter.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "services/common/metrics.h"
#include "services/common/redis_client.h"

namespace rally::gateway::edge {
namespace {

using common::RedisReply;
using common::RedisUnavailable;

// One check, atomic because Redis runs a script alone. KEYS[1] is the (class, subject)'s hash
// {start, count}; ARGV: limit, window (seconds). The window comes from Redis's own clock (TIME), so
// replicas whose clocks disagree still agree on every window. The window start is kept in the hash rather
// than in the key, so the script touches only the key it is given, and a count left from the previous
// window is never taken for this one, however the expiry falls. Refused requests are not counted: the
// count never passes the limit, and a client that keeps knocking is admitted again when the window ends.
// Returns {allowed (0|1), count, window end, now}, times in unix seconds.
constexpr std::string_view kScript = R"lua(
local time = redis.call('TIME')
local now = tonumber(time[1])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local start = now - now % window
local stored = redis.call('HMGET', KEYS[1], 'start', 'count')
local count = 0
if tonumber(stored[1]) == start then
  count = tonumber(stored[2])
end
local allowed = 0
if count < limit then
  allowed = 1
  count = count + 1
  redis.call('HSET', KEYS[1], 'start', start, 'count', count)
  redis.call('EXPIREAT', KEYS[1], start + window)
end
return {allowed, count, start + window, now}
)lua";

const common::RedisScript& check_script() {
  static const common::RedisScript script{std::string(kScript)};
  return script;
}

std::string redis_key(std::string_view route_class, std::string_view subject) {
  std::string key = "rally:rl:";
  key.append(route_class).append(":").append(subject);
  return key;
}

std::int64_t window_seconds(const RateLimitRule& rule) {
  return std::max<std::int64_t>(1, rule.window.count());
}

// What one check tells the caller, once `count` requests (this one included when allowed) are in the
// window ending at `end`.
RateLimitDecision decision_of(const RateLimitRule& rule, bool allowed, std::int64_t count, std::int64_t end,
                              std::int64_t now) {
  RateLimitDecision decision;
  decision.allowed = allowed;
  decision.limit = rule.limit;
  decision.remaining = static_cast<std::uint32_t>(std::max<std::int64_t>(0, rule.limit - count));
  decision.reset_unix = end;
  // `now` is rounded down, so end - now is the wait rounded up.
  decision.retry_after =
      allowed ? std::chrono::seconds(0) : std::chrono::seconds(std::max<std::int64_t>(1, end - now));
  return decision;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> rate_limit_headers(const RateLimitDecision& decision) {
  std::vector<std::pair<std::string, std::string>> headers{
      {"X-RateLimit-Limit", std::to_string(decision.limit)},
      {"X-RateLimit-Remaining", std::to_string(decision.remaining)},
      {"X-RateLimit-Reset", std::to_string(decision.reset_unix)},
  };
  if (!decision.allowed) {
    headers.emplace_back("Retry-After",
                         std::to_string(std::max<std::int64_t>(1, decision.retry_after.count())));
  }
  return headers;
}

LocalRateLimiter::LocalRateLimiter(std::size_t max_windows)
    : max_windows_(std::max<std::size_t>(1, max_windows)) {}

RateLimitDecision LocalRateLimiter::check(std::string_view subject, std::string_view route_class,
                                          const RateLimitRule& rule) {
  return check_at(subject, route_class, rule, std::chrono::system_clock::now());
}

RateLimitDecision LocalRateLimiter::check_at(std::string_view subject, std::string_view route_class,
                                             const RateLimitRule& rule,
                                             std::chrono::system_clock::time_point now) {
  const std::int64_t now_s = std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
  const std::int64_t window = window_seconds(rule);
  const std::int64_t start = now_s - now_s % window;
  const std::int64_t end = start + window;
  std::string key;
  key.append(route_class).push_back('\0');
  key.append(subject);

  std::lock_guard lock(mutex_);
  evict_ended(now_s);
  auto found = windows_.find(key);
  if (found == windows_.end()) {
    if (windows_.size() >= max_windows_) {
      windows_.erase(ends_.begin()->second);
      ends_.erase(ends_.begin());
    }
    const auto by_end = ends_.emplace(end, key);
    found = windows_.emplace(std::move(key), Window{start, end, 0, by_end}).first;
  } else if (found->second.start != start) {  // the rule's window length changed
    ends_.erase(found->second.by_end);
    found->second = Window{start, end, 0, ends_.emplace(end, found->first)};
  }
  Window& current = found->second;
  const bool allowed = current.count < rule.limit;
  if (allowed) {
    ++current.count;
  }
  return decision_of(rule, allowed, current.count, end, now_s);
}

std::size_t LocalRateLimiter::window_count() const {
  std::lock_guard lock(mutex_);
  return windows_.size();
}

void LocalRateLimiter::evict_ended(std::int64_t now) {
  while (!ends_.empty() && ends_.begin()->first <= now) {
    windows_.erase(ends_.begin()->second);
    ends_.erase(ends_.begin());
  }
}

RedisRateLimiter::RedisRateLimiter(const common::RedisSettings& redis, std::size_t connections,
                                   common::metrics::Registry& registry)
    : decisions_(registry.counter("rally_gateway_rate_limit_decisions_total",
                                  "Rate-limit checks by route class and decision (allowed, limited)",
                                  {"class", "decision"})),
      class_counters_([this] {
        std::map<std::string, DecisionCounters, std::less<>> counters;
        for (const std::string_view route_class : kRateLimitClasses) {
          counters.emplace(route_class,
                           DecisionCounters{&decisions_.labels({std::string(route_class), "allowed"}),
                                            &decisions_.labels({std::string(route_class), "limited"})});
        }
        return counters;
      }()),
      fallback_gauge_(registry
                          .gauge("rally_gateway_rate_limit_fallback",
                                 "1 while rate limits are decided per process because Redis is unreachable")
                          .labels()),
      redis_errors_(registry
                        .counter("rally_gateway_rate_limit_redis_errors_total",
                                 "Rate-limit checks Redis did not answer (each decided per process instead)")
                        .labels()) {
  clients_.reserve(std::max<std::size_t>(1, connections));
  for (std::size_t i = 0; i < std::max<std::size_t>(1, connections); ++i) {
    clients_.push_back(std::make_unique<common::RedisClient>(redis));
  }
  fallback_gauge_.set(0);
}

RedisRateLimiter::~RedisRateLimiter() = default;

RateLimitDecision RedisRateLimiter::check(std::string_view subject, std::string_view route_class,
                                          const RateLimitRule& rule) {
  RateLimitDecision decision;
  try {
    decision = check_redis(subject, route_class, rule);
    note_redis(true, {});
  } catch (const RedisUnavailable& e) {
    redis_errors_.inc();
    note_redis(false, e.what());
    decision = local_.check(subject, route_class, rule);
    decision.fallback = true;
  }
  const DecisionCounters counters = counters_for(route_class);
  (decision.allowed ? counters.allowed : counters.limited)->inc();
  return decision;
}

bool RedisRateLimiter::falling_back() const {
  return falling_back_.load();
}

RateLimitDecision RedisRateLimiter::check_redis(std::string_view subject, std::string_view route_class,
                                                const RateLimitRule& rule) {
  common::RedisClient& client =
      *clients_[next_client_.fetch_add(1, std::memory_order_relaxed) % clients_.size()];
  const RedisReply reply = client.eval(check_script(), {redis_key(route_class, subject)},
                                       {std::to_string(rule.limit), std::to_string(window_seconds(rule))});
  const bool well_formed =
      reply.type == RedisReply::Type::kArray && reply.elements.size() == 4 &&
      std::all_of(reply.elements.begin(), reply.elements.end(),
                  [](const RedisReply& element) { return element.type == RedisReply::Type::kInteger; });
  if (!well_formed) {
    // An error reply (OOM, LOADING, a replica that is read-only, ...) means no shared decision either.
    throw RedisUnavailable("Redis answered the rate-limit script with " +
                           (reply.is_error() ? reply.str : std::string("an unexpected reply")));
  }
  return decision_of(rule, reply.elements[0].integer == 1, reply.elements[1].integer,
                     reply.elements[2].integer, reply.elements[3].integer);
}

void RedisRateLimiter::note_redis(bool reachable, std::string_view error) {
  // Only a switch takes the lock; a check in the steady state reads one atomic.
  if (falling_back_.load() != reachable) {
    return;
  }
  std::lock_guard lock(transition_mutex_);
  if (falling_back_.load() != reachable) {
    return;
  }
  falling_back_.store(!reachable);
  fallback_gauge_.set(reachable ? 0 : 1);
  if (reachable) {
    spdlog::info("rate limits: Redis answers again; limits are shared by every replica again");
  } else {
    spdlog::warn("rate limits: Redis unavailable ({}); each replica limits on its own until it is back",
                 error);
  }
}

RedisRateLimiter::DecisionCounters RedisRateLimiter::counters_for(std::string_view route_class) const {
  if (const auto found = class_counters_.find(route_class); found != class_counters_.end()) {
    return found->second;
  }
  return {&decisions_.labels({std::string(route_class), "allowed"}),
          &decisions_.labels({std::string(route_class), "limited"})};
}

std::unique_ptr<RateLimiter> make_rate_limiter(const RateLimitSettings& settings,
                                               const common::RedisSettings& redis,
                                               common::metrics::Registry& registry) {
  if (!settings.enabled) {
    spdlog::warn("rate limits: {}", describe(settings));
    return nullptr;
  }
  spdlog::info(
      "rate limits per caller (token, or address when anonymous): {}; shared through Redis at {} "
      "over {} connections",
      describe(settings), redis.address.to_string(), settings.connections);
  return std::make_unique<RedisRateLimiter>(redis, settings.connections, registry);
}

}  // namespace rally::gateway::edge
