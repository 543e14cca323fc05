#include "gateway/routes/critique_routes.h"

#include <functional>
#include <string>
#include <utility>

#include "gateway/edge/admission.h"
#include "gateway/http/router.h"
#include "gateway/routes/critique_payloads.h"
#include "gateway/routes/upstream_relay.h"
#include "rally/v1/critique.grpc.pb.h"

namespace rally::gateway::routes {
namespace {

using relay::CallCounter;
using relay::Clock;
using relay::ExchangePtr;

struct Routes {
  std::shared_ptr<v1::Critique::Stub> stub;
  std::chrono::milliseconds timeout{};
  // Last: destroyed first, waiting for the calls in flight while everything else still exists.
  std::unique_ptr<CallCounter> calls;

  void criticize(const ExchangePtr& exchange) const {
    common::Result<v1::CriticizeRequest> request = parse_criticize_body(exchange->request().body());
    const std::string request_id = exchange->request().request_id();
    if (!request.ok()) return exchange->respond(http::error_response(request.error(), request_id));
    relay::call_unary<v1::CriticizeRequest, v1::CriticizeResponse>(
        *calls, exchange, Clock::now(), std::move(request.value()), timeout,
        [stub = stub](grpc::ClientContext* context, const v1::CriticizeRequest* call_request,
                      v1::CriticizeResponse* reply, std::function<void(grpc::Status)> done) {
          stub->async()->Criticize(context, call_request, reply, std::move(done));
        },
        [request_id](const grpc::Status& status, const v1::CriticizeResponse& reply, Clock::time_point) {
          if (!status.ok()) return http::error_response(status, request_id);
          return http::Response::json(200, criticize_response_body(reply));
        });
  }
};

}  // namespace

void add_critique_routes(http::Router& router, const std::shared_ptr<grpc::Channel>& critique,
                         std::chrono::milliseconds timeout, common::metrics::Registry& registry) {
  auto routes = std::make_shared<Routes>();
  routes->stub = v1::Critique::NewStub(critique);
  routes->timeout = timeout;
  routes->calls = std::make_unique<CallCounter>(upstream::CallMetrics::of(registry, "critique"));
  using Access = edge::RoutePolicy::Access;
  // The seed's route stays open, limited per client address: each critique costs gas and an LLM call.
  router.add(http::Method::kPost, "/criticize_user_request",
             [routes](const ExchangePtr& exchange) { routes->criticize(exchange); },
             {Access::kTokenOptional, edge::Scope::kWrite, "critique"});
}

}  // namespace rally::gateway::routes
