#include "gateway/routes/scoring_routes.h"

#include <functional>
#include <string>
#include <utility>

#include "gateway/edge/access.h"
#include "gateway/http/router.h"
#include "gateway/routes/scoring_payloads.h"
#include "gateway/routes/upstream_relay.h"
#include "rally/v1/scoring.grpc.pb.h"
#include "services/common/metrics.h"

namespace rally::gateway::routes {
namespace {

using relay::CallCounter;
using relay::Clock;
using relay::ExchangePtr;
using Stub = v1::Scoring::Stub;

// How a successful reply is answered: the envelope's data, the HTTP status and any members the envelope's
// metadata gets besides its own (rendered JSON without braces, http::success_response's extra_metadata).
struct Answer {
  std::string data;
  int status = 200;
  std::string metadata;
};

struct Routes {
  std::shared_ptr<Stub> stub;
  ScoringRouteSettings settings;
  // Last: destroyed first, waiting for the calls in flight while everything else still exists.
  std::unique_ptr<CallCounter> calls;  // set before any route runs

  // One unary scoring call with deadline `timeout`, its successful reply answered as `render` says.
  // `invoke` starts the call on the stub's async interface:
  //   [](auto& async, auto... args) { async.GetScore(args...); }
  template <typename Request, typename Reply, typename Invoke>
  void call(const ExchangePtr& exchange, Request request, std::chrono::milliseconds timeout, Invoke invoke,
            std::function<Answer(const Reply&)> render) const {
    const std::string request_id = exchange->request().request_id();
    relay::call_unary<Request, Reply>(
        *calls, exchange, Clock::now(), std::move(request), timeout,
        [stub = stub, invoke](grpc::ClientContext* context, const Request* call_request, Reply* reply,
                              std::function<void(grpc::Status)> done) {
          invoke(*stub->async(), context, call_request, reply, std::move(done));
        },
        [render = std::move(render), request_id](const grpc::Status& status, const Reply& reply,
                                                 Clock::time_point started) {
          if (!status.ok()) return http::error_response(status, request_id);
          const Answer answer = render(reply);
          return http::success_response(answer.data, request_id, started, answer.status, answer.metadata);
        });
  }

  // The common case: the usual deadline, 200 with `render`'s data.
  template <typename Request, typename Reply, typename Invoke>
  void call_for_data(const ExchangePtr& exchange, Request request, Invoke invoke,
                     std::string (*render)(const Reply&)) const {
    call<Request, Reply>(exchange, std::move(request), settings.timeout, invoke,
                         [render](const Reply& reply) { return Answer{render(reply)}; });
  }

  static void reject(const ExchangePtr& exchange, const common::Error& error) {
    exchange->respond(http::error_response(error, exchange->request().request_id()));
  }

  // Path parameters arrive percent-decoded ("openai%2Fgpt-4o" is "openai/gpt-4o"); the router matches a
  // template only when each parameter is a non-empty segment.
  static std::string path_param(const ExchangePtr& exchange, std::string_view name) {
    return std::string(exchange->request().path_param(name).value_or(""));
  }

  void calculate(const ExchangePtr& exchange) const {
    common::Result<v1::CalculateScoreRequest> request =
        parse_calculate_body(path_param(exchange, "model_id"), exchange->request().body());
    if (!request.ok()) return reject(exchange, request.error());
    call_for_data<v1::CalculateScoreRequest, v1::ModelScore>(
        exchange, std::move(request.value()),
        [](auto& async, auto... args) { async.CalculateScore(args...); }, score_data);
  }

  void get_score(const ExchangePtr& exchange) const {
    v1::GetScoreRequest request;
    request.set_model_id(path_param(exchange, "model_id"));
    call_for_data<v1::GetScoreRequest, v1::ModelScore>(
        exchange, std::move(request), [](auto& async, auto... args) { async.GetScore(args...); }, score_data);
  }

