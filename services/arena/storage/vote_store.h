// Where the arena keeps its votes and the online ELO ratings they produce. The interface keeps PostgreSQL
// (pg_vote_store.h) out of the rpc layer and lets its tests use memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "services/arena/domain/elo.h"
#include "services/arena/domain/leaderboard.h"
#include "services/arena/domain/vote_outcome.h"
#include "services/common/errors.h"

namespace rally::arena {

// One vote to record: model_a and model_b must be different, known models.
struct VoteCommand {
  std::string model_a;
  std::string model_b;
  VoteOutcome outcome = VoteOutcome::kTie;
  std::optional<std::string> battle_id;
  std::optional<std::string> voter_key_hash;  // never the key itself
  // A retry with the same key returns the first vote's record and changes nothing.
  std::optional<std::string> idempotency_key;
};

// A recorded vote as the caller sees it.
struct VoteRecord {
  std::int64_t vote_id = 0;
  double rating_a_before = 0;
  double rating_b_before = 0;
  double rating_a_after = 0;
  double rating_b_after = 0;
  // True when the idempotency key had been used already: this is the first vote's record, nothing changed.
  bool replayed = false;

  bool operator==(const VoteRecord&) const = default;
};

// One model's stored state.
struct ModelRating {
  double rating = 0;
  VoteCounts counts;

  bool operator==(const ModelRating&) const = default;
};

using ModelRatings = std::map<std::string, ModelRating, std::less<>>;

// One stored vote, for replaying the ratings and fitting Bradley-Terry.
struct StoredVote {
  std::int64_t id = 0;
  Battle battle;
  std::optional<std::string> battle_id;
  double rating_a_before = 0;
  double rating_b_before = 0;
  double rating_a_after = 0;
  double rating_b_after = 0;
};

class VoteStore {
 public:
  virtual ~VoteStore() = default;

  // Adds the models not stored yet with `initial_rating` and no votes; existing ones keep their state.
  // Returns how many were added.
  virtual common::Result<std::size_t> ensure_models(const std::vector<std::string>& names,
                                                    double initial_rating) = 0;

  // Applies the vote to both ratings (apply_vote from the two pre-vote ratings) and stores it, atomically.
  // Errors: kModelNotFound (a model is not stored; nothing changes), kInvalidRequest (a model against
  // itself), kConflict (the idempotency key belongs to a vote on other models or with another outcome),
  // kDatabaseError.
  virtual common::Result<VoteRecord> record_vote(const VoteCommand& command, const EloSettings& settings) = 0;

  // Every stored model by name.
  virtual common::Result<ModelRatings> ratings() = 0;

  // Every stored vote in id order, which is the order the ratings were updated in.
  virtual common::Result<std::vector<StoredVote>> votes() = 0;
};

}  // namespace rally::arena
