// The gateway's door: every route is registered through Admission::guard with its RoutePolicy, and a
// request reaches its handler only after
//   1. authentication: an `Authorization: Bearer <token>` header is checked whenever it is sent (401
//      AUTHENTICATION_FAILED for an unknown or revoked token, or a malformed header); routes that require a
//      token answer 401 without one, and 503 while the tokens could not be loaded yet;
//   2. authorization: the token's scope must allow the route's (403 AUTHORIZATION_FAILED);
//   3. the rate limit of the route's class, per token or per client address when anonymous (429
//      RATE_LIMIT_EXCEEDED with Retry-After); every limited response, refused or not, carries
//      X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset.
// Rate limits may wait on Redis, so a rate-limited route is admitted on threads of its own, never on an I/O
// thread, and its handler then runs there too (handlers only start asynchronous work, and exchanges are
// thread-safe). Without a limiter, or for a route without a class, admission runs inline.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "gateway/edge/access.h"
#include "gateway/http/exchange.h"

namespace rally::common {
class BlockingExecutor;
namespace metrics {
class Registry;
}
}  // namespace rally::common

namespace rally::gateway::edge {

struct AdmissionSettings {
  // Off for local development only: every caller is treated as an admin (logged loudly at start, and
  // every response says X-Rally-Auth: disabled). RALLY_GATEWAY_AUTH
  bool auth_enabled = true;
  // Threads and queue of the admission step. RALLY_GATEWAY_ADMISSION_THREADS, RALLY_GATEWAY_ADMISSION_QUEUE
  std::size_t threads = 4;
  std::size_t max_queued = 10000;
};

// The rule of a route class for a caller (the class default or the token's override).
using RuleLookup = std::function<RateLimitRule(std::string_view route_class, const Principal& caller)>;

// The caller admitted for `exchange` (a handler's exchange under Admission::guard); null for public routes.
const Principal* caller_of(const http::Exchange& exchange);

class Admission {
 public:
  // `authenticator` may be null (no token store: routes that require a token answer 503); `limiter` null
  // disables rate limits. Both must outlive the admission, as must the registry.
  Admission(AdmissionSettings settings, const Authenticator* authenticator, RateLimiter* limiter,
            RuleLookup rules, common::metrics::Registry& registry);
  ~Admission();  // waits for admissions in progress
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // `handler` behind the policy's checks. Public routes get `handler` itself.
  http::Handler guard(RoutePolicy policy, http::Handler handler);

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::unique_ptr<common::BlockingExecutor> executor_;  // last: stops first, while the state exists
};

}  // namespace rally::gateway::edge
