// When and how long to wait before retrying an upstream call. Retries are safe only before any output
// reached the client, so the policy is consulted only for failures that happened before the first byte.
// Pure: the random source is passed in, so schedules are reproducible in tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace rally::llm_proxy {

enum class FailureKind {
  kConnect,        // could not connect (DNS, refused, TLS handshake)
  kTimeout,        // connect, first byte or idle timeout
  kRateLimited,    // HTTP 429
  kServerError,    // HTTP 500, 502, 503, 504 (and 529, Anthropic's "overloaded")
  kClientError,    // any other 4xx: the request itself is wrong, retrying cannot help
  kProtocolError,  // the upstream answered something that is not the API's format
  kCancelled,      // the caller went away; never retried, never counted against the provider
};

// True for failures another attempt may cure.
bool is_retryable(FailureKind kind);
// "connect", "timeout", "rate_limited", "server_error", "client_error", "protocol_error", "cancelled": stable
// names for logs, metric labels and usage rows.
std::string_view failure_kind_name(FailureKind kind);

struct RetryPolicy {
  std::uint32_t max_attempts = 3;  // including the first
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{5000};
  double multiplier = 2.0;
  // Longest retry-after the policy honours; a server asking for more gives up instead of stalling a user.
  std::chrono::milliseconds max_retry_after{10000};

  // The delay before attempt `next_attempt` (2 for the first retry), or nullopt when no retry should be
  // made. "Full jitter": uniform in [0, min(max_delay, base * multiplier^(n-2))], but never less than the
  // server's retry-after when it gave one.
  std::optional<std::chrono::milliseconds> delay_before(std::uint32_t next_attempt, FailureKind failure,
                                                        std::optional<std::chrono::milliseconds> retry_after,
                                                        std::mt19937_64& random) const;
  // The upper end of the jitter window for `next_attempt` (what delay_before draws below).
  std::chrono::milliseconds backoff_cap(std::uint32_t next_attempt) const;
};

// Parses a Retry-After header value: delta-seconds ("3", "0.5" as sent by some providers) or nullopt for
// anything else (HTTP-dates are not worth honouring for sub-minute retries).
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value);

}  // namespace rally::llm_proxy
