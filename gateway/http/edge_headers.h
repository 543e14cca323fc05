// What the HTTP session adds to every response on its way out (docs/security.md, "CORS and security
// headers"): the security headers of an API that serves no HTML, and CORS for the configured origins. Pure
// code, free of Beast.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/headers.h"

namespace rally::gateway::http {

// Set on every response, errors, streams and upgrade refusals included.
const Headers& security_headers();

// Which browser origins may read the API's answers (RALLY_GATEWAY_CORS_ORIGINS): exact origins
// ("https://app.example.com", compared byte for byte as browsers send them) or "*" for any origin. Empty:
// CORS is off and no Access-Control-* header is ever sent.
class CorsPolicy {
 public:
  // Response headers a browser script may read: the request id, the rate-limit state and Retry-After.
  static constexpr std::string_view kExposedHeaders =
      "X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After";
  // Request headers a preflight allows.
  static constexpr std::string_view kAllowedHeaders =
      "Authorization, Content-Type, X-Request-Id, Idempotency-Key";
  // How long a browser may cache a preflight answer.
  static constexpr std::string_view kMaxAgeSeconds = "600";

  CorsPolicy() = default;
  explicit CorsPolicy(std::vector<std::string> origins);

  bool enabled() const { return any_ || !origins_.empty(); }
  // Whether a request with this Origin header gets CORS headers. "null" (sandboxed frames, file: pages)
  // passes only when listed, never through "*".
  bool allows(std::string_view origin) const;

  // The problem with one configured entry, empty when it is a valid origin ("scheme://host[:port]" with
  // scheme http or https, no path) or "*".
  static std::string problem_with(std::string_view origin);

 private:
  bool any_ = false;
  std::vector<std::string> origins_;
};

}  // namespace rally::gateway::http
