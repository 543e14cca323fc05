// PgBattleStore against real PostgreSQL: a scratch database built from the arena migrations. A battle's vote
// is checked against record_vote on a twin database, and against itself from many threads.
#include "services/arena/storage/pg_battle_store.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <pqxx/row>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "services/arena/domain/elo.h"
#include "services/arena/storage/pg_vote_store.h"
#include "services/common/pg_pool.h"
#include "tests/unit/arena/storage/arena_test_database.h"

namespace rally::arena {
namespace {

using common::ErrorCode;
using std::chrono::minutes;
using std::chrono::system_clock;

constexpr double kInitial = 1200;

// What the tests call now: whole microseconds, the database's resolution, so times compare exactly.
const system_clock::time_point kNow = std::chrono::floor<std::chrono::microseconds>(system_clock::now());

// A scratch arena database with models alpha, beta and gamma, and both stores on it.
struct BattleDatabase : testing::ArenaTestDatabase {
  explicit BattleDatabase(PgBattleStore::Settings settings = {})
      : votes(pool, settings), battles(pool, settings) {
    REQUIRE(votes.ensure_models({"alpha", "beta", "gamma"}, kInitial).ok());
  }

  std::int64_t count_battles() const {
    return row("SELECT count(*) FROM arena.battles")[0].as<std::int64_t>();
  }

