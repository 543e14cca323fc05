// Cooling down a model whose provider keeps failing: after `failure_threshold` consecutive provider-side
// failures (connect, timeout, 429, 5xx) within `failure_window`, the model is skipped for `cooldown`, so
// users get a fallback (or a fast, clear error) instead of waiting through retries against a dead endpoint.
// One success resets the count. Failures the provider is not to blame for (a bad request, a cancelled
// call) do not count. Pure: time is passed in, and the caller serialises access.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "services/llm-proxy/domain/retry_policy.h"

namespace rally::llm_proxy {

struct CooldownSettings {
  std::uint32_t failure_threshold = 3;
  std::chrono::milliseconds failure_window{60'000};
  // 0 disables cooling down.
  std::chrono::milliseconds cooldown{30'000};
};

// True for failures that say something about the provider's health.
bool counts_against_provider(FailureKind kind);

class CooldownTracker {
 public:
  using Clock = std::chrono::system_clock;

  explicit CooldownTracker(CooldownSettings settings = {}) : settings_(settings) {}

  void record_success(const std::string& model);
  // Returns true when this failure started a cooldown.
  bool record_failure(const std::string& model, FailureKind kind, Clock::time_point now);
  // When the model's cooldown ends, or nullopt when it is not cooled down at `now`.
  std::optional<Clock::time_point> cooled_down_until(const std::string& model, Clock::time_point now) const;

 private:
  struct ModelHealth {
    std::uint32_t consecutive_failures = 0;
    Clock::time_point first_failure;
    std::optional<Clock::time_point> cooldown_until;
  };

  CooldownSettings settings_;
  std::map<std::string, ModelHealth, std::less<>> health_;
};

}  // namespace rally::llm_proxy
