// BattleStore in PostgreSQL (arena.battles, migration 0003). A battle's vote locks the battle row first and
// then runs the very transaction step PgVoteStore::record_vote runs (pg_vote_transaction.h), so it updates
// the ratings exactly like a direct vote; concurrent votes on one battle queue on its row and all but the
// first find it voted. Serialization failures and deadlocks are retried a bounded number of times.
#pragma once

#include "services/arena/storage/battle_store.h"
#include "services/arena/storage/pg_vote_store.h"

namespace rally::common {
class PgPool;
}

namespace rally::arena {

class PgBattleStore final : public BattleStore {
 public:
  // The vote store's limits: a battle's vote is a vote, and one configuration covers the arena's database
  // work.
  using Settings = PgVoteStore::Settings;

  // Throws std::invalid_argument for settings out of range. The pool must outlive the store.
  PgBattleStore(common::PgPool& pool, Settings settings);

  common::Result<StoredBattle> create_battle(const NewBattle& battle) override;
  common::Result<StoredBattle> find_battle(std::string_view battle_id,
                                           std::chrono::system_clock::time_point now) override;
  common::Result<BattleVote> vote_battle(std::string_view battle_id, VoteOutcome outcome,
                                         std::chrono::system_clock::time_point now,
                                         const EloSettings& settings) override;
  common::Result<std::size_t> delete_expired(std::chrono::system_clock::time_point cutoff) override;

 private:
  common::PgPool& pool_;
  const Settings settings_;
};

}  // namespace rally::arena
