#include "gateway/routes/token_routes.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <string>
#include <utility>

#include "gateway/edge/access.h"
#include "gateway/edge/token_cache.h"
#include "gateway/edge/token_store.h"
#include "gateway/http/envelope.h"
#include "gateway/http/exchange.h"
#include "gateway/http/router.h"
#include "gateway/routes/token_payloads.h"
#include "services/common/blocking_executor.h"
#include "services/common/logging.h"

namespace rally::gateway::routes {
namespace {

using Clock = std::chrono::steady_clock;
using ExchangePtr = std::shared_ptr<http::Exchange>;

// Admin requests are rare; two threads keep one slow query from holding up the next.
constexpr std::size_t kThreads = 2;
constexpr std::size_t kMaxQueued = 64;

constexpr std::string_view kCollection = "/api/v1/admin/tokens";
constexpr std::string_view kItem = "/api/v1/admin/tokens/{token_id}";

edge::RoutePolicy admin_policy() {
  return {edge::RoutePolicy::Access::kTokenRequired, edge::Scope::kAdmin, "admin"};
}

// Runs `work` on the executor with the request id in its log lines and answers with what it returns; a
// client gone before the work starts is not worked for. A full queue is 503.
void run_blocking(common::BlockingExecutor& executor, const ExchangePtr& exchange,
                  std::function<http::Response(const http::Request& request)> work) {
  const bool queued = executor.post([exchange, work = std::move(work)] {
    if (exchange->cancelled()) return;
    const common::ScopedRequestId request_id(exchange->request().request_id());
    try {
      exchange->respond(work(exchange->request()));
    } catch (const std::exception& e) {
      spdlog::error("admin token request failed: {}", e.what());
      exchange->respond(http::error_response(common::Error(common::ErrorCode::kInternal, "Internal error"),
                                             exchange->request().request_id()));
    }
  });
  if (!queued) {
    exchange->respond(http::error_response(
        common::Error(common::ErrorCode::kServiceUnavailable, "Too many admin requests at once; try again"),
        exchange->request().request_id()));
  }
}

}  // namespace

TokenRoutes::TokenRoutes(edge::TokenStore& store, edge::TokenCache& cache)
    : store_(store),
      cache_(cache),
      executor_(std::make_unique<common::BlockingExecutor>(kThreads, kMaxQueued)) {}

TokenRoutes::~TokenRoutes() = default;

void TokenRoutes::add_to(http::Router& router) {
  router.add(
      http::Method::kGet, kCollection, [this](const ExchangePtr& exchange) { list(exchange); },
      admin_policy());
  router.add(
      http::Method::kPost, kCollection, [this](const ExchangePtr& exchange) { create(exchange); },
      admin_policy());
  router.add(
      http::Method::kDelete, kItem, [this](const ExchangePtr& exchange) { revoke(exchange); },
      admin_policy());
}

void TokenRoutes::list(const ExchangePtr& exchange) {
  const auto started = Clock::now();
  run_blocking(*executor_, exchange, [this, started](const http::Request& request) {
    const common::Result<std::vector<edge::TokenRecord>> tokens = store_.list();
    if (!tokens.ok()) return http::error_response(tokens.error(), request.request_id());
    return http::success_response(token_list_json(tokens.value()), request.request_id(), started);
  });
}

void TokenRoutes::create(const ExchangePtr& exchange) {
  const auto started = Clock::now();
  common::Result<NewTokenRequest> parsed = parse_new_token_body(exchange->request().body());
  if (!parsed.ok()) {
    exchange->respond(http::error_response(parsed.error(), exchange->request().request_id()));
    return;
  }
  run_blocking(*executor_, exchange,
               [this, started, wanted = std::move(parsed.value())](const http::Request& request) {
                 const common::Result<edge::CreatedToken> created =
                     store_.create(wanted.name, wanted.scope, wanted.rate_limits);
                 if (!created.ok()) return http::error_response(created.error(), request.request_id());
                 cache_.created(created->token.id);
                 spdlog::info("API token {} ({}) created with scope {}", created->token.id,
                              created->token.name, edge::scope_name(created->token.scope));
                 return http::success_response(created_token_json(created.value()), request.request_id(),
                                               started, 201);
               });
}

void TokenRoutes::revoke(const ExchangePtr& exchange) {
  const auto started = Clock::now();
  run_blocking(*executor_, exchange, [this, started](const http::Request& request) {
    const common::Result<edge::TokenRecord> revoked =
        store_.revoke(request.path_param("token_id").value_or(""));
    if (!revoked.ok()) return http::error_response(revoked.error(), request.request_id());
    cache_.revoked(revoked->id);
    spdlog::info("API token {} ({}) revoked", revoked->id, revoked->name);
    return http::success_response(token_json(revoked.value()), request.request_id(), started);
  });
}

}  // namespace rally::gateway::routes