  void recalculate(const ExchangePtr& exchange) const {
    common::Result<v1::RecalculateScoreRequest> request =
        parse_recalculate_body(path_param(exchange, "model_id"), exchange->request().body());
    if (!request.ok()) return reject(exchange, request.error());
    call_for_data<v1::RecalculateScoreRequest, v1::ModelScore>(
        exchange, std::move(request.value()),
        [](auto& async, auto... args) { async.RecalculateScore(args...); }, recalculated_data);
  }

  // Synchronous: the whole batch within batch_timeout, 200. Asynchronous: accepted at once, 202, then
  // polled with GET .../batch/{batch_id}.
  void batch(const ExchangePtr& exchange) const {
    common::Result<v1::BatchCalculateRequest> request = parse_batch_body(exchange->request().body());
    if (!request.ok()) return reject(exchange, request.error());
    const std::chrono::milliseconds timeout = request->async() ? settings.timeout : settings.batch_timeout;
    call<v1::BatchCalculateRequest, v1::Batch>(
        exchange, std::move(request.value()), timeout,
        [](auto& async, auto... args) { async.BatchCalculate(args...); },
        [](const v1::Batch& reply) {
          return Answer{batch_data(reply), reply.status() == v1::BATCH_STATUS_PROCESSING ? 202 : 200};
        });
  }

  void get_batch(const ExchangePtr& exchange) const {
    v1::GetBatchRequest request;
    request.set_batch_id(path_param(exchange, "batch_id"));
    call_for_data<v1::GetBatchRequest, v1::Batch>(
        exchange, std::move(request), [](auto& async, auto... args) { async.GetBatch(args...); }, batch_data);
  }

  void add_suffix(const ExchangePtr& exchange) const {
    common::Result<v1::AddSuffixRequest> request = parse_add_suffix_body(exchange->request().body());
    if (!request.ok()) return reject(exchange, request.error());
    call_for_data<v1::AddSuffixRequest, v1::AddSuffixResponse>(
        exchange, std::move(request.value()), [](auto& async, auto... args) { async.AddSuffix(args...); },
        add_suffix_data);
  }

  void batch_names(const ExchangePtr& exchange) const {
    common::Result<v1::BatchUpdateNamesRequest> request = parse_batch_names_body(exchange->request().body());
    if (!request.ok()) return reject(exchange, request.error());
    call_for_data<v1::BatchUpdateNamesRequest, v1::BatchUpdateNamesResponse>(
        exchange, std::move(request.value()),
        [](auto& async, auto... args) { async.BatchUpdateNames(args...); }, batch_names_data);
  }

  void compare(const ExchangePtr& exchange) const {
    common::Result<v1::CompareScoresRequest> request = parse_compare_query(exchange->request());
    if (!request.ok()) return reject(exchange, request.error());
    call_for_data<v1::CompareScoresRequest, v1::CompareScoresResponse>(
        exchange, std::move(request.value()), [](auto& async, auto... args) { async.CompareScores(args...); },
        compare_data);
  }

  // The seed puts total_models and filtered_models in the metadata, not the data.
  void ranking(const ExchangePtr& exchange) const {
    common::Result<v1::GetRankingRequest> request = parse_ranking_query(exchange->request());
    if (!request.ok()) return reject(exchange, request.error());
    call<v1::GetRankingRequest, v1::GetRankingResponse>(
        exchange, std::move(request.value()), settings.timeout,
        [](auto& async, auto... args) { async.GetRanking(args...); },
        [](const v1::GetRankingResponse& reply) {
          return Answer{ranking_data(reply), 200, ranking_metadata(reply)};
        });
  }

  void get_configuration(const ExchangePtr& exchange) const {
    v1::GetConfigurationRequest request;
    std::string name = exchange->request().query_param("config").value_or("");
    request.set_config_name(name.empty() ? "default" : std::move(name));
    call_for_data<v1::GetConfigurationRequest, v1::ScoringConfiguration>(
        exchange, std::move(request), [](auto& async, auto... args) { async.GetConfiguration(args...); },
        configuration_data);
  }

