// VoteStore in PostgreSQL (arena.models and arena.votes, migration 0002). A vote is one transaction: it
// locks both model rows in name order (so votes on one pair in opposite orders cannot deadlock), updates
// both from their pre-vote ratings and inserts the vote row. Serialization failures and deadlocks are
// retried a bounded number of times; a concurrent retry that lost the race on an idempotency key gets the
// winner's record.
#pragma once

#include <chrono>
#include <cstdint>

#include "services/arena/storage/vote_store.h"
#include "services/common/pg_store_settings.h"

namespace rally::common {
class PgPool;
}

namespace rally::arena {

class PgVoteStore final : public VoteStore {
 public:
  // Retries and statement timeout, as every store has them.
  using Settings = common::pg::StoreSettings;

  // Throws std::invalid_argument for settings out of range. The pool must outlive the store.
  PgVoteStore(common::PgPool& pool, Settings settings);

  common::Result<std::size_t> ensure_models(const std::vector<std::string>& names,
                                            double initial_rating) override;
  common::Result<VoteRecord> record_vote(const VoteCommand& command, const EloSettings& settings) override;
  common::Result<ModelRatings> ratings() override;
  common::Result<std::vector<StoredVote>> votes() override;

 private:
  common::PgPool& pool_;
  const Settings settings_;
};

}  // namespace rally::arena
