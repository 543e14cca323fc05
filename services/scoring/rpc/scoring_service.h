// The rally.v1.Scoring gRPC service: each RPC runs the engine on the service's executor (the engine waits
// on PostgreSQL; gRPC's threads never do) and answers with its result or its error. Asynchronous batches
// run on a thread of their own. Each replica holds a PostgreSQL advisory lock of its own for its life and
// marks its batches with it; batches whose replica is gone (its lock free) are adopted at start and every
// RALLY_SCORING_BATCH_ADOPT_INTERVAL, so a batch runs on one replica at a time and none is left behind.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "rally/v1/scoring.grpc.pb.h"
#include "services/common/blocking_executor.h"
#include "services/common/periodic_task.h"
#include "services/common/pg_advisory_lock.h"
#include "services/scoring/engine/scoring_engine.h"

namespace rally::common {
struct ServiceContext;
}

namespace rally::scoring {

class ScoreWatchers;

class ScoringService final : public v1::Scoring::CallbackService {
 public:
  // The engine, executors and lock must outlive the service. `replica_lock` is the lock whose key the
  // batch store marks batches with (nullptr: a single replica, nothing to hold).
  ScoringService(ScoringEngine& engine, common::BlockingExecutor& requests, common::BlockingExecutor& batches,
                 ScoreWatchers& watchers, common::ExclusiveLease* replica_lock = nullptr);

  grpc::ServerUnaryReactor* CalculateScore(grpc::CallbackServerContext* context,
                                           const v1::CalculateScoreRequest* request,
                                           v1::ModelScore* response) override;
  grpc::ServerUnaryReactor* GetScore(grpc::CallbackServerContext* context, const v1::GetScoreRequest* request,
                                     v1::ModelScore* response) override;
  grpc::ServerUnaryReactor* RecalculateScore(grpc::CallbackServerContext* context,
                                             const v1::RecalculateScoreRequest* request,
                                             v1::ModelScore* response) override;
  grpc::ServerUnaryReactor* BatchCalculate(grpc::CallbackServerContext* context,
                                           const v1::BatchCalculateRequest* request,
                                           v1::Batch* response) override;
  grpc::ServerUnaryReactor* GetBatch(grpc::CallbackServerContext* context, const v1::GetBatchRequest* request,
                                     v1::Batch* response) override;
  grpc::ServerUnaryReactor* AddSuffix(grpc::CallbackServerContext* context,
                                      const v1::AddSuffixRequest* request,
                                      v1::AddSuffixResponse* response) override;
  grpc::ServerUnaryReactor* BatchUpdateNames(grpc::CallbackServerContext* context,
                                             const v1::BatchUpdateNamesRequest* request,
                                             v1::BatchUpdateNamesResponse* response) override;
  grpc::ServerUnaryReactor* CompareScores(grpc::CallbackServerContext* context,
                                          const v1::CompareScoresRequest* request,
                                          v1::CompareScoresResponse* response) override;
  grpc::ServerUnaryReactor* GetRanking(grpc::CallbackServerContext* context,
                                       const v1::GetRankingRequest* request,
                                       v1::GetRankingResponse* response) override;
  grpc::ServerUnaryReactor* GetConfiguration(grpc::CallbackServerContext* context,
                                             const v1::GetConfigurationRequest* request,
                                             v1::ScoringConfiguration* response) override;
  grpc::ServerUnaryReactor* PutConfiguration(grpc::CallbackServerContext* context,
                                             const v1::PutConfigurationRequest* request,
                                             v1::ScoringConfiguration* response) override;
  grpc::ServerUnaryReactor* ValidateScore(grpc::CallbackServerContext* context,
                                          const v1::ValidateScoreRequest* request,
                                          v1::ValidateScoreResponse* response) override;

  grpc::ServerWriteReactor<v1::ScoreUpdate>* WatchScores(grpc::CallbackServerContext* context,
                                                         const v1::WatchScoresRequest* request) override;

  // Resumes unfinished batches now and then every `interval` (0: now only). Called once.
  void start_adoption(std::chrono::milliseconds interval);
  // Adopts and resumes the batches no live replica runs (on the batch thread; at most one such task
  // queued at a time).
  void resume_unfinished_batches();

 private:
  // Runs work() -> Result<Response> on the request executor and finishes the call with it.
  template <typename Response, typename Work>
  grpc::ServerUnaryReactor* run(grpc::CallbackServerContext* context, Response* response, Work work);

  ScoringEngine& engine_;
  common::BlockingExecutor& requests_;
  common::BlockingExecutor& batches_;
  ScoreWatchers& watchers_;
  common::ExclusiveLease* const replica_lock_;
  // Shared with the queued adoption task, which may run after the service is gone.
  std::shared_ptr<std::atomic<bool>> adoption_queued_ = std::make_shared<std::atomic<bool>>(false);
  std::unique_ptr<common::PeriodicTask> adoption_;  // last: its thread stops before the rest goes away
};

// Builds the stores, loads the models.dev document, and makes the service (service_main's make_services).
std::unique_ptr<grpc::Service> make_scoring_service(common::ServiceContext& context);

}  // namespace rally::scoring
