#include "services/llm-proxy/domain/cooldown.h"

#include <catch2/catch.hpp>

namespace rally::llm_proxy {
namespace {

using namespace std::chrono_literals;
using Clock = CooldownTracker::Clock;

const Clock::time_point kStart = Clock::time_point(std::chrono::hours(500'000));

TEST_CASE("Cooldown starts after the threshold of consecutive provider failures and ends on time") {
  CooldownTracker tracker(CooldownSettings{.failure_threshold = 3, .failure_window = 60s, .cooldown = 30s});
  CHECK_FALSE(tracker.record_failure("gpt-4", FailureKind::kServerError, kStart));
  CHECK_FALSE(tracker.record_failure("gpt-4", FailureKind::kTimeout, kStart + 1s));
  CHECK_FALSE(tracker.cooled_down_until("gpt-4", kStart + 1s));
  CHECK(tracker.record_failure("gpt-4", FailureKind::kRateLimited, kStart + 2s));
  REQUIRE(tracker.cooled_down_until("gpt-4", kStart + 2s) == kStart + 32s);
  CHECK(tracker.cooled_down_until("gpt-4", kStart + 31s));
  CHECK_FALSE(tracker.cooled_down_until("gpt-4", kStart + 32s));
  // Other models are unaffected.
  CHECK_FALSE(tracker.cooled_down_until("gpt-4o", kStart + 2s));
}

TEST_CASE("A success resets the failure count") {
  CooldownTracker tracker(CooldownSettings{.failure_threshold = 2, .failure_window = 60s, .cooldown = 30s});
  CHECK_FALSE(tracker.record_failure("m", FailureKind::kConnect, kStart));
  tracker.record_success("m");
  CHECK_FALSE(tracker.record_failure("m", FailureKind::kConnect, kStart + 1s));
  CHECK(tracker.record_failure("m", FailureKind::kConnect, kStart + 2s));
}

TEST_CASE("Failures spread wider than the window do not add up") {
  CooldownTracker tracker(CooldownSettings{.failure_threshold = 2, .failure_window = 10s, .cooldown = 30s});
  CHECK_FALSE(tracker.record_failure("m", FailureKind::kServerError, kStart));
  CHECK_FALSE(tracker.record_failure("m", FailureKind::kServerError, kStart + 11s));
  CHECK(tracker.record_failure("m", FailureKind::kServerError, kStart + 12s));
}

TEST_CASE("Bad requests and cancellations say nothing about the provider") {
  CooldownTracker tracker(CooldownSettings{.failure_threshold = 1, .failure_window = 10s, .cooldown = 30s});
  CHECK_FALSE(tracker.record_failure("m", FailureKind::kClientError, kStart));
  CHECK_FALSE(tracker.record_failure("m", FailureKind::kCancelled, kStart));
  CHECK_FALSE(tracker.cooled_down_until("m", kStart));
  CHECK(counts_against_provider(FailureKind::kProtocolError));
  CHECK_FALSE(counts_against_provider(FailureKind::kClientError));
}

TEST_CASE("A zero cooldown disables cooling down") {
  CooldownTracker tracker(CooldownSettings{.failure_threshold = 1, .failure_window = 10s, .cooldown = 0s});
  CHECK_FALSE(tracker.record_failure("m", FailureKind::kServerError, kStart));
  CHECK_FALSE(tracker.cooled_down_until("m", kStart));
}

}  // namespace
}  // namespace rally::llm_proxy
