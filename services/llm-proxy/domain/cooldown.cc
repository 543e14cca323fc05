#include "services/llm-proxy/domain/cooldown.h"

namespace rally::llm_proxy {

bool counts_against_provider(FailureKind kind) {
  switch (kind) {
    case FailureKind::kConnect:
    case FailureKind::kTimeout:
    case FailureKind::kRateLimited:
    case FailureKind::kServerError:
    case FailureKind::kProtocolError:
      return true;
    case FailureKind::kClientError:
    case FailureKind::kCancelled:
      return false;
  }
  return false;
}

void CooldownTracker::record_success(const std::string& model) {
  if (auto it = health_.find(model); it != health_.end()) {
    it->second.consecutive_failures = 0;
  }
}

bool CooldownTracker::record_failure(const std::string& model, FailureKind kind, Clock::time_point now) {
  if (!counts_against_provider(kind) || settings_.cooldown.count() <= 0) return false;
  ModelHealth& health = health_[model];
  // A failure long after the previous ones starts a new run: old blips do not add up to a cooldown.
  if (health.consecutive_failures == 0 || now - health.first_failure > settings_.failure_window) {
    health.consecutive_failures = 0;
    health.first_failure = now;
  }
  ++health.consecutive_failures;
  if (health.consecutive_failures < settings_.failure_threshold) return false;
  health.consecutive_failures = 0;
  health.cooldown_until = now + settings_.cooldown;
  return true;
}

std::optional<CooldownTracker::Clock::time_point> CooldownTracker::cooled_down_until(
    const std::string& model, Clock::time_point now) const {
  const auto it = health_.find(model);
  if (it == health_.end() || !it->second.cooldown_until || *it->second.cooldown_until <= now) {
    return std::nullopt;
  }
  return it->second.cooldown_until;
}

}  // namespace rally::llm_proxy
