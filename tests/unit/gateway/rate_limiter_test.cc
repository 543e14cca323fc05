// The rate limiters: LocalRateLimiter with injected time, RedisRateLimiter against real Redis servers (the
// shared throwaway one, and one of the test's own for outages).
#include "gateway/edge/rate_limiter.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "services/common/metrics.h"
#include "services/common/redis_client.h"
#include "tests/support/process.h"
#include "tests/support/servers.h"
#include "tests/support/test_env.h"

namespace rally::gateway::edge {
namespace {

using common::HostPort;
using common::RedisSettings;
using common::metrics::Registry;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;
using Headers = std::vector<std::pair<std::string, std::string>>;

// Short timeouts: an outage is noticed within 100 ms.
RedisSettings settings_for(HostPort address, std::string password = "") {
  return {.address = std::move(address),
          .password = std::move(password),
          .connect_timeout = milliseconds(100),
          .command_timeout = milliseconds(100),
          .reconnect_backoff = milliseconds(100)};
}

// A subject of this run only, so parallel runs on the shared server never count each other's requests.
std::string unique_subject(std::string_view name) {
  std::random_device device;
  return "test:" + std::to_string(device()) + std::to_string(device()) + ":" + std::string(name);
}

std::int64_t unix_now() {
  return std::chrono::floor<seconds>(system_clock::now().time_since_epoch()).count();
}

// Waits until a window of `window` has just begun, so the few checks that follow fall into one window.
void wait_for_window_start(seconds window) {
  const std::int64_t next = (unix_now() / window.count() + 1) * window.count();
  std::this_thread::sleep_until(system_clock::time_point(seconds(next)) + milliseconds(20));
}

double counter_value(Registry& registry, const std::string& name, const std::vector<std::string>& labels = {},
                     const std::vector<std::string>& label_names = {}) {
  return registry.counter(name, "", label_names).labels(labels).value();
}

double decisions(Registry& registry, const std::string& route_class, const std::string& decision) {
  return counter_value(registry, "rally_gateway_rate_limit_decisions_total", {route_class, decision},
                       {"class", "decision"});
}

double fallback_gauge(Registry& registry) {
  return registry.gauge("rally_gateway_rate_limit_fallback", "").labels().value();
}

// Two gateway replicas' limiters on the shared throwaway Redis.
struct TwoReplicas {
  explicit TwoReplicas(std::size_t connections)
      : a(settings_for(rally::testing::redis_address()), connections, registry),
        b(settings_for(rally::testing::redis_address()), connections, registry) {}