  PgVoteStore votes;
  PgBattleStore battles;
};

NewBattle new_battle(std::string id, std::string a = "alpha", std::string b = "beta",
                     system_clock::time_point expires_at = kNow + minutes(10)) {
  NewBattle battle;
  battle.battle_id = std::move(id);
  battle.message = "Which planet is largest?";
  battle.model_a = std::move(a);
  battle.model_b = std::move(b);
  battle.voter_key_hash = "hash-1";
  battle.expires_at = expires_at;
  return battle;
}

void check_not_found(const common::Result<StoredBattle>& found, const std::string& battle_id) {
  REQUIRE_FALSE(found.ok());
  CHECK(found.error().code == ErrorCode::kNotFound);
  CHECK(found.error().message == "Battle not found");
  CHECK(found.error().details == std::vector<std::pair<std::string, std::string>>{{"battle_id", battle_id}});
}

TEST_CASE("a created battle reads back as it was stored", "[battle_store]") {
  BattleDatabase db;
  const auto created = db.battles.create_battle(new_battle("bt_1", "gamma", "alpha"));
  REQUIRE(created.ok());
  CHECK(created->battle_id == "bt_1");
  CHECK(created->message == "Which planet is largest?");
  CHECK(created->model_a == "gamma");
  CHECK(created->model_b == "alpha");
  CHECK(created->voter_key_hash == std::optional<std::string>("hash-1"));
  CHECK(created->expires_at == kNow + minutes(10));
  CHECK(std::chrono::abs(created->created_at - system_clock::now()) < minutes(1));
  CHECK_FALSE(created->outcome.has_value());
  CHECK_FALSE(created->vote_id.has_value());

  const auto found = db.battles.find_battle("bt_1", kNow);
  REQUIRE(found.ok());
  CHECK(found.value() == created.value());

  NewBattle anonymous = new_battle("bt_2");
  anonymous.voter_key_hash.reset();
  REQUIRE(db.battles.create_battle(anonymous).ok());
  const auto without_voter = db.battles.find_battle("bt_2", kNow);
  REQUIRE(without_voter.ok());
  CHECK_FALSE(without_voter->voter_key_hash.has_value());
}

TEST_CASE("a battle id is stored once: a second create is CONFLICT", "[battle_store]") {
  BattleDatabase db;
  const auto first = db.battles.create_battle(new_battle("bt_1"));
  REQUIRE(first.ok());
  const auto again = db.battles.create_battle(new_battle("bt_1", "beta", "gamma"));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kConflict);
  CHECK(db.count_battles() == 1);
  CHECK(db.battles.find_battle("bt_1", kNow).value() == first.value());
}

TEST_CASE("a battle of an unknown model is MODEL_NOT_FOUND and stores nothing", "[battle_store]") {
  BattleDatabase db;
  for (const auto& [a, b] : {std::pair{"alpha", "nope"}, std::pair{"nope", "alpha"}, std::pair{"x", "y"}}) {
    const auto created = db.battles.create_battle(new_battle("bt_1", a, b));
    REQUIRE_FALSE(created.ok());
    CHECK(created.error().code == ErrorCode::kModelNotFound);
    CHECK(created.error().details.at(0).second == (std::string(a) == "alpha" ? b : a));
  }
  const auto self = db.battles.create_battle(new_battle("bt_1", "alpha", "alpha"));
  REQUIRE_FALSE(self.ok());
  CHECK(self.error().code == ErrorCode::kInvalidRequest);
  CHECK(db.count_battles() == 0);
}

TEST_CASE("an unknown or expired battle is NOT_FOUND", "[battle_store]") {
  BattleDatabase db;
  check_not_found(db.battles.find_battle("bt_unknown", kNow), "bt_unknown");

  const system_clock::time_point expires_at = kNow + minutes(10);
  REQUIRE(db.battles.create_battle(new_battle("bt_1", "alpha", "beta", expires_at)).ok());
  CHECK(db.battles.find_battle("bt_1", expires_at - std::chrono::microseconds(1)).ok());
  check_not_found(db.battles.find_battle("bt_1", expires_at), "bt_1");
  check_not_found(db.battles.find_battle("bt_1", expires_at + std::chrono::seconds(1)), "bt_1");
}

TEST_CASE("a battle's vote changes the ratings exactly as record_vote does", "[battle_store]") {
  EloSettings settings;
  settings.k = 24;
  // Both databases start from the same earlier vote, so the battle's vote starts from ratings that differ.
  BattleDatabase db;
  BattleDatabase twin;
  for (BattleDatabase* each : {&db, &twin}) {
    VoteCommand earlier;
    earlier.model_a = "beta";
    earlier.model_b = "alpha";
    earlier.outcome = VoteOutcome::kModelA;
    REQUIRE(each->votes.record_vote(earlier, settings).ok());
  }

  REQUIRE(db.battles.create_battle(new_battle("bt_1")).ok());
  const auto voted = db.battles.vote_battle("bt_1", VoteOutcome::kModelB, kNow, settings);
  REQUIRE(voted.ok());
  VoteCommand same;
  same.model_a = "alpha";
  same.model_b = "beta";
  same.outcome = VoteOutcome::kModelB;
  same.battle_id = "bt_1";
  same.voter_key_hash = "hash-1";
  const auto recorded = twin.votes.record_vote(same, settings);
  REQUIRE(recorded.ok());

  CHECK(voted->vote == recorded.value());
  CHECK(voted->vote.rating_a_before != voted->vote.rating_b_before);
  CHECK(std::abs(voted->vote.rating_a_after + voted->vote.rating_b_after - 2 * kInitial) <= 1e-9);
  CHECK(db.votes.ratings().value() == twin.votes.ratings().value());

  CHECK(voted->battle.outcome == VoteOutcome::kModelB);
  CHECK(voted->battle.vote_id == voted->vote.vote_id);
  const auto found = db.battles.find_battle("bt_1", kNow);
  REQUIRE(found.ok());
  CHECK(found.value() == voted->battle);

  const pqxx::row vote_row = db.row("SELECT battle_id, voter_key_hash, outcome FROM arena.votes WHERE id = " +
                                    std::to_string(voted->vote.vote_id));
  CHECK(vote_row[0].as<std::string>() == "bt_1");
  CHECK(vote_row[1].as<std::string>() == "hash-1");
  CHECK(vote_row[2].as<std::string>() == "model_b");
  CHECK(db.row("SELECT voted_at IS NOT NULL FROM arena.battles WHERE id = 'bt_1'")[0].as<bool>());
}

TEST_CASE("a second vote on a battle is CONFLICT and changes nothing", "[battle_store]") {
  BattleDatabase db;
  REQUIRE(db.battles.create_battle(new_battle("bt_1")).ok());
  const auto first = db.battles.vote_battle("bt_1", VoteOutcome::kModelA, kNow, {});
  REQUIRE(first.ok());
  const auto ratings = db.votes.ratings();
  REQUIRE(ratings.ok());

  for (const VoteOutcome outcome : {VoteOutcome::kModelA, VoteOutcome::kTie}) {
    const auto again = db.battles.vote_battle("bt_1", outcome, kNow, {});
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code == ErrorCode::kConflict);
    CHECK(again.error().message == "Battle already voted");
  }
  CHECK(db.count_votes() == 1);
  CHECK(db.votes.ratings().value() == ratings.value());
  CHECK(db.battles.find_battle("bt_1", kNow).value() == first->battle);
}

TEST_CASE("the database refuses a second vote for one battle whatever the way", "[battle_store]") {
  BattleDatabase db;
  REQUIRE(db.battles.create_battle(new_battle("bt_1")).ok());
  VoteCommand direct;
  direct.model_a = "alpha";
  direct.model_b = "beta";
  direct.battle_id = "bt_1";
  REQUIRE(db.votes.record_vote(direct, {}).ok());

  // votes_battle_id_unique: neither another direct vote nor the battle's own vote gets a second row.
  CHECK(db.votes.record_vote(direct, {}).error().code == ErrorCode::kDatabaseError);
  const auto voted = db.battles.vote_battle("bt_1", VoteOutcome::kTie, kNow, {});
  REQUIRE_FALSE(voted.ok());
  CHECK(voted.error().code == ErrorCode::kConflict);
  CHECK(db.count_votes() == 1);
  CHECK_FALSE(db.battles.find_battle("bt_1", kNow)->vote_id.has_value());
}

