// What the Scoring service does, behind its RPCs: resolves model ids in the model catalog, picks the
// weights (a named configuration plus the request's overrides), returns a stored score while it is valid or
// calculates, stores and announces a new one, and answers batches, comparisons, rankings, configuration
// and validation from the stores. Blocking (it waits on PostgreSQL): the rpc layer calls it from its
// executor, never from a gRPC thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "rally/v1/scoring.pb.h"
#include "services/common/errors.h"
#include "services/scoring/domain/model_catalog.h"
#include "services/scoring/domain/score_weights.h"
#include "services/scoring/engine/versioned_cache.h"
#include "services/scoring/storage/score_store.h"

namespace rally::scoring {

// What one scheduled recalculation did.
struct RecalculationSummary {
  std::size_t recalculated = 0;  // scores computed and stored again
  std::size_t changed = 0;       // of those, announced: new, or different to a subscriber's eye
  std::size_t skipped = 0;       // stored scores of models no longer in the catalog (kept as they are)
};

struct EngineSettings {
  // How long a stored score is returned without recalculating. RALLY_SCORING_SCORE_TTL
  std::chrono::seconds score_ttl{std::chrono::hours(24)};
  // How long configurations and current scores read from PostgreSQL are answered from memory before they
  // are read again; this engine's own writes replace its copies at once. Zero reads every time.
  // RALLY_SCORING_CACHE_TTL
  std::chrono::milliseconds cache_ttl{0};
};

class ScoringEngine {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  // Called after each stored score change (the service publishes it on Redis).
  using Announce = std::function<void(const v1::ScoreUpdate&)>;

  struct Stores {
    ScoreStore& scores;
    ConfigurationStore& configurations;
    BatchStore& batches;
  };

  // `catalog` may be replaced later (set_catalog). The stores must outlive the engine.
  ScoringEngine(Stores stores, std::shared_ptr<const ModelCatalog> catalog, EngineSettings settings,
                Clock clock, Announce announce);

  void set_catalog(std::shared_ptr<const ModelCatalog> catalog);
  std::shared_ptr<const ModelCatalog> catalog() const;

  // Asked when a request names a model the catalog lacks: true when it installed a newer catalog (then the
  // id is looked up again). kApiTimeout (models.dev did not answer in time) is the request's answer; any
  // other error leaves the id unknown (404, the reason in the details). It bounds how often it fetches.
  using CatalogRefresher = std::function<common::Result<bool>()>;
  void set_catalog_refresher(CatalogRefresher refresher);

  // kModelNotFound for an id the catalog cannot resolve; kInvalidRequest for an unknown or disabled
  // configuration or bad weights; kDatabaseError.
  common::Result<v1::ModelScore> calculate(const v1::CalculateScoreRequest& request);
  // calculate() when it needs neither PostgreSQL nor a catalog refresh: a request that is not forced, for a
  // model of the current catalog, whose configuration and stored score are in memory and still answer.
  // nullopt otherwise (then calculate() it on a thread that may block). Never blocks.
  std::optional<common::Result<v1::ModelScore>> calculate_in_memory(
      const v1::CalculateScoreRequest& request) const;
  // The stored score; kModelNotFound when the model is unknown or was never scored.
  common::Result<v1::ModelScore> get(std::string_view model_id);
  common::Result<v1::ModelScore> recalculate(const v1::RecalculateScoreRequest& request);

  // A synchronous batch: every model scored in request order, the batch stored (GetBatch reads it).
  common::Result<v1::Batch> run_batch(const v1::BatchCalculateRequest& request);
  // An asynchronous batch: stored as processing; its work is run_stored_batch.
  common::Result<v1::Batch> start_batch(const v1::BatchCalculateRequest& request);
  // Scores the positions of a stored batch not done yet and finishes it (also used to resume after a
  // restart).
  common::Result<v1::Batch> run_stored_batch(const std::string& batch_id,
                                             const v1::BatchCalculateRequest& request,
                                             const std::vector<std::uint32_t>& done_positions);
  common::Result<v1::Batch> get_batch(std::string_view batch_id);
  // The batches a stop left processing, to resume with run_stored_batch.
  common::Result<std::vector<BatchStore::Unfinished>> unfinished_batches();

