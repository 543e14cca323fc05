#include "services/llm-proxy/domain/retry_policy.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>

namespace rally::llm_proxy {

bool is_retryable(FailureKind kind) {
  switch (kind) {
    case FailureKind::kConnect:
    case FailureKind::kTimeout:
    case FailureKind::kRateLimited:
    case FailureKind::kServerError:
      return true;
    case FailureKind::kClientError:
    case FailureKind::kProtocolError:
    case FailureKind::kCancelled:
      return false;
  }
  return false;
}

std::string_view failure_kind_name(FailureKind kind) {
  switch (kind) {
    case FailureKind::kConnect:
      return "connect";
    case FailureKind::kTimeout:
      return "timeout";
    case FailureKind::kRateLimited:
      return "rate_limited";
    case FailureKind::kServerError:
      return "server_error";
    case FailureKind::kClientError:
      return "client_error";
    case FailureKind::kProtocolError:
      return "protocol_error";
    case FailureKind::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

std::chrono::milliseconds RetryPolicy::backoff_cap(std::uint32_t next_attempt) const {
  const double exponent = next_attempt >= 2 ? static_cast<double>(next_attempt - 2) : 0.0;
  const double cap_ms = static_cast<double>(base_delay.count()) * std::pow(multiplier, exponent);
  const double bounded = std::min(cap_ms, static_cast<double>(max_delay.count()));
  return std::chrono::milliseconds(static_cast<std::int64_t>(bounded));
}

std::optional<std::chrono::milliseconds> RetryPolicy::delay_before(
    std::uint32_t next_attempt, FailureKind failure, std::optional<std::chrono::milliseconds> retry_after,
    std::mt19937_64& random) const {
  if (next_attempt < 2 || next_attempt > max_attempts || !is_retryable(failure)) return std::nullopt;
  if (retry_after && *retry_after > max_retry_after) return std::nullopt;
  const std::int64_t cap = backoff_cap(next_attempt).count();
  std::uniform_int_distribution<std::int64_t> jitter(0, cap);
  std::chrono::milliseconds delay(jitter(random));
  if (retry_after) delay = std::max(delay, *retry_after);
  return delay;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  double seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(seconds) || seconds < 0) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000.0)));
}

}  // namespace rally::llm_proxy
