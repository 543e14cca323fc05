#include "gateway/edge/admission.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "gateway/edge/rate_limiter.h"
#include "gateway/http/envelope.h"
#include "gateway/http/method.h"
#include "services/common/blocking_executor.h"
#include "services/common/errors.h"
#include "services/common/logging.h"
#include "services/common/metrics.h"

namespace rally::gateway::edge {
namespace {

using common::Error;
using common::ErrorCode;

constexpr std::string_view kBearer = "bearer ";

// The exchange a guarded handler gets: the caller admitted for it, and the rate-limit headers added to
// whatever answer the handler gives.
class AdmittedExchange final : public http::Exchange {
 public:
  AdmittedExchange(std::shared_ptr<http::Exchange> inner, Principal caller, http::Headers headers)
      : inner_(std::move(inner)), caller_(std::move(caller)), headers_(std::move(headers)) {}

  const Principal& caller() const { return caller_; }

  const http::Request& request() const override { return inner_->request(); }
  void respond(http::Response response) override {
    for (const auto& [name, value] : headers_) response.headers.set(name, value);
    inner_->respond(std::move(response));
  }
  void start_stream(int status, http::Headers headers) override {
    for (const auto& [name, value] : headers_) headers.set(name, value);
    inner_->start_stream(status, std::move(headers));
  }
  bool write(std::string chunk, WriteCallback on_written) override {
    return inner_->write(std::move(chunk), std::move(on_written));
  }
  void finish() override { inner_->finish(); }
  bool cancelled() const override { return inner_->cancelled(); }
  void on_cancel(std::function<void()> callback) override { inner_->on_cancel(std::move(callback)); }
  void run_after(std::chrono::milliseconds delay, std::function<void()> callback) override {
    inner_->run_after(delay, std::move(callback));
  }
  void set_caller_name(std::string name) override { inner_->set_caller_name(std::move(name)); }

 private:
  const std::shared_ptr<http::Exchange> inner_;
  const Principal caller_;
  const http::Headers headers_;
};

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
    if (c != prefix[i]) return false;
  }
  return true;
}

// The token of an `Authorization: Bearer <token>` header, or nullopt when the header is malformed.
std::optional<std::string_view> bearer_token(std::string_view header) {
  if (!starts_with_ignoring_case(header, kBearer)) return std::nullopt;
  std::string_view token = header.substr(kBearer.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty() || token.find(' ') != std::string_view::npos) return std::nullopt;
  return token;
}

// On open routes only LlamaRally's own tokens are looked at: the OpenAI SDKs always send a key (often a
// placeholder or a provider key) to /v1, and it is not ours to refuse.
bool looks_like_rally_token(std::string_view authorization) {
  const std::optional<std::string_view> token = bearer_token(authorization);
  return token && token->starts_with("rally_");
}

std::string rate_limit_subject(const Principal& caller, const http::Request& request) {
  return caller.anonymous() ? "ip:" + std::string(request.client_host()) : "token:" + caller.token_id;
}

}  // namespace

const Principal* caller_of(const http::Exchange& exchange) {
  const auto* admitted = dynamic_cast<const AdmittedExchange*>(&exchange);
  return admitted != nullptr ? &admitted->caller() : nullptr;
}

struct Admission::State {
  State(AdmissionSettings admission_settings, const Authenticator* token_authenticator,
        RateLimiter* rate_limiter, RuleLookup rule_lookup, common::metrics::Registry& registry)
      : settings(admission_settings),
        authenticator(token_authenticator),
        limiter(rate_limiter),
        rules(std::move(rule_lookup)),
        decisions(registry.counter("rally_gateway_admission_total",
                                   "Admission decisions by outcome: admitted, unauthenticated, forbidden, "
                                   "rate_limited, unavailable",
                                   {"outcome"})) {}

  // The refusal of one request: `error` in the envelope, with `headers`.
  void refuse(http::Exchange& exchange, const RoutePolicy& policy, const Error& error, http::Headers headers,
              std::string_view outcome) {
    decisions.labels({std::string(outcome)}).inc();
    const std::string& request_id = exchange.request().request_id();
    http::Response response =
        policy.refusal ? policy.refusal(error, request_id) : http::error_response(error, request_id);
    for (const auto& [name, value] : headers) response.headers.set(name, value);
    exchange.respond(std::move(response));
  }