  Registry registry;
  RedisRateLimiter a;
  RedisRateLimiter b;
};

TEST_CASE("rate_limit_headers carry limit, remaining and reset, and Retry-After when refused",
          "[rate_limits]") {
  RateLimitDecision decision;
  decision.limit = 100;
  decision.remaining = 95;
  decision.reset_unix = 1640620800;
  CHECK(rate_limit_headers(decision) == Headers{{"X-RateLimit-Limit", "100"},
                                                {"X-RateLimit-Remaining", "95"},
                                                {"X-RateLimit-Reset", "1640620800"}});

  decision.allowed = false;
  decision.remaining = 0;
  decision.retry_after = seconds(42);
  CHECK(rate_limit_headers(decision) == Headers{{"X-RateLimit-Limit", "100"},
                                                {"X-RateLimit-Remaining", "0"},
                                                {"X-RateLimit-Reset", "1640620800"},
                                                {"Retry-After", "42"}});
  decision.retry_after = seconds(0);  // never tell a refused client to retry at once
  CHECK(rate_limit_headers(decision).back() == std::pair<std::string, std::string>{"Retry-After", "1"});
}

TEST_CASE("LocalRateLimiter counts down, refuses at the limit and resets with the window", "[rate_limits]") {
  LocalRateLimiter limiter;
  const RateLimitRule rule{3, seconds(60)};
  constexpr std::int64_t kMinuteStart = 1'700'000'040;  // a multiple of 60
  const system_clock::time_point t0(seconds(kMinuteStart + 40));
  const std::int64_t window_end = kMinuteStart + 60;

  for (const std::uint32_t remaining : {2u, 1u, 0u}) {
    const RateLimitDecision decision = limiter.check_at("ip:10.0.0.1", "score", rule, t0);
    CHECK(decision.allowed);
    CHECK(decision.limit == 3);
    CHECK(decision.remaining == remaining);
    CHECK(decision.reset_unix == window_end);
    CHECK(decision.retry_after == seconds(0));
    CHECK_FALSE(decision.fallback);
  }
  const RateLimitDecision refused = limiter.check_at("ip:10.0.0.1", "score", rule, t0 + milliseconds(500));
  CHECK_FALSE(refused.allowed);
  CHECK(refused.remaining == 0);
  CHECK(refused.reset_unix == window_end);
  CHECK(refused.retry_after == seconds(20));  // 19.5 s, rounded up

  CHECK(limiter.check_at("ip:10.0.0.2", "score", rule, t0).allowed);  // another subject
  CHECK(limiter.check_at("ip:10.0.0.1", "vote", rule, t0).allowed);   // another class

  const RateLimitDecision next_window =
      limiter.check_at("ip:10.0.0.1", "score", rule, system_clock::time_point(seconds(window_end)));
  CHECK(next_window.allowed);
  CHECK(next_window.remaining == 2);
  CHECK(next_window.reset_unix == window_end + 60);
}

TEST_CASE("LocalRateLimiter forgets ended windows and keeps at most its maximum", "[rate_limits]") {
  const RateLimitRule minute{5, seconds(60)};
  const RateLimitRule hour{5, seconds(3600)};
  const system_clock::time_point t0(seconds(1'700'000'000 - 1'700'000'000 % 3600));

  SECTION("ended windows are evicted") {
    LocalRateLimiter limiter;
    for (int i = 0; i < 100; ++i) {
      limiter.check_at("ip:10.0.1." + std::to_string(i), "read", minute, t0);
    }
    limiter.check_at("token:long", "read", hour, t0);
    CHECK(limiter.window_count() == 101);

    limiter.check_at("ip:10.0.2.1", "read", minute, t0 + seconds(60));
    CHECK(limiter.window_count() == 2);  // the hour's window and the new one
    CHECK(limiter.check_at("token:long", "read", hour, t0 + seconds(60)).remaining == 3);  // kept its count
  }

  SECTION("at the maximum, the window ending first makes room") {
    LocalRateLimiter limiter(3);
    limiter.check_at("token:hour", "read", hour, t0);
    limiter.check_at("token:minute", "read", minute, t0);
    limiter.check_at("token:hour2", "read", hour, t0);
    limiter.check_at("token:newcomer", "read", hour, t0);
    CHECK(limiter.window_count() == 3);
    CHECK(limiter.check_at("token:minute", "read", minute, t0).remaining == 4);  // counted afresh
    CHECK(limiter.window_count() == 3);
  }
}

TEST_CASE("RedisRateLimiter counts down and refuses at the limit with Retry-After", "[rate_limits][redis]") {
  Registry registry;
  RedisRateLimiter limiter(settings_for(rally::testing::redis_address()), 2, registry);
  const std::string subject = unique_subject("countdown");
  const RateLimitRule rule{3, seconds(3600)};

  std::int64_t reset = 0;
  for (const std::uint32_t remaining : {2u, 1u, 0u}) {
    const RateLimitDecision decision = limiter.check(subject, "score", rule);
    CHECK(decision.allowed);
    CHECK(decision.limit == 3);
    CHECK(decision.remaining == remaining);
    CHECK_FALSE(decision.fallback);
    reset = decision.reset_unix;
  }
  CHECK(reset % 3600 == 0);  // windows are aligned to their length
  CHECK(reset > unix_now() - 5);
  CHECK(reset <= unix_now() + 3600 + 5);

  const RateLimitDecision refused = limiter.check(subject, "score", rule);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.remaining == 0);
  CHECK(refused.reset_unix == reset);
  CHECK(refused.retry_after >= seconds(1));
  CHECK(refused.retry_after <= seconds(3600));
  CHECK_FALSE(refused.fallback);
  CHECK_FALSE(limiter.check(subject, "score", rule).allowed);  // refused ones are not counted, still refused

