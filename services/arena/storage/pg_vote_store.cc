#include "services/arena/storage/pg_vote_store.h"

#include <cmath>
#include <optional>
#include <pqxx/except>
#include <pqxx/prepared_statement>
#include <pqxx/result>
#include <pqxx/transaction>
#include <set>
#include <string>
#include <string_view>

#include "services/arena/storage/pg_vote_transaction.h"
#include "services/common/pg_pool.h"

namespace rally::arena {
namespace {

using common::Error;
using common::ErrorCode;
using common::Result;

constexpr std::string_view kStore = "arena vote store";  // in the log

constexpr std::string_view kVoteColumns =
    "id, model_a, model_b, outcome, rating_a_before, rating_b_before, rating_a_after, rating_b_after, "
    "battle_id";

// A row selected with kVoteColumns.
StoredVote stored_vote(const pqxx::row& row) {
  StoredVote vote;
  vote.id = row[0].as<std::int64_t>();
  vote.battle.model_a = row[1].as<std::string>();
  vote.battle.model_b = row[2].as<std::string>();
  vote.battle.outcome = pg::stored_outcome(row[3]);
  vote.rating_a_before = row[4].as<double>();
  vote.rating_b_before = row[5].as<double>();
  vote.rating_a_after = row[6].as<double>();
  vote.rating_b_after = row[7].as<double>();
  if (!row[8].is_null()) {
    vote.battle_id = row[8].as<std::string>();
  }
  return vote;
}

std::optional<StoredVote> find_by_idempotency_key(pqxx::transaction_base& transaction,
                                                  const std::string& key) {
  const pqxx::result rows = transaction.exec_params(
      "SELECT " + std::string(kVoteColumns) + " FROM arena.votes WHERE idempotency_key = $1", key);
  if (rows.empty()) {
    return std::nullopt;
  }
  return stored_vote(rows[0]);
}

// The first vote's record for a retry, or kConflict when the key was used for a different vote.
Result<VoteRecord> replay_of(const StoredVote& first, const VoteCommand& command) {
  if (first.battle.model_a != command.model_a || first.battle.model_b != command.model_b ||
      first.battle.outcome != command.outcome) {
    return Error(ErrorCode::kConflict, "the idempotency key was already used for a different vote",
                 {{"idempotency_key", command.idempotency_key.value_or("")}});
  }
  VoteRecord record;
  record.vote_id = first.id;
  record.rating_a_before = first.rating_a_before;
  record.rating_b_before = first.rating_b_before;
  record.rating_a_after = first.rating_a_after;
  record.rating_b_after = first.rating_b_after;
  record.replayed = true;
  return record;
}

Error database_error(std::string_view what, const std::exception& e) {
  return pg::database_error(kStore, what, e);
}

}  // namespace

PgVoteStore::PgVoteStore(common::PgPool& pool, Settings settings)
    : pool_(pool), settings_(pg::validated(settings, "PgVoteStore")) {}

Result<std::size_t> PgVoteStore::ensure_models(const std::vector<std::string>& names, double initial_rating) {
  if (!std::isfinite(initial_rating)) {
    return Error(ErrorCode::kInvalidRequest, "the initial rating must be a finite number");
  }
  const std::set<std::string> unique(names.begin(), names.end());
  if (unique.contains("")) {
    return Error(ErrorCode::kInvalidRequest, "a model name must not be empty");
  }
  if (unique.empty()) {
    return std::size_t{0};
  }
  std::vector<std::string> parameters{pg::number(initial_rating)};
  std::string sql = "INSERT INTO arena.models (name, rating) VALUES ";
  for (const std::string& name : unique) {
    parameters.push_back(name);
    sql += (parameters.size() == 2 ? "($" : ", ($") + std::to_string(parameters.size()) + ", $1::float8)";
  }
  sql += " ON CONFLICT (name) DO NOTHING";
  try {
    return pool_.with_connection([&](pqxx::connection& connection) {
      pqxx::work transaction(connection, "ensure_models");
      transaction.exec0(pg::set_statement_timeout(settings_.statement_timeout));
      const pqxx::result result =
          transaction.exec_params0(sql, pqxx::prepare::make_dynamic_params(parameters));
      transaction.commit();
      return static_cast<std::size_t>(result.affected_rows());
    });
  } catch (const std::exception& e) {
    return database_error("adding models", e);
  }
}

Result<VoteRecord> PgVoteStore::record_vote(const VoteCommand& command, const EloSettings& settings) {
  if (command.model_a == command.model_b) {
    return Error(ErrorCode::kInvalidRequest, "a model cannot be voted against itself",
                 {{"model", command.model_a}});
  }
  const auto vote = [&](pqxx::work& transaction) -> Result<VoteRecord> {
    if (command.idempotency_key) {
      if (const auto first = find_by_idempotency_key(transaction, *command.idempotency_key)) {
        return replay_of(*first, command);
      }
    }
    return pg::apply_vote_in(transaction, command, settings);
  };
  try {
    return pg::run_write<VoteRecord>(pool_, settings_, kStore, "recording a vote", vote);
  } catch (const pqxx::unique_violation& e) {
    if (!command.idempotency_key) {
      return database_error("recording a vote", e);
    }
    // A concurrent call with the same key committed first; this one changed nothing. Its record is the
    // answer.
    try {
      const std::optional<StoredVote> first = pool_.with_connection([&](pqxx::connection& connection) {
        pqxx::read_transaction transaction(connection, "idempotent_vote");
        return find_by_idempotency_key(transaction, *command.idempotency_key);
      });
      if (first) {
        return replay_of(*first, command);
      }
      return database_error("recording a vote", e);
    } catch (const std::exception& read_failure) {
      return database_error("reading a voted idempotency key", read_failure);
    }
  } catch (const std::exception& e) {
    return database_error("recording a vote", e);
  }
}

Result<ModelRatings> PgVoteStore::ratings() {
  try {
    return pool_.with_connection([&](pqxx::connection& connection) {
      pqxx::read_transaction transaction(connection, "model_ratings");
      transaction.exec0(pg::set_statement_timeout(settings_.statement_timeout));
      const pqxx::result rows =
          transaction.exec("SELECT name, rating, votes, wins, losses, ties, both_bad FROM arena.models");
      ModelRatings all;
      for (const pqxx::row& row : rows) {
        ModelRating model;
        model.rating = row[1].as<double>();
        model.counts.votes = row[2].as<std::uint64_t>();
        model.counts.wins = row[3].as<std::uint64_t>();
        model.counts.losses = row[4].as<std::uint64_t>();
        model.counts.ties = row[5].as<std::uint64_t>();
        model.counts.both_bad = row[6].as<std::uint64_t>();
        all.emplace(row[0].as<std::string>(), model);
      }
      return all;
    });
  } catch (const std::exception& e) {
    return database_error("reading model ratings", e);
  }
}

Result<std::vector<StoredVote>> PgVoteStore::votes() {
  try {
    return pool_.with_connection([&](pqxx::connection& connection) {
      pqxx::read_transaction transaction(connection, "votes");
      transaction.exec0(pg::set_statement_timeout(settings_.statement_timeout));
      const pqxx::result rows =
          transaction.exec("SELECT " + std::string(kVoteColumns) + " FROM arena.votes ORDER BY id");
      std::vector<StoredVote> all;
      all.reserve(rows.size());
      for (const pqxx::row& row : rows) {
        all.push_back(stored_vote(row));
      }
      return all;
    });
  } catch (const std::exception& e) {
    return database_error("reading votes", e);
  }
}

}  // namespace rally::arena
