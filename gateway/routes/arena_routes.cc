#include "gateway/routes/arena_routes.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "gateway/edge/admission.h"
#include "gateway/http/router.h"
#include "gateway/routes/arena_payloads.h"
#include "gateway/routes/leaderboard_mirror.h"
#include "gateway/routes/upstream_relay.h"
#include "rally/v1/arena.grpc.pb.h"
#include "services/common/metrics.h"

namespace rally::gateway::routes {
namespace {

using relay::CallCounter;
using relay::Clock;
using relay::ExchangePtr;
using Stub = v1::Arena::Stub;

// The voter as the arena stores it (hashed): the API token when the caller sent one, else the client's host
// (not its connection: each has its own port).
std::string voter_of(const http::Exchange& exchange) {
  const edge::Principal* caller = edge::caller_of(exchange);
  if (caller != nullptr && !caller->anonymous()) return "token:" + caller->token_id;
  return "ip:" + std::string(exchange.request().client_host());
}

struct Routes {
  std::shared_ptr<Stub> stub;
  ArenaRouteSettings settings;
  std::shared_ptr<LeaderboardMirror> mirror;
  // GET /leaderboard answers by where the body came from: the mirror, a shared fetch, the reader's own fetch.
  common::metrics::Counter* read_from_mirror = nullptr;
  common::metrics::Counter* read_from_shared_fetch = nullptr;
  common::metrics::Counter* read_from_arena = nullptr;
  // Last: destroyed first, waiting for the calls in flight while everything else still exists.
  std::unique_ptr<CallCounter> calls;  // set before any route runs

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
    request->set_voter(voter_of(*exchange));
    call<v1::VoteRequest, v1::VoteResponse>(
        exchange, std::move(request.value()), [](auto& async, auto... args) { async.Vote(args...); },
        [this](const v1::VoteResponse& reply) {
          mirror->invalidate();  // before the answer: the voter's next read shows the vote
          return vote_response_body(reply);
        });
  }

  // From the mirror when it holds a fresh copy; otherwise one arena call, shared by concurrent readers.
  void leaderboard(const ExchangePtr& exchange) const {
    const LeaderboardMirror::Lookup lookup =
        mirror->lookup(Clock::now(), [this, exchange](const LeaderboardMirror::Body& body) {
          if (!body) return fetch_leaderboard(exchange, std::nullopt);  // the shared fetch failed: ask anew
          read_from_shared_fetch->inc();
          exchange->respond(http::Response::json(200, *body));
        });
    if (lookup.body) {
      read_from_mirror->inc();
      return exchange->respond(http::Response::json(200, *lookup.body));
    }
    if (lookup.lead) fetch_leaderboard(exchange, lookup.generation);
  }

  // Answers the exchange from a Leaderboard call; with a generation, the call is the mirror's fetch for it
  // and must finish it whatever its outcome, or the readers waiting behind it would never be answered.
  void fetch_leaderboard(const ExchangePtr& exchange, std::optional<std::uint64_t> generation) const {
    const std::string request_id = exchange->request().request_id();
    read_from_arena->inc();
    relay::call_unary<v1::LeaderboardRequest, v1::LeaderboardResponse>(
        *calls, exchange, Clock::now(), {}, settings.timeout,
        [stub = stub](grpc::ClientContext* context, const v1::LeaderboardRequest* request,
                      v1::LeaderboardResponse* reply, std::function<void(grpc::Status)> done) {
          stub->async()->Leaderboard(context, request, reply, std::move(done));
        },
        [this, request_id, generation](const grpc::Status& status, const v1::LeaderboardResponse& reply,
                                       Clock::time_point) {
          LeaderboardMirror::Body body;
          if (status.ok()) body = std::make_shared<const std::string>(leaderboard_body(reply));
          if (generation) mirror->finish(*generation, body, Clock::now());
          if (!body) return http::error_response(status, request_id);
          return http::Response::json(200, *body);
        });
  }

  void create_battle(const ExchangePtr& exchange) const {
    common::Result<v1::CreateBattleRequest> request = parse_battle_body(exchange->request().body());
    if (!request.ok()) return reject(exchange, request.error());
    request->set_voter(voter_of(*exchange));
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
    request->set_voter(voter_of(*exchange));
    call<v1::VoteBattleRequest, v1::VoteBattleResponse>(
        exchange, std::move(request.value()), [](auto& async, auto... args) { async.VoteBattle(args...); },
        [this](const v1::VoteBattleResponse& reply) {
          mirror->invalidate();
          return battle_vote_body(reply);
        },
        Body::kEnvelope);
  }
};

}  // namespace

void add_arena_routes(http::Router& router, const std::shared_ptr<grpc::Channel>& arena,
                      const ArenaRouteSettings& settings, std::shared_ptr<LeaderboardMirror> mirror,
                      common::metrics::Registry& registry) {
  auto routes = std::make_shared<Routes>();
  routes->stub = v1::Arena::NewStub(arena);
  routes->settings = settings;
  routes->mirror = std::move(mirror);
  routes->calls = std::make_unique<CallCounter>(upstream::CallMetrics::of(registry, "arena"));
  auto& reads = registry.counter("rally_gateway_leaderboard_reads_total",
                                 "GET /leaderboard answers by source: mirror (the gateway's copy), shared "
                                 "(another reader's arena call), arena (an arena call of its own)",
                                 {"source"});
  routes->read_from_mirror = &reads.labels({"mirror"});
  routes->read_from_shared_fetch = &reads.labels({"shared"});
  routes->read_from_arena = &reads.labels({"arena"});
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
