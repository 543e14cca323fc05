// What the arena's PostgreSQL stores share: the vote as one step of a transaction, so that
// PgVoteStore::record_vote and PgBattleStore::vote_battle cannot drift apart, and how a write transaction is
// run, retried and reported. Internal to rally_arena_storage: it brings in libpqxx, so only the stores' .cc
// files include it.
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

namespace rally::arena::pg {

// Applies `command` inside `transaction`, which it does not commit: locks both model rows in name order,
// takes apply_vote of their pre-vote ratings, updates both rows and their counters and inserts the votes row
// (with the command's battle id, voter key hash and idempotency key). The caller has checked that the models
// differ and that an idempotency key is unused. kModelNotFound when a model is not stored: do not commit.
common::Result<VoteRecord> apply_vote_in(pqxx::work& transaction, const VoteCommand& command,
                                         const EloSettings& settings);

common::Error unknown_model(const std::string& name);

// Text that reads back as the same double.
std::string number(double value);

// An outcome column of arena.votes, whose CHECK admits only vote_outcome_name() values.
VoteOutcome stored_outcome(const pqxx::field& field);

std::string set_statement_timeout(std::chrono::milliseconds timeout);

// Logs the failure under the store's name (first line only: later lines may quote whole rows) and returns
// kDatabaseError "<what> failed".
common::Error database_error(std::string_view store, std::string_view what, const std::exception& e);

void log_retry(std::string_view store, std::string_view what, const std::exception& e);

// Throws std::invalid_argument naming the store for settings out of range.
PgVoteStore::Settings validated(PgVoteStore::Settings settings, std::string_view store);

// Runs work(pqxx::work&) -> Result<T> in a read-write transaction under the statement timeout and commits
// when it returns a value; an Error rolls the transaction back. Serialization failures and deadlocks roll
// the whole transaction back, so it is tried again, settings.attempts times at most. The last failed try
// and a commit of unknown outcome are kDatabaseError; any other exception propagates, because only the
// caller knows what, say, a unique violation means.
template <typename T, typename Work>
common::Result<T> run_write(common::PgPool& pool, const PgVoteStore::Settings& settings,
                            std::string_view store, std::string_view what, Work&& work) {
  for (std::uint32_t tries = 1;; ++tries) {
    try {
      return pool.with_connection([&](pqxx::connection& connection) -> common::Result<T> {
        pqxx::work transaction(connection);
        transaction.exec0(set_statement_timeout(settings.statement_timeout));
        common::Result<T> result = work(transaction);
        if (result.ok()) {
          transaction.commit();
        }
        return result;
      });
    } catch (const pqxx::in_doubt_error& e) {
      // The commit may have happened: trying again could do the work twice.
      return database_error(store, std::string(what) + " (outcome unknown)", e);
    } catch (const pqxx::statement_completion_unknown& e) {
      return database_error(store, std::string(what) + " (outcome unknown)", e);
    } catch (const pqxx::transaction_rollback& e) {
      if (tries >= settings.attempts) {
        return database_error(store, what, e);
      }
      log_retry(store, what, e);
    }
  }
}

}  // namespace rally::arena::pg
