// The rally.v1.Arena gRPC service: random pairs from the llm-proxy's catalog, votes (one PostgreSQL
// transaction each), the cached leaderboard with background Bradley-Terry fits, live leaderboard updates on
// Redis, and anonymous battles streamed through the llm-proxy. Handlers never block gRPC's threads:
// PostgreSQL work runs on a BlockingExecutor, llm-proxy calls are asynchronous.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>

#include "rally/v1/arena.grpc.pb.h"
#include "rally/v1/llm_proxy.grpc.pb.h"
#include "services/arena/arena_settings.h"
#include "services/common/redis_channels.h"

namespace rally::common {
class BlockingExecutor;
struct ServiceContext;
}  // namespace rally::common

namespace rally::arena {

class VoteStore;
class BattleStore;
class ModelCatalog;
class LeaderboardCache;
class RatingFitter;
class LeaderboardPublisher;

using common::kLeaderboardChannel;  // where leaderboard changes go (services/common/redis_channels.h)

// What the handlers use; everything outlives the service.
struct ArenaParts {
  VoteStore& votes;
  BattleStore& battles;
  ModelCatalog& catalog;
  LeaderboardCache& leaderboard;
  RatingFitter& fitter;
  LeaderboardPublisher& publisher;
  common::BlockingExecutor& executor;
  std::shared_ptr<grpc::Channel> llm_proxy;
};

class ArenaService final : public v1::Arena::CallbackService {
 public:
  ArenaService(ArenaParts parts, ArenaSettings settings);

  grpc::ServerUnaryReactor* RandomPair(grpc::CallbackServerContext* context,
                                       const v1::RandomPairRequest* request,
                                       v1::RandomPairResponse* response) override;
  grpc::ServerUnaryReactor* Vote(grpc::CallbackServerContext* context, const v1::VoteRequest* request,
                                 v1::VoteResponse* response) override;
  grpc::ServerUnaryReactor* Leaderboard(grpc::CallbackServerContext* context,
                                        const v1::LeaderboardRequest* request,
                                        v1::LeaderboardResponse* response) override;
  grpc::ServerUnaryReactor* CreateBattle(grpc::CallbackServerContext* context,
                                         const v1::CreateBattleRequest* request,
                                         v1::Battle* response) override;
  grpc::ServerWriteReactor<v1::StreamCompleteResponse>* StreamBattle(
      grpc::CallbackServerContext* context, const v1::StreamBattleRequest* request) override;
  grpc::ServerUnaryReactor* VoteBattle(grpc::CallbackServerContext* context,
                                       const v1::VoteBattleRequest* request,
                                       v1::VoteBattleResponse* response) override;

 private:
  // A vote was stored: the leaderboard, the fitter and live subscribers hear of it.
  void vote_stored();
  // Fair coins and weighted draws for pairs; one generator, seeded from the OS.
  template <typename Draw>
  auto with_random(Draw draw);

  ArenaParts parts_;
  const ArenaSettings settings_;
  std::unique_ptr<v1::LlmProxy::Stub> llm_proxy_;
  std::atomic<std::uint64_t> battles_created_{0};
  std::mutex random_mutex_;
  std::mt19937_64 random_;
};

// Builds the arena's parts (stores, catalog, cache, fitter, publisher, executor), keeps them in `context`
// (ServiceContext::own) and returns the service using them. Throws common::ConfigError for bad settings.
std::unique_ptr<grpc::Service> make_arena_service(common::ServiceContext& context);

}  // namespace rally::arena