TEST_CASE("a vote on an unknown or expired battle is NOT_FOUND and changes nothing", "[battle_store]") {
  BattleDatabase db;
  const system_clock::time_point expires_at = kNow + minutes(10);
  REQUIRE(db.battles.create_battle(new_battle("bt_1", "alpha", "beta", expires_at)).ok());
  const auto ratings = db.votes.ratings();
  REQUIRE(ratings.ok());

  for (const auto& [battle_id, now] : {std::pair{"bt_1", expires_at}, std::pair{"bt_unknown", kNow}}) {
    const auto voted = db.battles.vote_battle(battle_id, VoteOutcome::kModelA, now, {});
    REQUIRE_FALSE(voted.ok());
    CHECK(voted.error().code == ErrorCode::kNotFound);
    CHECK(voted.error().message == "Battle not found");
  }
  CHECK(db.count_votes() == 0);
  CHECK(db.votes.ratings().value() == ratings.value());
  CHECK_FALSE(db.battles.find_battle("bt_1", kNow)->vote_id.has_value());
}

TEST_CASE("8 threads voting on one battle at once: one vote, the others CONFLICT",
          "[battle_store][concurrency]") {
  BattleDatabase db;
  constexpr int kThreads = 8;
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    const std::string battle_id = "bt_" + std::to_string(round);
    REQUIRE(db.battles.create_battle(new_battle(battle_id)).ok());
    std::vector<common::Result<BattleVote>> results(kThreads, common::Error{});
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        results[t] = db.battles.vote_battle(battle_id, static_cast<VoteOutcome>(t % 4), kNow, {});
      });
    }
    for (std::thread& thread : threads) {
      thread.join();
    }
    int won = 0;
    for (const auto& result : results) {
      if (result.ok()) {
        ++won;
        CHECK(db.battles.find_battle(battle_id, kNow).value() == result->battle);
      } else {
        CHECK(result.error().code == ErrorCode::kConflict);
      }
    }
    CHECK(won == 1);
    CHECK(db.row("SELECT count(*) FROM arena.votes WHERE battle_id = '" + battle_id + "'")[0].as<int>() == 1);
  }
  CHECK(db.count_votes() == kRounds);
}

TEST_CASE("delete_expired removes only the expired battles without a vote", "[battle_store]") {
  BattleDatabase db;
  const system_clock::time_point cutoff = kNow;
  REQUIRE(db.battles.create_battle(new_battle("bt_expired", "alpha", "beta", cutoff - minutes(1))).ok());
  REQUIRE(db.battles.create_battle(new_battle("bt_expires_at_cutoff", "alpha", "beta", cutoff)).ok());
  REQUIRE(db.battles.create_battle(new_battle("bt_live", "alpha", "beta", cutoff + minutes(1))).ok());
  REQUIRE(db.battles.create_battle(new_battle("bt_voted", "alpha", "beta", cutoff - minutes(1))).ok());
  REQUIRE(db.battles.vote_battle("bt_voted", VoteOutcome::kTie, cutoff - minutes(2), {}).ok());

  const auto deleted = db.battles.delete_expired(cutoff);
  REQUIRE(deleted.ok());
  CHECK(deleted.value() == 2);
  CHECK(db.count_battles() == 2);
  CHECK(db.battles.find_battle("bt_live", cutoff).ok());
  CHECK(db.row("SELECT vote_id IS NOT NULL FROM arena.battles WHERE id = 'bt_voted'")[0].as<bool>());
  CHECK(db.count_votes() == 1);
  CHECK(db.battles.delete_expired(cutoff).value() == 0);
}

TEST_CASE("an unreachable PostgreSQL is DATABASE_ERROR for every battle call", "[battle_store]") {
  common::PgPool pool(testing::arena_pool_settings(testing::unreachable_postgres_url()));
  PgBattleStore store(pool, {});
  CHECK(store.create_battle(new_battle("bt_1")).error().code == ErrorCode::kDatabaseError);
  CHECK(store.find_battle("bt_1", kNow).error().code == ErrorCode::kDatabaseError);
  CHECK(store.vote_battle("bt_1", VoteOutcome::kTie, kNow, {}).error().code == ErrorCode::kDatabaseError);
  CHECK(store.delete_expired(kNow).error().code == ErrorCode::kDatabaseError);
}

TEST_CASE("PgBattleStore refuses settings out of range", "[battle_store]") {
  testing::check_refuses_settings_out_of_range<PgBattleStore>();
}

}  // namespace
}  // namespace rally::arena
