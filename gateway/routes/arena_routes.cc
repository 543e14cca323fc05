#include "gateway/routes/arena_routes.h"

#include <functional>
#include <string>
#include <utility>

#include "gateway/http/router.h"
#include "gateway/routes/arena_payloads.h"
#include "gateway/routes/upstream_relay.h"
#include "rally/v1/arena.grpc.pb.h"

namespace rally::gateway::routes {
namespace {

using relay::CallCounter;
using relay::Clock;
using relay::ExchangePtr;
using Stub = v1::Arena::Stub;

// The voter as the arena stores it (hashed): the client's address until API keys identify callers.
std::string voter_of(const http::Request& request) {
  return request.client_address();
}

struct Routes {
  std::shared_ptr<Stub> stub;
  ArenaRouteSettings settings;
  // Last: destroyed first, waiting for the calls in flight while everything else still exists.
  std::unique_ptr<CallCounter> calls = std::make_unique<CallCounter>();

  // How a successful reply is answered: the seed's routes send the JSON as it is, /api/v1 routes wrap it in
  // the success envelope.
  enum class Body { kBare, kEnvelope };

  // One unary arena call whose successful reply `render` turns into JSON (status 200 unless given).
  // `invoke` starts the call on the stub's async interface:
  //   [](auto& async, auto... args) { async.Vote(args...); }
  template <typename Request, typename Reply, typename Invoke>
  void call(const ExchangePtr& exchange, Request request, Invoke invoke,
            std::function<std::string(const Reply&)> render, Body body = Body::kBare,
            int success_status = 200) const {
    const std::string request_id = exchange->request().request_id();
    relay::call_unary<Request, Reply>(
        *calls, exchange, Clock::now(), std::move(request), settings.timeout,
        [stub = stub, invoke](grpc::ClientContext* context, const Request* call_request, Reply* reply,
                              std::function<void(grpc::Status)> done) {
          invoke(*stub->async(), context, call_request, reply, std::move(done));
        },
        [render = std::move(render), request_id, body, success_status](
            const grpc::Status& status, const Reply& reply, Clock::time_point started) {
          if (!status.ok()) return http::error_response(status, request_id);
          if (body == Body::kBare) return http::Response::json(success_status, render(reply));
          return http::success_response(render(reply), request_id, started, success_status);
        });
  }

  static void reject(const ExchangePtr& exchange, const common::Error& error) {
    exchange->respond(http::error_response(error, exchange->request().request_id()));
  }

  void random_models(const ExchangePtr& exchange) const {
    call<v1::RandomPairRequest, v1::RandomPairResponse>(
        exchange, {}, [](auto& async, auto... args) { async.RandomPair(args...); }, random_models_body);
  }

  void vote(const ExchangePtr& exchange) const {
    common::Result<v1::VoteRequest> request = parse_vote_body(exchange->request().body());
    if (!request.ok()) return reject(exchange, request.error());
    if (auto key = exchange->request().header("Idempotency-Key"))
      request->set_idempotency_key(std::string(*key));
    request->set_voter(voter_of(exchange->request()));
    call<v1::VoteRequest, v1::VoteResponse>(
        exchange, std::move(request.value()), [](auto& async, auto... args) { async.Vote(args...); },
        vote_response_body);
  }

  void leaderboard(const ExchangePtr& exchange) const {
    call<v1::LeaderboardRequest, v1::LeaderboardResponse>(
        exchange, {}, [](auto& async, auto... args) { async.Leaderboard(args...); }, leaderboard_body);
  }

  void create_battle(const ExchangePtr& exchange) const {
    common::Result<v1::CreateBattleRequest> request = parse_battle_body(exchange->request().body());
    if (!request.ok()) return reject(exchange, request.error());
    request->set_voter(voter_of(exchange->request()));
    call<v1::CreateBattleRequest, v1::Battle>(
        exchange, std::move(request.value()), [](auto& async, auto... args) { async.CreateBattle(args...); },
        battle_body, Body::kEnvelope, 201);
  }

  void stream_battle(const ExchangePtr& exchange) const {
    const http::Request& http_request = exchange->request();
    common::Result<v1::BattleSide> side = parse_battle_side(http_request.query_param("side").value_or(""));
    if (!side.ok()) return reject(exchange, side.error());
    v1::StreamBattleRequest request;
    request.set_battle_id(std::string(http_request.path_param("battle_id").value_or("")));
    request.set_side(side.value());
    const std::string side_label = side.value() == v1::BATTLE_SIDE_A ? "a" : "b";
    relay::relay_stream(
        *calls, exchange, Clock::now(),
        [stub = stub, request = std::move(request)](
            grpc::ClientContext* context, grpc::ClientReadReactor<v1::StreamCompleteResponse>* reactor) {
          stub->async()->StreamBattle(context, &request, reactor);
        },
        std::make_unique<relay::RallyStreamFormat>(side_label, http_request.request_id()),
        relay::StreamSettings{settings.stream_timeout, settings.sse_heartbeat});
  }

  void vote_battle(const ExchangePtr& exchange) const {
    const http::Request& http_request = exchange->request();
    common::Result<v1::VoteBattleRequest> request =
        parse_battle_vote_body(http_request.path_param("battle_id").value_or(""), http_request.body());
    if (!request.ok()) return reject(exchange, request.error());
    request->set_voter(voter_of(http_request));
    call<v1::VoteBattleRequest, v1::VoteBattleResponse>(
        exchange, std::move(request.value()), [](auto& async, auto... args) { async.VoteBattle(args...); },
        battle_vote_body, Body::kEnvelope);
  }
};

}  // namespace

void add_arena_routes(http::Router& router, const std::shared_ptr<grpc::Channel>& arena,
                      const ArenaRouteSettings& settings) {
  auto routes = std::make_shared<Routes>();
  routes->stub = v1::Arena::NewStub(arena);
  routes->settings = settings;
  const auto bind = [routes](void (Routes::*handler)(const ExchangePtr&) const) {
    return [routes, handler](const ExchangePtr& exchange) { ((*routes).*handler)(exchange); };
  };
  using Access = edge::RoutePolicy::Access;
  // The seed's routes stay open, limited per client address; the battles are /api/v1 and need a token.
  router.add(http::Method::kGet, "/random_models", bind(&Routes::random_models),
             {Access::kTokenOptional, edge::Scope::kRead, "read"});
  router.add(http::Method::kPost, "/vote", bind(&Routes::vote),
             {Access::kTokenOptional, edge::Scope::kWrite, "vote"});
  router.add(http::Method::kGet, "/leaderboard", bind(&Routes::leaderboard),
             {Access::kTokenOptional, edge::Scope::kRead, "read"});
  // A battle costs two LLM answers: its creation and its streams count as LLM calls.
  router.add(http::Method::kPost, "/api/v1/arena/battles", bind(&Routes::create_battle),
             {Access::kTokenRequired, edge::Scope::kWrite, "llm"});
  router.add(http::Method::kGet, "/api/v1/arena/battles/{battle_id}/stream", bind(&Routes::stream_battle),
             {Access::kTokenRequired, edge::Scope::kRead, "llm"});
  router.add(http::Method::kPost, "/api/v1/arena/battles/{battle_id}/vote", bind(&Routes::vote_battle),
             {Access::kTokenRequired, edge::Scope::kWrite, "vote"});
}

}  // namespace rally::gateway::routes
