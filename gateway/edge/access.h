// Who is calling and how much they may: the vocabulary shared by the gateway's edge (authentication, rate
// limits) and the routes' policies. Pure declarations; the token store (tokens.h), the rate limiter
// (rate_limiter.h) and the admission step (admission.h) implement them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace rally::common {
struct Error;
}

namespace rally::gateway::http {
struct Response;
}

namespace rally::gateway::edge {

// What a token may do. Scopes nest: admin includes write, write includes read.
enum class Scope : std::uint8_t { kRead = 1, kWrite = 2, kAdmin = 3 };

// "read", "write", "admin".
std::string_view scope_name(Scope scope);
std::optional<Scope> parse_scope(std::string_view name);
// True when a token granted `granted` may use a route that needs `needed`.
constexpr bool scope_allows(Scope granted, Scope needed) {
  return static_cast<std::uint8_t>(granted) >= static_cast<std::uint8_t>(needed);
}

// The caller of one request: a token's holder, or anonymous (identified for rate limits by its address).
struct Principal {
  std::string token_id;  // empty when anonymous
  std::string token_name;
  Scope scope = Scope::kRead;  // the token's highest scope (nested, see Scope)
  // Per route class: requests per window replacing the class's default for this token.
  std::map<std::string, std::uint32_t, std::less<>> rate_limits;

  bool anonymous() const { return token_id.empty(); }
};

// Checks bearer tokens. Implementations answer from memory (no I/O on the request path), so revocation
// reaches them by notification, not by query.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // The token's holder, or nullopt when the token is unknown or revoked. Compares in constant time.
  virtual std::optional<Principal> authenticate(std::string_view raw_token) const = 0;
  // False until the tokens were loaded once (their store unreachable since start): callers then answer 503,
  // not 401, because the token may well be valid.
  virtual bool ready() const { return true; }
};

// A route class's limit: `limit` requests per `window`.
struct RateLimitRule {
  std::uint32_t limit = 0;
  std::chrono::seconds window{60};
};

// The answer to one rate-limit check, with what the X-RateLimit-* headers say.
struct RateLimitDecision {
  bool allowed = true;
  std::uint32_t limit = 0;
  std::uint32_t remaining = 0;
  std::int64_t reset_unix = 0;          // when the window resets (X-RateLimit-Reset)
  std::chrono::seconds retry_after{0};  // when refused (Retry-After)
  bool fallback = false;                // decided by the per-process limiter: Redis was unreachable
};

// How a route admits callers.
struct RoutePolicy {
  enum class Access {
    kPublic,         // no token looked at, not limited: health, metrics, the OpenAPI document
    kTokenOptional,  // the seed's routes: anonymous callers limited per address; a token, when sent, is
                     // honoured
    kTokenRequired,  // /api/v1: a valid token with `scope`
  };
  Access access = Access::kPublic;
  Scope scope = Scope::kRead;
  std::string rate_class;  // empty: not rate limited
  // How admission writes a refusal (401, 403, 429, 503) before its headers are added; empty: the suite's
  // error envelope. The OpenAI-compatible /v1 routes answer in OpenAI's error format, as SDKs expect.
  std::function<http::Response(const common::Error& error, const std::string& request_id)> refusal;
};

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Counts one request of `subject` (token id or "ip:<address>") in `route_class` against `rule`. May
  // block briefly on Redis (bounded by its command timeout), so it is called off the I/O threads; never
  // throws: without Redis it decides locally and says so.
  virtual RateLimitDecision check(std::string_view subject, std::string_view route_class,
                                  const RateLimitRule& rule) = 0;
};

}  // namespace rally::gateway::edge