  void put_configuration(const ExchangePtr& exchange) const {
    common::Result<v1::PutConfigurationRequest> request =
        parse_configuration_body(path_param(exchange, "name"), exchange->request().body());
    if (!request.ok()) return reject(exchange, request.error());
    call_for_data<v1::PutConfigurationRequest, v1::ScoringConfiguration>(
        exchange, std::move(request.value()),
        [](auto& async, auto... args) { async.PutConfiguration(args...); }, configuration_data);
  }

  void validate(const ExchangePtr& exchange) const {
    common::Result<v1::ValidateScoreRequest> request = parse_validate_body(exchange->request().body());
    if (!request.ok()) return reject(exchange, request.error());
    call_for_data<v1::ValidateScoreRequest, v1::ValidateScoreResponse>(
        exchange, std::move(request.value()), [](auto& async, auto... args) { async.ValidateScore(args...); },
        validate_data);
  }
};

}  // namespace

void add_scoring_routes(http::Router& router, const std::shared_ptr<grpc::Channel>& scoring,
                        const ScoringRouteSettings& settings, common::metrics::Registry& registry) {
  auto routes = std::make_shared<Routes>();
  routes->stub = v1::Scoring::NewStub(scoring);
  routes->settings = settings;
  routes->calls = std::make_unique<CallCounter>(upstream::CallMetrics::of(registry, "scoring"));
  const auto bind = [routes](void (Routes::*handler)(const ExchangePtr&) const) {
    return [routes, handler](const ExchangePtr& exchange) { ((*routes).*handler)(exchange); };
  };
  using Access = edge::RoutePolicy::Access;
  using http::Method;
  // Scopes follow effect: what stores a score or a batch needs write, pure computations (suffixes,
  // validation) and reads need read, changing a named configuration needs admin.
  router.add(Method::kPost, "/api/v1/models/{model_id}/score/calculate", bind(&Routes::calculate),
             {Access::kTokenRequired, edge::Scope::kWrite, "score"});
  router.add(Method::kGet, "/api/v1/models/{model_id}/score", bind(&Routes::get_score),
             {Access::kTokenRequired, edge::Scope::kRead, "read"});
  router.add(Method::kPut, "/api/v1/models/{model_id}/score/recalculate", bind(&Routes::recalculate),
             {Access::kTokenRequired, edge::Scope::kWrite, "score"});
  router.add(Method::kPost, "/api/v1/models/scores/batch", bind(&Routes::batch),
             {Access::kTokenRequired, edge::Scope::kWrite, "batch"});
  router.add(Method::kGet, "/api/v1/models/scores/batch/{batch_id}", bind(&Routes::get_batch),
             {Access::kTokenRequired, edge::Scope::kRead, "read"});
  router.add(Method::kPost, "/api/v1/models/naming/add-suffix", bind(&Routes::add_suffix),
             {Access::kTokenRequired, edge::Scope::kRead, "naming"});
  router.add(Method::kPost, "/api/v1/models/naming/batch-update", bind(&Routes::batch_names),
             {Access::kTokenRequired, edge::Scope::kRead, "naming"});
  router.add(Method::kGet, "/api/v1/models/scores/compare", bind(&Routes::compare),
             {Access::kTokenRequired, edge::Scope::kRead, "compare"});
  router.add(Method::kGet, "/api/v1/models/scores/ranking", bind(&Routes::ranking),
             {Access::kTokenRequired, edge::Scope::kRead, "read"});
  router.add(Method::kGet, "/api/v1/scoring/configuration", bind(&Routes::get_configuration),
             {Access::kTokenRequired, edge::Scope::kRead, "read"});
  router.add(Method::kPut, "/api/v1/scoring/configuration/{name}", bind(&Routes::put_configuration),
             {Access::kTokenRequired, edge::Scope::kAdmin, "admin"});
  router.add(Method::kPost, "/api/v1/scoring/validate", bind(&Routes::validate),
             {Access::kTokenRequired, edge::Scope::kRead, "score"});
}

}  // namespace rally::gateway::routes
