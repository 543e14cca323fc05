#include "services/arena/storage/pg_vote_transaction.h"

#include <optional>
#include <pqxx/result>
#include <pqxx/row>
#include <stdexcept>

namespace rally::arena::pg {
namespace {

using common::Error;
using common::ErrorCode;
using common::Result;
using Parameter = std::optional<std::string>;  // nullopt is SQL NULL

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

}  // namespace

Result<VoteRecord> apply_vote_in(pqxx::work& transaction, const VoteCommand& command,
                                 const EloSettings& settings) {
  // Locks are taken in the order rows come out of the sort, so every vote locks a pair the same way. NO KEY
  // UPDATE because a vote never changes a name: inserting a battle or a vote that references these models
  // (a KEY SHARE lock) need not wait for it, nor deadlock with it.
  const pqxx::result locked = transaction.exec_params(
      "SELECT name, rating FROM arena.models WHERE name IN ($1, $2) ORDER BY name COLLATE \"C\" "
      "FOR NO KEY UPDATE",
      command.model_a, command.model_b);
  std::optional<double> rating_a;
  std::optional<double> rating_b;
  for (const pqxx::row& row : locked) {
    (row[0].as<std::string>() == command.model_a ? rating_a : rating_b) = row[1].as<double>();
  }
  if (!rating_a || !rating_b) {
    return unknown_model(rating_a ? command.model_b : command.model_a);
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
  VoteRecord record;
  record.vote_id = inserted[0].as<std::int64_t>();
  record.rating_a_before = *rating_a;
  record.rating_b_before = *rating_b;
  record.rating_a_after = update.new_a;
  record.rating_b_after = update.new_b;
  return record;
}

Error unknown_model(const std::string& name) {
  return Error(ErrorCode::kModelNotFound, "unknown model: " + name, {{"model", name}});
}

VoteOutcome stored_outcome(const pqxx::field& field) {
  const std::optional<VoteOutcome> outcome = parse_vote_outcome(field.as<std::string>());
  if (!outcome) {
    throw std::logic_error("arena.votes holds an unknown outcome: " + field.as<std::string>());
  }
  return *outcome;
}

}  // namespace rally::arena::pg
