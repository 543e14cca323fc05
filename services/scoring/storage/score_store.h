// Where the scoring service keeps what it computed: each model's current score with the inputs it was
// computed from, the history of every calculation, named weight configurations and batch calculations.
// Interfaces keep PostgreSQL (pg_score_store.h) out of the rpc layer. Messages are rally.v1's, as stored
// and served; times come back at the database's resolution (whole microseconds).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rally/v1/scoring.pb.h"
#include "services/common/errors.h"

namespace rally::scoring {

class ScoreStore {
 public:
  virtual ~ScoreStore() = default;

  // The model's current score (from_cache unset), nullopt when it was never scored. kDatabaseError.
  virtual common::Result<std::optional<v1::ModelScore>> current(std::string_view model_id) = 0;

  // The current scores of every model in `model_ids` that has one, in no particular order.
  virtual common::Result<std::vector<v1::ModelScore>> current_of(
      const std::vector<std::string>& model_ids) = 0;

  // Every current score (for rankings).
  virtual common::Result<std::vector<v1::ModelScore>> all_current() = 0;

  // Makes `score` the model's current one and appends it to the history (with score.recalc_reason), in one
  // transaction. Returns the overall score it replaced, nullopt for a first score. kDatabaseError.
  virtual common::Result<std::optional<double>> save(const v1::ModelScore& score) = 0;

  // The last `limit` history entries of the model, oldest first.
  struct HistoryEntry {
    double overall_score = 0;
    std::optional<double> previous_overall_score;
    std::string calculation_hash;
    std::string reason;
    std::int64_t calculated_at_us = 0;  // microseconds since the epoch
  };
  virtual common::Result<std::vector<HistoryEntry>> history(std::string_view model_id, std::size_t limit) = 0;
};

class ConfigurationStore {
 public:
  virtual ~ConfigurationStore() = default;

  // kNotFound ("Scoring configuration not found", details config) for an unknown name. kDatabaseError.
  virtual common::Result<v1::ScoringConfiguration> get(std::string_view name) = 0;
  // Creates or replaces the configuration named configuration.config_name (its weights already validated
  // by the caller) and returns it as stored, last_updated set.
  virtual common::Result<v1::ScoringConfiguration> put(const v1::ScoringConfiguration& configuration) = 0;
};

class BatchStore {
 public:
  virtual ~BatchStore() = default;

  // Records a new batch as processing. kConflict when the id exists. kDatabaseError.
  virtual common::Result<v1::Batch> create(std::string_view batch_id,
                                           const v1::BatchCalculateRequest& request) = 0;
  // A model's result at its index in request.model_ids.
  struct PositionResult {
    std::uint32_t position = 0;
    v1::BatchItemResult result;
  };
  // Stores these results (storing a position again replaces it) and makes `scores` current with their
  // history rows, as ScoreStore::save does, all in one transaction: a stop leaves both or neither, so a
  // resumed batch scores no model twice. The model ids of `scores` must differ. Returns, per score, the
  // overall score it replaced (nullopt for a first score). kDatabaseError.
  virtual common::Result<std::vector<std::optional<double>>> add_results(
      std::string_view batch_id, const std::vector<PositionResult>& results,
      const std::vector<v1::ModelScore>& scores) = 0;
  // Marks the batch completed (or failed, when every model failed), completed_at now.
  virtual common::Result<v1::Batch> finish(std::string_view batch_id) = 0;
  // The batch with its results so far, in request order. kNotFound ("Batch not found", details batch_id).
  virtual common::Result<v1::Batch> get(std::string_view batch_id) = 0;

  // A batch left processing (by a stop mid-way): its request and the positions already done.
  struct Unfinished {
    std::string batch_id;
    v1::BatchCalculateRequest request;
    std::vector<std::uint32_t> done_positions;
  };
  // The processing batches no live replica runs, oldest first, claimed for this store's replica (see
  // PgBatchStore) so no other replica takes them too. kDatabaseError.
  virtual common::Result<std::vector<Unfinished>> unfinished() = 0;
};

}  // namespace rally::scoring
