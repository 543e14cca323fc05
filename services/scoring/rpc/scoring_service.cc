#include "services/scoring/rpc/scoring_service.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <utility>

#include "services/common/config.h"
#include "services/common/grpc_channel.h"
#include "services/common/grpc_status.h"
#include "services/common/logging.h"
#include "services/common/pg_advisory_lock.h"
#include "services/common/pg_pool.h"
#include "services/common/redis_client.h"
#include "services/common/rpc_observer.h"
#include "services/common/service_main.h"
#include "services/scoring/rpc/score_scheduler.h"
#include "services/scoring/rpc/score_watchers.h"
#include "services/scoring/rpc/scoring_sources.h"
#include "services/scoring/scoring_settings.h"
#include "services/scoring/storage/pg_score_store.h"
#include "services/scoring/sync/models_dev_sync.h"

namespace rally::scoring {
namespace {

// A name no other process has had (host, pid and 64 random bits): the replica's lock is its alone.
std::string replica_name() {
  std::random_device random;
  std::array<char, 256> host{};
  ::gethostname(host.data(), host.size() - 1);
  const std::uint64_t salt = (std::uint64_t{random()} << 32) | random();
  return std::string(host.data()) + "/" + std::to_string(::getpid()) + "/" + std::to_string(salt);
}

using common::Error;
using common::ErrorCode;
using common::Result;

grpc::Status busy() {
  return common::to_grpc_status(Error(ErrorCode::kServiceUnavailable,
                                      "The scoring service is overloaded; retry shortly",
                                      {{"reason", "queue_full"}}));
}

// The models.dev document at `path`; an unreadable or invalid one stops the service at start.
ModelCatalog load_catalog(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw common::ConfigError("RALLY_SCORING_MODELS_DEV_FILE", "cannot read " + path);
  std::ostringstream text;
  text << file.rdbuf();
  Result<ModelCatalog> catalog = parse_models_dev(text.str());
  if (!catalog.ok()) {
    throw common::ConfigError("RALLY_SCORING_MODELS_DEV_FILE", path + ": " + catalog.error().message);
  }
  spdlog::info("scoring: {} models of {} providers from {} (models.dev commit {}, retrieved {})",
               catalog->models.size(), catalog->provider_count, path,
               catalog->source_commit.empty() ? "unknown" : catalog->source_commit,
               catalog->retrieved.empty() ? "unknown" : catalog->retrieved);
  return std::move(catalog.value());
}

}  // namespace

ScoringService::ScoringService(ScoringEngine& engine, common::BlockingExecutor& requests,
                               common::BlockingExecutor& batches, ScoreWatchers& watchers,
                               common::ExclusiveLease* replica_lock)
    : engine_(engine),
      requests_(requests),
      batches_(batches),
      watchers_(watchers),
      replica_lock_(replica_lock) {}

grpc::ServerWriteReactor<v1::ScoreUpdate>* ScoringService::WatchScores(
    grpc::CallbackServerContext*, const v1::WatchScoresRequest* request) {
  return watchers_.watch(*request);
}

template <typename Response, typename Work>
grpc::ServerUnaryReactor* ScoringService::run(grpc::CallbackServerContext* context, Response* response,
                                              Work work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const bool queued = requests_.post(
      [reactor, response, request_id = common::request_id_of(*context), work = std::move(work)]() mutable {
        common::ScopedRequestId scope(std::move(request_id));
        Result<Response> result = work();
        if (!result.ok()) return reactor->Finish(common::to_grpc_status(result.error()));
        *response = std::move(result.value());
        reactor->Finish(grpc::Status::OK);
      });
  if (!queued) reactor->Finish(busy());
  return reactor;
}

grpc::ServerUnaryReactor* ScoringService::CalculateScore(grpc::CallbackServerContext* context,
                                                         const v1::CalculateScoreRequest* request,
                                                         v1::ModelScore* response) {
  // Answered on gRPC's thread when nothing has to be read: no hand-off to the request threads.
  if (std::optional<Result<v1::ModelScore>> answer = engine_.calculate_in_memory(*request)) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (!answer->ok()) {
      reactor->Finish(common::to_grpc_status(answer->error()));
    } else {
      *response = std::move(answer->value());
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }
  return run(context, response, [this, request] { return engine_.calculate(*request); });
}

grpc::ServerUnaryReactor* ScoringService::GetScore(grpc::CallbackServerContext* context,
                                                   const v1::GetScoreRequest* request,
                                                   v1::ModelScore* response) {
  return run(context, response, [this, request] { return engine_.get(request->model_id()); });
}

grpc::ServerUnaryReactor* ScoringService::RecalculateScore(grpc::CallbackServerContext* context,
                                                           const v1::RecalculateScoreRequest* request,
                                                           v1::ModelScore* response) {
  return run(context, response, [this, request] { return engine_.recalculate(*request); });
}

grpc::ServerUnaryReactor* ScoringService::BatchCalculate(grpc::CallbackServerContext* context,
                                                         const v1::BatchCalculateRequest* request,
                                                         v1::Batch* response) {
  // A batch is marked with this replica's lock; unheld, the others would take it for an orphan.
  const auto lock_held = [this]() -> std::optional<Error> {
    if (replica_lock_ == nullptr || replica_lock_->try_hold() == common::LeaseState::kHeld)
      return std::nullopt;
    return Error(ErrorCode::kDatabaseError, "PostgreSQL unavailable: this replica cannot claim batches now");
  };
  if (!request->async()) {
    return run(context, response, [this, request, lock_held]() -> Result<v1::Batch> {
      if (std::optional<Error> error = lock_held()) return *error;
      return engine_.run_batch(*request);
    });
  }
  return run(context, response, [this, request, lock_held]() -> Result<v1::Batch> {
    if (std::optional<Error> error = lock_held()) return *error;
    Result<v1::Batch> started = engine_.start_batch(*request);
    if (!started.ok()) return started;
    // Tasks capture what they use, never the service: the executor runs its queue out after the service
    // is gone (the engine and the lock outlive both).
    const bool queued = batches_.post([&engine = engine_, batch_id = started->batch_id(), work = *request] {
      common::ScopedRequestId scope(batch_id);
      Result<v1::Batch> done = engine.run_stored_batch(batch_id, work, {});
      if (!done.ok()) spdlog::error("scoring: batch {} stopped: {}", batch_id, done.error().message);
    });
    // Left processing when the queue is full, marked as this replica's: it is resumed once this replica
    // stops (by another replica, or by this one's next start).
    if (!queued) {
      spdlog::warn("scoring: batch {} waits for this replica's restart (batch queue full)",
                   started->batch_id());
    }
    return started;
  });
}

grpc::ServerUnaryReactor* ScoringService::GetBatch(grpc::CallbackServerContext* context,
                                                   const v1::GetBatchRequest* request, v1::Batch* response) {
  return run(context, response, [this, request] { return engine_.get_batch(request->batch_id()); });
}

grpc::ServerUnaryReactor* ScoringService::AddSuffix(grpc::CallbackServerContext* context,
                                                    const v1::AddSuffixRequest* request,
                                                    v1::AddSuffixResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  *response = engine_.add_suffix(*request);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* ScoringService::BatchUpdateNames(grpc::CallbackServerContext* context,
                                                           const v1::BatchUpdateNamesRequest* request,
                                                           v1::BatchUpdateNamesResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  *response = engine_.batch_update_names(*request);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* ScoringService::CompareScores(grpc::CallbackServerContext* context,
                                                        const v1::CompareScoresRequest* request,
                                                        v1::CompareScoresResponse* response) {
  return run(context, response, [this, request] { return engine_.compare(*request); });
}

grpc::ServerUnaryReactor* ScoringService::GetRanking(grpc::CallbackServerContext* context,
                                                     const v1::GetRankingRequest* request,
                                                     v1::GetRankingResponse* response) {
  return run(context, response, [this, request] { return engine_.ranking(*request); });
}

grpc::ServerUnaryReactor* ScoringService::GetConfiguration(grpc::CallbackServerContext* context,
                                                           const v1::GetConfigurationRequest* request,
                                                           v1::ScoringConfiguration* response) {
  return run(context, response, [this, request] { return engine_.configuration(request->config_name()); });
}

grpc::ServerUnaryReactor* ScoringService::PutConfiguration(grpc::CallbackServerContext* context,
                                                           const v1::PutConfigurationRequest* request,
                                                           v1::ScoringConfiguration* response) {
  return run(context, response,
             [this, request] { return engine_.put_configuration(request->configuration()); });
}

grpc::ServerUnaryReactor* ScoringService::ValidateScore(grpc::CallbackServerContext* context,
                                                        const v1::ValidateScoreRequest* request,
                                                        v1::ValidateScoreResponse* response) {
  return run(context, response, [this, request] { return engine_.validate(*request); });
}

void ScoringService::start_adoption(std::chrono::milliseconds interval) {
  resume_unfinished_batches();
  if (interval.count() > 0) {
    adoption_ = std::make_unique<common::PeriodicTask>(interval, [this] { resume_unfinished_batches(); });
  }
}

void ScoringService::resume_unfinished_batches() {
  if (adoption_queued_->exchange(true)) return;  // one round waiting is enough
  const bool queued = batches_.post([&engine = engine_, lock = replica_lock_, waiting = adoption_queued_] {
    *waiting = false;
    // Adopting marks batches with this replica's lock: it must be held first, or they look orphaned.
    if (lock != nullptr && lock->try_hold() != common::LeaseState::kHeld) {
      spdlog::warn("scoring: unfinished batches not adopted: this replica's lock is not held (PostgreSQL?)");
      return;
    }
    // The stores' unfinished() is read through the engine's batch store; the engine keeps no list.
    Result<std::vector<BatchStore::Unfinished>> unfinished = engine.unfinished_batches();
    if (!unfinished.ok()) {
      spdlog::warn("scoring: unfinished batches not resumed: {}", unfinished.error().message);
      return;
    }
    for (const BatchStore::Unfinished& batch : unfinished.value()) {
      common::ScopedRequestId scope(batch.batch_id);
      spdlog::info("scoring: resuming batch {} ({} of {} models done)", batch.batch_id,
                   batch.done_positions.size(), batch.request.model_ids_size());
      Result<v1::Batch> done = engine.run_stored_batch(batch.batch_id, batch.request, batch.done_positions);
      if (!done.ok()) spdlog::error("scoring: batch {} stopped: {}", batch.batch_id, done.error().message);
    }
  });
  if (!queued) *adoption_queued_ = false;
}

std::unique_ptr<grpc::Service> make_scoring_service(common::ServiceContext& context) {
  const ScoringSettings settings = ScoringSettings::from(context.config);
  ModelCatalog models_dev = load_catalog(settings.models_dev_file);
  common::pg::StoreSettings store_settings;
  store_settings.statement_timeout = settings.statement_timeout;
  ScoreStore& scores = context.own(std::make_unique<PgScoreStore>(context.postgres, store_settings));
  ConfigurationStore& configurations =
      context.own(std::make_unique<PgConfigurationStore>(context.postgres, store_settings));
  // This replica's own lock, held for its life: its batches carry the key, so others leave them alone.
  common::PgAdvisoryLock& replica_lock = context.own(
      std::make_unique<common::PgAdvisoryLock>(context.postgres, "scoring.replica/" + replica_name()));
  BatchStore& batches =
      context.own(std::make_unique<PgBatchStore>(context.postgres, store_settings, replica_lock.key()));

  common::RedisClient& redis = context.redis;
  ScoringEngine& engine = context.own(std::make_unique<ScoringEngine>(
      ScoringEngine::Stores{scores, configurations, batches}, nullptr, settings.engine,
      [] { return std::chrono::system_clock::now(); },
      [&redis](const v1::ScoreUpdate& update) {
        try {
          redis.publish(kScoreUpdatesChannel, update.SerializeAsString());
        } catch (const common::RedisUnavailable& error) {
          spdlog::warn("scoring: score update of {} not published: {}", update.score().model_id(),
                       error.what());
        }
      }));
  SourceReader& sources = context.own(
      std::make_unique<SourceReader>(common::make_service_channel(settings.llm_proxy),
                                     common::make_service_channel(settings.arena), settings.sources_timeout));
  // After the engine and the reader: destroyed before them, its thread stops first.
  // One replica recalculates on the schedule; the others only read the sources.
  common::PgAdvisoryLock& recalculation_lease =
      context.own(std::make_unique<common::PgAdvisoryLock>(context.postgres, "scoring.recalculation"));
  ScoreScheduler& scheduler = context.own(std::make_unique<ScoreScheduler>(
      engine, sources, std::move(models_dev), ScoreScheduler::Settings{.interval = settings.recalc_interval},
      &recalculation_lease));
  // After the scheduler it feeds; before the executors, whose requests may wait on refresh_now().
  ModelsDevSync& sync = context.own(std::make_unique<ModelsDevSync>(
      ModelsDevSyncSettings::from(context.config),
      [&scheduler](ModelCatalog catalog, const ModelsDevOrigin& origin) {
        spdlog::info("scoring: {} models of {} providers from {} (ETag {}, Last-Modified {})",
                     catalog.models.size(), catalog.provider_count, origin.url,
                     origin.etag.empty() ? "none" : origin.etag,
                     origin.last_modified.empty() ? "none" : origin.last_modified);
        scheduler.set_models_dev(std::move(catalog));
      }));
  engine.set_catalog_refresher([&sync] { return sync.refresh_now(); });
  if (sync.settings().enabled()) {
    spdlog::info("scoring: models.dev sync from {} every {} s", sync.settings().url,
                 std::chrono::duration_cast<std::chrono::seconds>(sync.settings().sync_interval).count());
  } else {
    spdlog::info(
        "scoring: models.dev sync off (RALLY_SCORING_MODELS_DEV_URL is empty): the loaded file only");
  }
  sync.start();
  ScoreWatchers& watchers = context.own(std::make_unique<ScoreWatchers>(
      common::RedisSettings::from(context.config), std::string(kScoreUpdatesChannel), settings.watch_queue));
  context.on_drain.emplace_back([&watchers] { watchers.end_all(); });
  // Executors after the engine: owned last, destroyed first, so their work ends while the engine exists.
  common::BlockingExecutor& requests =
      context.own(std::make_unique<common::BlockingExecutor>(settings.db_threads, settings.db_queue));
  common::BlockingExecutor& batch_thread = context.own(std::make_unique<common::BlockingExecutor>(1, 1000));
  auto service = std::make_unique<ScoringService>(engine, requests, batch_thread, watchers, &replica_lock);
  // Batches a stop left processing are in scoring.batches, which a fresh database has only once migrated;
  // after that, batches of replicas that died are looked for on an interval.
  context.on_migrated.emplace_back([resumer = service.get(), interval = settings.batch_adopt_interval] {
    resumer->start_adoption(interval);
  });
  return service;
}

}  // namespace rally::scoring
