#include "services/arena/storage/pg_battle_store.h"

#include <cstdint>
#include <optional>
#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/row>
#include <pqxx/transaction>
#include <string>
#include <utility>

#include "services/arena/storage/pg_vote_transaction.h"
#include "services/common/pg_pool.h"

namespace rally::arena {
namespace {

using common::Error;
using common::ErrorCode;
using common::Result;
using std::chrono::system_clock;
using Parameter = std::optional<std::string>;  // nullopt is SQL NULL

constexpr std::string_view kStore = "arena battle store";  // in the log

using common::pg::microseconds_of;
using common::pg::microseconds_since_epoch;
using common::pg::time_point_of;
using common::pg::timestamp;

// What stored_battle() reads, from arena.battles as b. The outcome is a subquery rather than a join so that
// the row can be locked FOR UPDATE (and returned by an INSERT).
const std::string kBattleColumns =
    "b.id, b.message, b.model_a, b.model_b, b.voter_key_hash, " + microseconds_of("b.created_at") + ", " +
    microseconds_of("b.expires_at") +
    ", b.vote_id, (SELECT v.outcome FROM arena.votes v WHERE v.id = b.vote_id)";

// The battle `$1` unless it is expired at `$2` (microseconds since the epoch).
const std::string kSelectLiveBattle = "SELECT " + kBattleColumns +
                                      " FROM arena.battles b WHERE b.id = $1 AND b.expires_at > " +
                                      timestamp("$2");

// A row selected with kBattleColumns.
StoredBattle stored_battle(const pqxx::row& row) {
  StoredBattle battle;
  battle.battle_id = row[0].as<std::string>();
  battle.message = row[1].as<std::string>();
  battle.model_a = row[2].as<std::string>();
  battle.model_b = row[3].as<std::string>();
  if (!row[4].is_null()) {
    battle.voter_key_hash = row[4].as<std::string>();
  }
  battle.created_at = time_point_of(row[5]);
  battle.expires_at = time_point_of(row[6]);
  if (!row[7].is_null()) {
    battle.vote_id = row[7].as<std::int64_t>();
  }
  if (!row[8].is_null()) {
    battle.outcome = pg::stored_outcome(row[8]);
  }
  return battle;
}

Error battle_not_found(std::string_view battle_id) {
  return Error(ErrorCode::kNotFound, "Battle not found", {{"battle_id", std::string(battle_id)}});
}

Error battle_already_voted(std::string_view battle_id) {
  return Error(ErrorCode::kConflict, "Battle already voted", {{"battle_id", std::string(battle_id)}});
}

Error database_error(std::string_view what, const std::exception& e) {
  return pg::database_error(kStore, what, e);
}

}  // namespace

PgBattleStore::PgBattleStore(common::PgPool& pool, Settings settings)
    : pool_(pool), settings_(pg::validated(settings, "PgBattleStore")) {}

Result<StoredBattle> PgBattleStore::create_battle(const NewBattle& battle) {
  if (battle.model_a == battle.model_b) {
    return Error(ErrorCode::kInvalidRequest, "a model cannot battle itself", {{"model", battle.model_a}});
  }
  const auto create = [&](pqxx::work& transaction) -> Result<StoredBattle> {
    // Checked first to name the missing model; models are never deleted, so the foreign keys cannot fail
    // after this.
    const pqxx::result known = transaction.exec_params("SELECT name FROM arena.models WHERE name IN ($1, $2)",
                                                       battle.model_a, battle.model_b);
    if (known.size() < 2) {
      const bool has_a = !known.empty() && known[0][0].as<std::string>() == battle.model_a;
      return pg::unknown_model(has_a ? battle.model_b : battle.model_a);
    }
    // Read back as find_battle reads it, so both return the same battle.
    const pqxx::result inserted = transaction.exec_params(
        "INSERT INTO arena.battles AS b (id, message, model_a, model_b, voter_key_hash, expires_at) "
        "VALUES ($1, $2, $3, $4, $5, " +
            timestamp("$6") + ") ON CONFLICT (id) DO NOTHING RETURNING " + kBattleColumns,
        battle.battle_id, battle.message, battle.model_a, battle.model_b, Parameter(battle.voter_key_hash),
        microseconds_since_epoch(battle.expires_at));
    if (inserted.empty()) {
      return Error(ErrorCode::kConflict, "Battle already exists", {{"battle_id", battle.battle_id}});
    }
    return stored_battle(inserted[0]);
  };
  try {
    return pg::run_write<StoredBattle>(pool_, settings_, kStore, "creating a battle", create);
  } catch (const std::exception& e) {
    return database_error("creating a battle", e);
  }
}

Result<StoredBattle> PgBattleStore::find_battle(std::string_view battle_id, system_clock::time_point now) {
  try {
    return pool_.with_connection([&](pqxx::connection& connection) -> Result<StoredBattle> {
      pqxx::read_transaction transaction(connection, "find_battle");
      transaction.exec0(pg::set_statement_timeout(settings_.statement_timeout));
      const pqxx::result rows =
          transaction.exec_params(kSelectLiveBattle, std::string(battle_id), microseconds_since_epoch(now));
      if (rows.empty()) {
        return battle_not_found(battle_id);
      }
      return stored_battle(rows[0]);
    });
  } catch (const std::exception& e) {
    return database_error("reading a battle", e);
  }
}

Result<BattleVote> PgBattleStore::vote_battle(std::string_view battle_id, VoteOutcome outcome,
                                              system_clock::time_point now, const EloSettings& settings) {
  const auto vote = [&](pqxx::work& transaction) -> Result<BattleVote> {
    // Concurrent votes on this battle wait here; when the first commits, the others read its vote_id.
    const pqxx::result locked = transaction.exec_params(
        kSelectLiveBattle + " FOR UPDATE OF b", std::string(battle_id), microseconds_since_epoch(now));
    if (locked.empty()) {
      return battle_not_found(battle_id);
    }
    StoredBattle battle = stored_battle(locked[0]);
    if (battle.vote_id) {
      return battle_already_voted(battle_id);
    }
    VoteCommand command;
    command.model_a = battle.model_a;
    command.model_b = battle.model_b;
    command.outcome = outcome;
    command.battle_id = battle.battle_id;
    command.voter_key_hash = battle.voter_key_hash;
    Result<VoteRecord> recorded = pg::apply_vote_in(transaction, command, settings);
    if (!recorded.ok()) {
      return recorded.error();
    }
    transaction.exec_params0("UPDATE arena.battles SET vote_id = $2, voted_at = now() WHERE id = $1",
                             battle.battle_id, recorded->vote_id);
    battle.vote_id = recorded->vote_id;
    battle.outcome = outcome;
    return BattleVote{std::move(battle), std::move(recorded).value()};
  };
  try {
    return pg::run_write<BattleVote>(pool_, settings_, kStore, "voting on a battle", vote);
  } catch (const pqxx::unique_violation&) {
    // votes_battle_id_unique: a vote for this battle arrived by another way (record_vote with its id).
    return battle_already_voted(battle_id);
  } catch (const std::exception& e) {
    return database_error("voting on a battle", e);
  }
}

Result<std::size_t> PgBattleStore::delete_expired(system_clock::time_point cutoff) {
  const auto sweep = [&](pqxx::work& transaction) -> Result<std::size_t> {
    const pqxx::result deleted = transaction.exec_params0(
        "DELETE FROM arena.battles WHERE vote_id IS NULL AND expires_at <= " + timestamp("$1"),
        microseconds_since_epoch(cutoff));
    return static_cast<std::size_t>(deleted.affected_rows());
  };
  try {
    return pg::run_write<std::size_t>(pool_, settings_, kStore, "deleting expired battles", sweep);
  } catch (const std::exception& e) {
    return database_error("deleting expired battles", e);
  }
}

}  // namespace rally::arena