  // Decides on one request and runs its handler when admitted. On an admission thread.
  void admit(const std::shared_ptr<http::Exchange>& exchange, const RoutePolicy& policy,
             const http::Handler& handler) {
    const http::Request& request = exchange->request();
    common::ScopedRequestId scope(request.request_id());
    http::Headers headers;
    Principal caller;
    if (!settings.auth_enabled) {
      caller.scope = Scope::kAdmin;
      headers.set("X-Rally-Auth", "disabled");
    } else if (const auto authorization = request.header("Authorization");
               authorization && (policy.access == RoutePolicy::Access::kTokenRequired ||
                                 looks_like_rally_token(*authorization))) {
      const std::optional<std::string_view> token = bearer_token(*authorization);
      if (!token) {
        return refuse(*exchange, policy,
                      Error(ErrorCode::kAuthenticationFailed,
                            "Malformed Authorization header: expected 'Bearer <token>'"),
                      {{"WWW-Authenticate", R"(Bearer error="invalid_request")"}}, "unauthenticated");
      }
      if (authenticator == nullptr || !authenticator->ready()) {
        return refuse(
            *exchange, policy,
            Error(ErrorCode::kServiceUnavailable, "API tokens cannot be checked right now; retry shortly"),
            {{"Retry-After", "1"}}, "unavailable");
      }
      std::optional<Principal> holder = authenticator->authenticate(*token);
      if (!holder) {
        return refuse(*exchange, policy,
                      Error(ErrorCode::kAuthenticationFailed, "Invalid or revoked API token"),
                      {{"WWW-Authenticate", R"(Bearer error="invalid_token")"}}, "unauthenticated");
      }
      caller = std::move(*holder);
      exchange->set_caller_name(caller.token_name);
    } else if (policy.access == RoutePolicy::Access::kTokenRequired) {
      return refuse(*exchange, policy,
                    Error(ErrorCode::kAuthenticationFailed,
                          "Authentication required: send 'Authorization: Bearer <token>'"),
                    {{"WWW-Authenticate", R"(Bearer realm="LlamaRally")"}}, "unauthenticated");
    }

    // The seed's routes stay open to everyone; a token there identifies the caller for rate limits.
    if (policy.access == RoutePolicy::Access::kTokenRequired && !scope_allows(caller.scope, policy.scope)) {
      return refuse(
          *exchange, policy,
          Error(ErrorCode::kAuthorizationFailed,
                "This token's scope (" + std::string(scope_name(caller.scope)) +
                    ") does not allow this route; it needs " + std::string(scope_name(policy.scope)),
                {{"scope", std::string(scope_name(caller.scope))},
                 {"required_scope", std::string(scope_name(policy.scope))}}),
          std::move(headers), "forbidden");
    }

    if (limiter != nullptr && !policy.rate_class.empty()) {
      const RateLimitRule rule = rules(policy.rate_class, caller);
      if (rule.limit > 0) {
        const RateLimitDecision decision =
            limiter->check(rate_limit_subject(caller, request), policy.rate_class, rule);
        for (auto& [name, value] : rate_limit_headers(decision))
          headers.set(std::move(name), std::move(value));
        if (!decision.allowed) {
          const auto retry_after = std::max<std::int64_t>(1, decision.retry_after.count());
          return refuse(*exchange, policy,
                        Error(ErrorCode::kRateLimitExceeded,
                              "Rate limit exceeded: " + std::to_string(decision.limit) + " requests per " +
                                  std::to_string(rule.window.count()) + " s for " + policy.rate_class,
                              {{"class", policy.rate_class}, {"retry_after", std::to_string(retry_after)}}),
                        std::move(headers), "rate_limited");
        }
      }
    }

    decisions.labels({"admitted"}).inc();
    auto admitted = std::make_shared<AdmittedExchange>(exchange, std::move(caller), std::move(headers));
    try {
      handler(admitted);
    } catch (const std::exception& e) {
      spdlog::error("the handler of {} {} threw: {}", http::to_string(request.method()), request.route(),
                    e.what());
      admitted->respond(
          http::error_response(Error(ErrorCode::kInternal, "Internal error"), request.request_id()));
    }
  }

  const AdmissionSettings settings;
  const Authenticator* const authenticator;
  RateLimiter* const limiter;
  const RuleLookup rules;
  common::metrics::Family<common::metrics::Counter>& decisions;
};

Admission::Admission(AdmissionSettings settings, const Authenticator* authenticator, RateLimiter* limiter,
                     RuleLookup rules, common::metrics::Registry& registry)
    : state_(std::make_shared<State>(settings, authenticator, limiter, std::move(rules), registry)),
      executor_(std::make_unique<common::BlockingExecutor>(settings.threads, settings.max_queued)) {
  if (!settings.auth_enabled) {
    spdlog::warn(
        "API token authentication is OFF (RALLY_GATEWAY_AUTH=off): every caller is an admin. "
        "For local development only.");
  }
}

Admission::~Admission() = default;

http::Handler Admission::guard(RoutePolicy policy, http::Handler handler) {
  if (policy.access == RoutePolicy::Access::kPublic && policy.rate_class.empty()) return handler;
  struct Route {
    RoutePolicy policy;
    http::Handler handler;
  };
  auto route = std::make_shared<const Route>(Route{std::move(policy), std::move(handler)});
  return [state = state_, executor = executor_.get(),
          route](const std::shared_ptr<http::Exchange>& exchange) {
    // Only a rate-limit check can block (a Redis round trip): without one, admission is memory work and
    // runs on the I/O thread, sparing the request two thread hops.
    if (state->limiter == nullptr || route->policy.rate_class.empty()) {
      return state->admit(exchange, route->policy, route->handler);
    }
    const bool queued =
        executor->post([state, exchange, route] { state->admit(exchange, route->policy, route->handler); });
    if (!queued) {
      state->refuse(*exchange, route->policy,
                    Error(ErrorCode::kServiceUnavailable, "The gateway is overloaded; retry shortly"),
                    {{"Retry-After", "1"}}, "unavailable");
    }
  };
}

}  // namespace rally::gateway::edge
