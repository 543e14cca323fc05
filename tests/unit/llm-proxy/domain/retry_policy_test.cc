#include "services/llm-proxy/domain/retry_policy.h"

#include <catch2/catch.hpp>

namespace rally::llm_proxy {

using std::chrono::milliseconds;

TEST_CASE("only transient failures are retried") {
  CHECK(is_retryable(FailureKind::kConnect));
  CHECK(is_retryable(FailureKind::kTimeout));
  CHECK(is_retryable(FailureKind::kRateLimited));
  CHECK(is_retryable(FailureKind::kServerError));
  CHECK_FALSE(is_retryable(FailureKind::kClientError));
  CHECK_FALSE(is_retryable(FailureKind::kProtocolError));
  CHECK_FALSE(is_retryable(FailureKind::kCancelled));
}

TEST_CASE("the backoff cap grows exponentially up to max_delay") {
  RetryPolicy policy;
  policy.max_attempts = 10;
  policy.base_delay = milliseconds(100);
  policy.multiplier = 2.0;
  policy.max_delay = milliseconds(1000);
  CHECK(policy.backoff_cap(2) == milliseconds(100));
  CHECK(policy.backoff_cap(3) == milliseconds(200));
  CHECK(policy.backoff_cap(4) == milliseconds(400));
  CHECK(policy.backoff_cap(5) == milliseconds(800));
  CHECK(policy.backoff_cap(6) == milliseconds(1000));
  CHECK(policy.backoff_cap(9) == milliseconds(1000));
}

TEST_CASE("delays are jittered within the cap and reproducible for a seed") {
  RetryPolicy policy;
  policy.max_attempts = 4;
  std::mt19937_64 first(42);
  std::mt19937_64 second(42);
  bool saw_different_delays = false;
  std::optional<milliseconds> previous;
  for (int round = 0; round < 200; ++round) {
    for (std::uint32_t attempt = 2; attempt <= 4; ++attempt) {
      const auto a = policy.delay_before(attempt, FailureKind::kServerError, std::nullopt, first);
      const auto b = policy.delay_before(attempt, FailureKind::kServerError, std::nullopt, second);
      REQUIRE(a.has_value());
      CHECK(a == b);
      CHECK(*a >= milliseconds(0));
      CHECK(*a <= policy.backoff_cap(attempt));
      if (previous && *previous != *a) saw_different_delays = true;
      previous = a;
    }
  }
  CHECK(saw_different_delays);
}

TEST_CASE("no retry past max_attempts, for permanent failures, or for a long retry-after") {
  RetryPolicy policy;
  policy.max_attempts = 3;
  std::mt19937_64 random(1);
  CHECK(policy.delay_before(3, FailureKind::kConnect, std::nullopt, random).has_value());
  CHECK_FALSE(policy.delay_before(4, FailureKind::kConnect, std::nullopt, random).has_value());
  CHECK_FALSE(policy.delay_before(2, FailureKind::kClientError, std::nullopt, random).has_value());
  CHECK_FALSE(policy.delay_before(2, FailureKind::kRateLimited, milliseconds(60000), random).has_value());
}

TEST_CASE("retry-after is a lower bound on the delay") {
  RetryPolicy policy;
  std::mt19937_64 random(7);
  for (int i = 0; i < 50; ++i) {
    const auto delay = policy.delay_before(2, FailureKind::kRateLimited, milliseconds(1500), random);
    REQUIRE(delay.has_value());
    CHECK(*delay >= milliseconds(1500));
  }
}

TEST_CASE("Retry-After values parse as seconds") {
  CHECK(parse_retry_after("3") == milliseconds(3000));
  CHECK(parse_retry_after(" 0.5 ") == milliseconds(500));
  CHECK(parse_retry_after("0") == milliseconds(0));
  CHECK_FALSE(parse_retry_after("").has_value());
  CHECK_FALSE(parse_retry_after("-1").has_value());
  CHECK_FALSE(parse_retry_after("soon").has_value());
  CHECK_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT").has_value());
}

}  // namespace rally::llm_proxy
