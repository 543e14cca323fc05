// The scoring stores in PostgreSQL (schema scoring, migration 0002). Messages are kept as protobuf JSON
// where they are only read back whole (inputs, weights, batch requests and results) and as columns where
// SQL sorts or filters on them (scores).
#pragma once

#include <cstdint>
#include <optional>

#include "services/common/pg_store_settings.h"
#include "services/scoring/storage/score_store.h"

namespace rally::common {
class PgPool;
}

namespace rally::scoring {

class PgScoreStore final : public ScoreStore {
 public:
  // Throws std::invalid_argument for settings out of range. The pool must outlive the store.
  PgScoreStore(common::PgPool& pool, common::pg::StoreSettings settings);

  common::Result<std::optional<v1::ModelScore>> current(std::string_view model_id) override;
  common::Result<std::vector<v1::ModelScore>> current_of(const std::vector<std::string>& model_ids) override;
  common::Result<std::vector<v1::ModelScore>> all_current() override;
  common::Result<std::optional<double>> save(const v1::ModelScore& score) override;
  common::Result<std::vector<HistoryEntry>> history(std::string_view model_id, std::size_t limit) override;

 private:
  common::PgPool& pool_;
  const common::pg::StoreSettings settings_;
};

class PgConfigurationStore final : public ConfigurationStore {
 public:
  PgConfigurationStore(common::PgPool& pool, common::pg::StoreSettings settings);

  common::Result<v1::ScoringConfiguration> get(std::string_view name) override;
  common::Result<v1::ScoringConfiguration> put(const v1::ScoringConfiguration& configuration) override;

 private:
  common::PgPool& pool_;
  const common::pg::StoreSettings settings_;
};

class PgBatchStore final : public BatchStore {
 public:
  // `owner_lock`: the advisory lock key this replica holds for its life (PgAdvisoryLock::key()). Its batches
  // carry it; unfinished() adopts only batches whose owner's lock no session holds, so replicas never run
  // one batch twice. Without one (tests of a single store), every processing batch counts as unfinished.
  PgBatchStore(common::PgPool& pool, common::pg::StoreSettings settings,
               std::optional<std::int64_t> owner_lock = std::nullopt);

  common::Result<v1::Batch> create(std::string_view batch_id,
                                   const v1::BatchCalculateRequest& request) override;
  common::Result<std::vector<std::optional<double>>> add_results(
      std::string_view batch_id, const std::vector<PositionResult>& results,
      const std::vector<v1::ModelScore>& scores) override;
  common::Result<v1::Batch> finish(std::string_view batch_id) override;
  common::Result<v1::Batch> get(std::string_view batch_id) override;
  common::Result<std::vector<Unfinished>> unfinished() override;

 private:
  common::PgPool& pool_;
  const common::pg::StoreSettings settings_;
  const std::optional<std::int64_t> owner_lock_;
};

}  // namespace rally::scoring