  v1::AddSuffixResponse add_suffix(const v1::AddSuffixRequest& request) const;
  v1::BatchUpdateNamesResponse batch_update_names(const v1::BatchUpdateNamesRequest& request) const;

  // Each model's valid stored score, calculated (and stored) when it has none.
  common::Result<v1::CompareScoresResponse> compare(const v1::CompareScoresRequest& request);
  common::Result<v1::GetRankingResponse> ranking(const v1::GetRankingRequest& request);

  common::Result<v1::ScoringConfiguration> configuration(std::string_view name);
  common::Result<v1::ScoringConfiguration> put_configuration(const v1::ScoringConfiguration& configuration);

  // Recomputes the stored score from its stored inputs: the hash, the components and the overall score.
  common::Result<v1::ValidateScoreResponse> validate(const v1::ValidateScoreRequest& request);

  // The scheduled recalculation: every stored score again from the current catalog with the weights it
  // was computed with, and every model of the suite's catalog (public names) with the default
  // configuration. All are stored (history rows with `reason`); only new scores and scores whose rounded
  // values or name changed are announced. kDatabaseError stops it.
  common::Result<RecalculationSummary> recalculate_all(const std::string& reason);

 private:
  struct Resolved {
    std::string requested;  // the id as asked
    const ModelRecord* record = nullptr;
    std::shared_ptr<const ModelCatalog> catalog;  // keeps `record` alive
  };
  struct ScoreChange {
    v1::ModelScore score;                    // as stored, under the model's key
    std::optional<double> previous_overall;  // the overall score it replaced
  };

  // In the current catalog, without refreshing it.
  std::optional<Resolved> find(std::string_view model_id) const;
  // find(), then once more after the refresher installed a newer catalog.
  common::Result<Resolved> resolve(std::string_view model_id) const;
  // The named configuration's weights with the options' overrides; kInvalidRequest naming the field.
  common::Result<NormalizedWeights> weights_for(const v1::ScoringOptions& options);
  // From memory while the copy answers, else from the store (and kept).
  common::Result<v1::ScoringConfiguration> configuration_named(std::string_view name);
  common::Result<std::optional<v1::ModelScore>> current_score(std::string_view key);
  // Keeps a score this engine stored (or read) as the model's current one in memory.
  void remember(const v1::ModelScore& stored);
  // The stored score while valid for these weights (unless `force`), else a new one, stored and announced.
  common::Result<v1::ModelScore> score(const Resolved& model, const v1::ScoringOptions& options, bool force,
                                       const std::string& reason);
  // A batch position and its model as resolved.
  struct BatchPosition {
    std::uint32_t position = 0;
    common::Result<Resolved> model;
  };

  // True when a stored score still answers for these weights: valid, same weights and algorithm.
  bool still_answers(const v1::ModelScore& stored, const NormalizedWeights& weights) const;
  // A new score of the model, calculated now (under its key); stores nothing.
  v1::ModelScore new_score(const Resolved& model, const NormalizedWeights& weights,
                           const std::string& reason) const;
  // new_score() stored with its history row; announces nothing.
  common::Result<ScoreChange> store_new_score(const Resolved& model, const NormalizedWeights& weights,
                                              const std::string& reason);
  // Scores the chunk's models and stores their results with the new scores in one transaction, then
  // announces those. `weights` is the batch's (an error fails every resolved model with it).
  std::optional<common::Error> run_batch_chunk(const std::string& batch_id,
                                               const v1::BatchCalculateRequest& request,
                                               const common::Result<NormalizedWeights>& weights,
                                               std::vector<BatchPosition>& chunk);
  void announce(const Resolved& model, const ScoreChange& change) const;

  Stores stores_;
  const EngineSettings settings_;
  const Clock clock_;
  const Announce announce_;
  mutable std::mutex catalog_mutex_;
  std::shared_ptr<const ModelCatalog> catalog_;
  CatalogRefresher refresher_;
  VersionedCache<v1::ScoringConfiguration> configurations_;  // by name
  VersionedCache<v1::ModelScore> scores_;                    // by model key
};

}  // namespace rally::scoring
