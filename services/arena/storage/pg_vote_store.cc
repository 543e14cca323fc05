#include "services/arena/storage/pg_vote_store.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <optional>
#include <pqxx/except>
#include <pqxx/prepared_statement>
#include <pqxx/result>
#include <pqxx/transaction>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "services/common/pg_pool.h"

namespace rally::arena {
namespace {

using common::Error;
using common::ErrorCode;
using common::Result;
using Parameter = std::optional<std::string>;  // nullopt is SQL NULL

constexpr std::string_view kVoteColumns =
    "id, model_a, model_b, outcome, rating_a_before, rating_b_before, rating_a_after, rating_b_after, "
    "battle_id";

// Text that reads back as the same double.
std::string number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

// The first line of a server error: later lines may quote whole rows.
std::string first_line(std::string_view text) {
  return std::string(text.substr(0, text.find('\n')));
}

std::string set_statement_timeout(std::chrono::milliseconds timeout) {
  return "SET LOCAL statement_timeout = " + std::to_string(timeout.count());
}

// The counter a vote adds one to, from one side's point of view.
const char* counter_column(VoteOutcome outcome, bool side_a) {
  switch (outcome) {
    case VoteOutcome::kModelA:
      return side_a ? "wins" : "losses";
    case VoteOutcome::kModelB:
      return side_a ? "losses" : "wins";
    case VoteOutcome::kTie:
      return "ties";
    case VoteOutcome::kBothBad:
      return "both_bad";
  }
  throw std::logic_error("counter_column: unknown vote outcome");
}

// A row selected with kVoteColumns.
StoredVote stored_vote(const pqxx::row& row) {
  StoredVote vote;
  vote.id = row[0].as<std::int64_t>();
  vote.battle.model_a = row[1].as<std::string>();
  vote.battle.model_b = row[2].as<std::string>();
  const std::optional<VoteOutcome> outcome = parse_vote_outcome(row[3].as<std::string>());
  if (!outcome) {
    // The table's CHECK admits only vote_outcome_name() values.
    throw std::logic_error("arena.votes holds an unknown outcome: " + row[3].as<std::string>());
  }
  vote.battle.outcome = *outcome;
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
  spdlog::error("arena vote store: {}: {}", what, first_line(e.what()));
  return Error(ErrorCode::kDatabaseError, std::string(what) + " failed");
}

PgVoteStore::Settings validated(PgVoteStore::Settings settings) {
  if (settings.attempts < 1) {
    throw std::invalid_argument("PgVoteStore: attempts must be at least 1");
  }
  if (settings.statement_timeout <= std::chrono::milliseconds(0)) {
    throw std::invalid_argument("PgVoteStore: statement_timeout must be positive");
  }
  return settings;
}

}  // namespace

PgVoteStore::PgVoteStore(common::PgPool& pool, Settings settings)
    : pool_(pool), settings_(validated(settings)) {}

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
  std::vector<std::string> parameters{number(initial_rating)};
  std::string sql = "INSERT INTO arena.models (name, rating) VALUES ";
  for (const std::string& name : unique) {
    parameters.push_back(name);
    sql += (parameters.size() == 2 ? "($" : ", ($") + std::to_string(parameters.size()) + ", $1::float8)";
  }
  sql += " ON CONFLICT (name) DO NOTHING";
  try {
    return pool_.with_connection([&](pqxx::connection& connection) {
      pqxx::work transaction(connection, "ensure_models");
      transaction.exec0(set_statement_timeout(settings_.statement_timeout));
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
  const auto attempt = [&](pqxx::connection& connection) -> Result<VoteRecord> {
    pqxx::work transaction(connection, "record_vote");
    transaction.exec0(set_statement_timeout(settings_.statement_timeout));
    if (command.idempotency_key) {
      if (const auto first = find_by_idempotency_key(transaction, *command.idempotency_key)) {
        return replay_of(*first, command);
      }
    }
    // Locks are taken in the order rows come out of the sort, so every vote locks a pair the same way.
    const pqxx::result locked = transaction.exec_params(
        "SELECT name, rating FROM arena.models WHERE name IN ($1, $2) ORDER BY name COLLATE \"C\" FOR UPDATE",
        command.model_a, command.model_b);
    std::optional<double> rating_a;
    std::optional<double> rating_b;
    for (const pqxx::row& row : locked) {
      (row[0].as<std::string>() == command.model_a ? rating_a : rating_b) = row[1].as<double>();
    }
    if (!rating_a || !rating_b) {
      const std::string& missing = rating_a ? command.model_b : command.model_a;
      return Error(ErrorCode::kModelNotFound, "unknown model: " + missing, {{"model", missing}});
    }
    const EloUpdate update = apply_vote(*rating_a, *rating_b, command.outcome, settings);
    for (const bool side_a : {true, false}) {
      const std::string column = counter_column(command.outcome, side_a);
      transaction.exec_params0("UPDATE arena.models SET rating = $2::float8, votes = votes + 1, " + column +
                                   " = " + column + " + 1, updated_at = now() WHERE name = $1",
                               side_a ? command.model_a : command.model_b,
                               number(side_a ? update.new_a : update.new_b));
    }
    const pqxx::row inserted = transaction.exec_params1(
        "INSERT INTO arena.votes (battle_id, model_a, model_b, outcome, rating_a_before, rating_b_before, "
        "rating_a_after, rating_b_after, voter_key_hash, idempotency_key) "
        "VALUES ($1, $2, $3, $4, $5::float8, $6::float8, $7::float8, $8::float8, $9, $10) RETURNING id",
        Parameter(command.battle_id), command.model_a, command.model_b,
        std::string(vote_outcome_name(command.outcome)), number(*rating_a), number(*rating_b),
        number(update.new_a), number(update.new_b), Parameter(command.voter_key_hash),
        Parameter(command.idempotency_key));
    transaction.commit();
    VoteRecord record;
    record.vote_id = inserted[0].as<std::int64_t>();
    record.rating_a_before = *rating_a;
    record.rating_b_before = *rating_b;
    record.rating_a_after = update.new_a;
    record.rating_b_after = update.new_b;
    return record;
  };

  for (std::uint32_t tries = 1;; ++tries) {
    try {
      return pool_.with_connection(attempt);
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
    } catch (const pqxx::in_doubt_error& e) {
      // The commit may have happened: only a retry with the same idempotency key can tell.
      return database_error("recording a vote (outcome unknown)", e);
    } catch (const pqxx::statement_completion_unknown& e) {
      return database_error("recording a vote (outcome unknown)", e);
    } catch (const pqxx::transaction_rollback& e) {
      // Serialization failure or deadlock: rolled back whole, so trying again is safe.
      if (tries >= settings_.attempts) {
        return database_error("recording a vote", e);
      }
      spdlog::debug("arena vote store: retrying a vote after {}", first_line(e.what()));
    } catch (const std::exception& e) {
      return database_error("recording a vote", e);
    }
  }
}

Result<ModelRatings> PgVoteStore::ratings() {
  try {
    return pool_.with_connection([&](pqxx::connection& connection) {
      pqxx::read_transaction transaction(connection, "model_ratings");
      transaction.exec0(set_statement_timeout(settings_.statement_timeout));
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
      transaction.exec0(set_statement_timeout(settings_.statement_timeout));
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