  CHECK(decisions(registry, "score", "allowed") == 3);
  CHECK(decisions(registry, "score", "limited") == 2);
  CHECK(fallback_gauge(registry) == 0);
  CHECK(counter_value(registry, "rally_gateway_rate_limit_redis_errors_total") == 0);
  CHECK_FALSE(limiter.falling_back());
}

TEST_CASE("RedisRateLimiter admits again once the window has passed", "[rate_limits][redis]") {
  Registry registry;
  RedisRateLimiter limiter(settings_for(rally::testing::redis_address()), 1, registry);
  const std::string subject = unique_subject("reset");
  const RateLimitRule rule{2, seconds(2)};

  wait_for_window_start(rule.window);
  CHECK(limiter.check(subject, "batch", rule).allowed);
  CHECK(limiter.check(subject, "batch", rule).allowed);
  const RateLimitDecision refused = limiter.check(subject, "batch", rule);
  REQUIRE_FALSE(refused.allowed);
  CHECK(refused.retry_after <= seconds(2));

  std::this_thread::sleep_until(system_clock::time_point(seconds(refused.reset_unix)) + milliseconds(50));
  const RateLimitDecision again = limiter.check(subject, "batch", rule);
  CHECK(again.allowed);
  CHECK(again.remaining == 1);
  CHECK(again.reset_unix == refused.reset_unix + 2);
}

TEST_CASE("two RedisRateLimiters, as two gateway replicas, share one limit", "[rate_limits][redis]") {
  TwoReplicas replicas(2);
  RedisRateLimiter& replica_a = replicas.a;
  RedisRateLimiter& replica_b = replicas.b;
  const std::string subject = unique_subject("replicas");
  const RateLimitRule rule{4, seconds(3600)};

  CHECK(replica_a.check(subject, "compare", rule).remaining == 3);
  CHECK(replica_b.check(subject, "compare", rule).remaining == 2);
  CHECK(replica_a.check(subject, "compare", rule).remaining == 1);
  CHECK(replica_b.check(subject, "compare", rule).remaining == 0);
  CHECK_FALSE(replica_a.check(subject, "compare", rule).allowed);
  CHECK_FALSE(replica_b.check(subject, "compare", rule).allowed);
}

TEST_CASE("concurrent checks through every connection admit exactly the limit", "[rate_limits][redis]") {
  TwoReplicas replicas(4);
  const std::string subject = unique_subject("concurrent");
  const RateLimitRule rule{100, seconds(3600)};

  std::atomic<int> admitted{0};
  std::atomic<int> fell_back{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      RedisRateLimiter& replica = t % 2 == 0 ? replicas.a : replicas.b;
      for (int i = 0; i < 30; ++i) {
        const RateLimitDecision decision = replica.check(subject, "read", rule);
        admitted += decision.allowed ? 1 : 0;
        fell_back += decision.fallback ? 1 : 0;
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  REQUIRE(fell_back == 0);
  CHECK(admitted == 100);
  CHECK(decisions(replicas.registry, "read", "allowed") == 100);
  CHECK(decisions(replicas.registry, "read", "limited") == 140);
}

TEST_CASE("RedisRateLimiter keeps subjects and classes apart", "[rate_limits][redis]") {
  Registry registry;
  RedisRateLimiter limiter(settings_for(rally::testing::redis_address()), 4, registry);
  const std::string token = unique_subject("token:a");
  const std::string address = unique_subject("ip:10.0.0.1");
  const RateLimitRule one{1, seconds(3600)};

  CHECK(limiter.check(token, "naming", one).allowed);
  CHECK_FALSE(limiter.check(token, "naming", one).allowed);
  CHECK(limiter.check(address, "naming", one).allowed);  // another subject, same class
  CHECK(limiter.check(token, "llm", one).allowed);       // same subject, another class
  CHECK_FALSE(limiter.check(address, "naming", one).allowed);
}

TEST_CASE("RedisRateLimiter applies a token's override of its class's limit", "[rate_limits][redis]") {
  Registry registry;
  RedisRateLimiter limiter(settings_for(rally::testing::redis_address()), 2, registry);
  const RateLimitSettings settings;  // score: 100/60s
  Principal token;
  token.token_id = unique_subject("override");
  token.rate_limits = {{"score", 2}};
  Principal other;
  other.token_id = unique_subject("default");

  const RateLimitRule overridden = rule_for(settings, "score", token);
  const RateLimitDecision first = limiter.check(token.token_id, "score", overridden);
  CHECK(first.limit == 2);
  CHECK(first.remaining == 1);
  CHECK(limiter.check(token.token_id, "score", overridden).allowed);
  CHECK_FALSE(limiter.check(token.token_id, "score", overridden).allowed);

  const RateLimitDecision unaffected =
      limiter.check(other.token_id, "score", rule_for(settings, "score", other));
  CHECK(unaffected.limit == 100);
  CHECK(unaffected.remaining == 99);
}

TEST_CASE("RedisRateLimiter falls back to per-process limits while Redis is down, and shares again after",
          "[rate_limits][redis][restart]") {
  rally::testing::RedisServer server(rally::testing::free_port(), "rl-secret");
  Registry registry;
  const RedisSettings redis = settings_for(server.address(), server.password());
  RedisRateLimiter replica_a(redis, 2, registry);
  RedisRateLimiter replica_b(redis, 2, registry);
  const RateLimitRule rule{3, seconds(3600)};

  const RateLimitDecision before = replica_a.check("token:t1", "vote", rule);
  CHECK(before.allowed);
  CHECK(before.remaining == 2);
  CHECK_FALSE(before.fallback);

  server.stop();
  // Every check is decided (here, with 100 ms timeouts, none can wait long), by the local limiter: it starts
  // its own count, so three are admitted and the rest refused with the usual answer.
  std::vector<RateLimitDecision> during;
  during.reserve(50);
  for (int i = 0; i < 50; ++i) {
    during.push_back(replica_a.check("token:t1", "vote", rule));
  }
  for (std::size_t i = 0; i < during.size(); ++i) {
    CAPTURE(i);
    CHECK(during[i].fallback);
    CHECK(during[i].limit == 3);
    CHECK(during[i].allowed == (i < 3));
    CHECK(during[i].reset_unix % 3600 == 0);
    CHECK(during[i].retry_after >= seconds(during[i].allowed ? 0 : 1));
  }
  CHECK(replica_a.falling_back());
  CHECK(fallback_gauge(registry) == 1);
  CHECK(counter_value(registry, "rally_gateway_rate_limit_redis_errors_total") >= 50);
  CHECK(decisions(registry, "vote", "limited") == 47);

  server.start();  // empty: the server keeps nothing across restarts
  // Back once every connection of both replicas (two each, taken in turn) has reconnected.
  const auto reaches_redis = [&](RedisRateLimiter& replica) {
    return rally::testing::wait_until(
        [&] {
          const bool first = !replica.check("token:probe", "read", rule).fallback;
          const bool second = !replica.check("token:probe", "read", rule).fallback;
          return first && second;
        },
        milliseconds(5000));
  };
  REQUIRE(reaches_redis(replica_a));
  REQUIRE(reaches_redis(replica_b));

  const RateLimitRule two{2, seconds(3600)};
  const RateLimitDecision a1 = replica_a.check("token:t2", "vote", two);
  const RateLimitDecision b1 = replica_b.check("token:t2", "vote", two);
  const RateLimitDecision a2 = replica_a.check("token:t2", "vote", two);
  CHECK_FALSE(a1.fallback);
  CHECK_FALSE(b1.fallback);
  CHECK_FALSE(a2.fallback);
  CHECK(a1.remaining == 1);
  CHECK(b1.remaining == 0);  // shared: replica b saw replica a's request
  CHECK_FALSE(a2.allowed);
  CHECK_FALSE(replica_a.falling_back());
  CHECK(fallback_gauge(registry) == 0);
}

TEST_CASE("RedisRateLimiter decides locally when Redis accepts connections but never answers",
          "[rate_limits][redis]") {
  rally::testing::SilentListener silent;
  Registry registry;
  RedisRateLimiter limiter(settings_for(silent.address()), 2, registry);
  const RateLimitRule rule{3, seconds(3600)};

  // Each check that reaches the silent server gives up after the 100 ms command timeout; all return.
  for (int i = 0; i < 10; ++i) {
    CAPTURE(i);
    const RateLimitDecision decision = limiter.check("token:t1", "llm", rule);
    CHECK(decision.fallback);
    CHECK(decision.allowed == (i < 3));
  }
  CHECK(limiter.falling_back());
  CHECK(counter_value(registry, "rally_gateway_rate_limit_redis_errors_total") == 10);
}

TEST_CASE("make_rate_limiter builds none when rate limits are off", "[rate_limits]") {
  Registry registry;
  RateLimitSettings settings;
  settings.enabled = false;
  CHECK(make_rate_limiter(settings, settings_for({"127.0.0.1", 1}), registry) == nullptr);
  settings.enabled = true;
  CHECK(make_rate_limiter(settings, settings_for({"127.0.0.1", 1}), registry) != nullptr);
}

}  // namespace
}  // namespace rally::gateway::edge
