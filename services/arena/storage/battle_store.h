// Where the arena keeps its anonymous battles: two secret models for one user message, then the battle's
// single vote. The interface keeps PostgreSQL (pg_battle_store.h) out of the rpc layer.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "services/arena/domain/elo.h"
#include "services/arena/domain/vote_outcome.h"
#include "services/arena/storage/vote_store.h"
#include "services/common/errors.h"

namespace rally::arena {

// A battle to store: model_a and model_b must be different, known models.
struct NewBattle {
  std::string battle_id;
  std::string message;
  std::string model_a;
  std::string model_b;
  std::optional<std::string> voter_key_hash;  // never the key itself
  std::chrono::system_clock::time_point expires_at;
};

// A stored battle. Times come back at the database's resolution (whole microseconds).
struct StoredBattle {
  std::string battle_id;
  std::string message;
  std::string model_a;
  std::string model_b;
  std::optional<std::string> voter_key_hash;
  std::chrono::system_clock::time_point created_at;
  std::chrono::system_clock::time_point expires_at;
  // Both set once the battle has its vote.
  std::optional<VoteOutcome> outcome;
  std::optional<std::int64_t> vote_id;

  bool operator==(const StoredBattle&) const = default;
};

// A battle's vote: the battle with its outcome, and the vote as record_vote would have returned it.
struct BattleVote {
  StoredBattle battle;
  VoteRecord vote;
};

// A battle is expired at `now` when its expires_at <= now; from then on it is gone for clients.
class BattleStore {
 public:
  virtual ~BattleStore() = default;

  // Errors: kConflict when the id exists, kModelNotFound when a model is not in arena.models,
  // kInvalidRequest (a model against itself), kDatabaseError.
  virtual common::Result<StoredBattle> create_battle(const NewBattle& battle) = 0;

  // kNotFound ("Battle not found", details battle_id) when unknown or expired at `now`. A voted battle that
  // has not expired is returned with its outcome.
  virtual common::Result<StoredBattle> find_battle(std::string_view battle_id,
                                                   std::chrono::system_clock::time_point now) = 0;

  // The battle's single vote, in one transaction with the battle row locked: exactly what
  // VoteStore::record_vote does for {model_a, model_b, outcome, battle_id, voter_key_hash}, plus the battle's
  // vote_id. Errors: kNotFound as find_battle, kConflict ("Battle already voted", details battle_id),
  // kDatabaseError.
  virtual common::Result<BattleVote> vote_battle(std::string_view battle_id, VoteOutcome outcome,
                                                 std::chrono::system_clock::time_point now,
                                                 const EloSettings& settings) = 0;

  // Deletes the battles without a vote that are expired at `cutoff`; returns how many. Voted battles are
  // kept forever: they are the record of what the vote was about.
  virtual common::Result<std::size_t> delete_expired(std::chrono::system_clock::time_point cutoff) = 0;
};

}  // namespace rally::arena
