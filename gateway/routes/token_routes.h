// The admin REST routes of API tokens, answered in the /api/v1 success envelope (http::success_response):
//
//   GET    /api/v1/admin/tokens             200, data: every token (revoked ones too), never a hash
//   POST   /api/v1/admin/tokens             201, data: the new token with "token", the raw token, shown
//                                           this once; body as in token_payloads.h
//   DELETE /api/v1/admin/tokens/{token_id}  200, data: the revoked token; {token_id} may also be its
//                                           name; 404 NOT_FOUND when no token has it
//
// They require a token with the admin scope and count against the "admin" rate-limit class: their
// RoutePolicy says so, and the admission step refuses any other caller before a handler runs. Their
// PostgreSQL work runs on a small executor of their own, never on an I/O thread. Creations and revocations
// reach this gateway's TokenCache at once and other gateways' through Redis.
#pragma once

#include <memory>

namespace rally::common {
class BlockingExecutor;
}

namespace rally::gateway::http {
class Exchange;
class Router;
}  // namespace rally::gateway::http

namespace rally::gateway::edge {
class TokenCache;
class TokenStore;
}  // namespace rally::gateway::edge

namespace rally::gateway::routes {

class TokenRoutes {
 public:
  // `store` and `cache` must outlive this object, which must outlive the server using the routes.
  TokenRoutes(edge::TokenStore& store, edge::TokenCache& cache);
  // Runs the work already queued (answering its requests), then stops the executor.
  ~TokenRoutes();
  TokenRoutes(const TokenRoutes&) = delete;
  TokenRoutes& operator=(const TokenRoutes&) = delete;

  void add_to(http::Router& router);

 private:
  void list(const std::shared_ptr<http::Exchange>& exchange);
  void create(const std::shared_ptr<http::Exchange>& exchange);
  void revoke(const std::shared_ptr<http::Exchange>& exchange);

  edge::TokenStore& store_;
  edge::TokenCache& cache_;
  std::unique_ptr<common::BlockingExecutor> executor_;
};

}  // namespace rally::gateway::routes
