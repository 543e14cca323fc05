// What the arena's PostgreSQL stores share: the vote as one step of a transaction, so that
// PgVoteStore::record_vote and PgBattleStore::vote_battle cannot drift apart. Internal to
// rally_arena_storage: it brings in libpqxx, so only the stores' .cc files include it.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/field>
#include <pqxx/transaction>
#include <string>
#include <string_view>

#include "services/arena/domain/elo.h"
#include "services/arena/domain/vote_outcome.h"
#include "services/arena/storage/pg_vote_store.h"
#include "services/arena/storage/vote_store.h"
#include "services/common/errors.h"
#include "services/common/pg_pool.h"
#include "services/common/pg_store.h"

namespace rally::arena::pg {

// Applies `command` inside `transaction`, which it does not commit: locks both model rows in name order,
// takes apply_vote of their pre-vote ratings, updates both rows and their counters and inserts the votes row
// (with the command's battle id, voter key hash and idempotency key). The caller has checked that the models
// differ and that an idempotency key is unused. kModelNotFound when a model is not stored: do not commit.
common::Result<VoteRecord> apply_vote_in(pqxx::work& transaction, const VoteCommand& command,
                                         const EloSettings& settings);

common::Error unknown_model(const std::string& name);

// An outcome column of arena.votes, whose CHECK admits only vote_outcome_name() values.
VoteOutcome stored_outcome(const pqxx::field& field);

// The helpers every store shares (services/common/pg_store.h), under the names the arena's stores use.
using common::pg::database_error;
using common::pg::log_retry;
using common::pg::number;
using common::pg::run_write;
using common::pg::set_statement_timeout;
using common::pg::validated;

}  // namespace rally::arena::pg
