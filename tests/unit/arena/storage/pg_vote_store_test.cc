// PgVoteStore against real PostgreSQL: a scratch database built from the arena migrations, votes from one
// and from many threads checked against the pure domain (apply_vote, replay, count_votes).
#include "services/arena/storage/pg_vote_store.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <pqxx/row>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "services/arena/domain/elo.h"
#include "services/arena/domain/leaderboard.h"
#include "services/common/pg_pool.h"
#include "tests/unit/arena/storage/arena_test_database.h"

namespace {

using rally::arena::apply_vote;
using rally::arena::Battle;
using rally::arena::EloRatings;
using rally::arena::EloSettings;
using rally::arena::EloUpdate;
using rally::arena::ModelRatings;
using rally::arena::PgVoteStore;
using rally::arena::StoredVote;
using rally::arena::VoteCommand;
using rally::arena::VoteOutcome;
using rally::arena::VoteRecord;
using rally::common::ErrorCode;
using rally::common::PgPool;

constexpr double kInitial = 1200;

// A scratch arena database and a store on it.
struct MigratedDatabase : rally::testing::ArenaTestDatabase {
  explicit MigratedDatabase(PgVoteStore::Settings settings = {}) : store(pool, settings) {}

  PgVoteStore store;
};

VoteCommand vote(std::string a, std::string b, VoteOutcome outcome) {
  VoteCommand command;
  command.model_a = std::move(a);
  command.model_b = std::move(b);
  command.outcome = outcome;
  return command;
}

std::vector<Battle> battles_of(const std::vector<StoredVote>& votes) {
  std::vector<Battle> battles;
  for (const StoredVote& stored : votes) {
    battles.push_back(stored.battle);
  }
  return battles;
}

// The stored state must be what the votes say: the ratings their replay gives (within rounding of the text
// round trip, which is exact for %.17g) and the counts count_votes gives.
void check_consistent(PgVoteStore& store, const std::vector<std::string>& models) {
  const auto ratings = store.ratings();
  REQUIRE(ratings.ok());
  const auto votes = store.votes();
  REQUIRE(votes.ok());
  EloRatings initial;
  for (const std::string& model : models) {
    initial[model] = kInitial;
  }
  const std::vector<Battle> battles = battles_of(votes.value());
  const EloRatings replayed = rally::arena::replay(initial, battles);
  const auto counts = rally::arena::count_votes(battles);
  double sum = 0;
  for (const std::string& model : models) {
    const auto stored = ratings->find(model);
    REQUIRE(stored != ratings->end());
    CHECK(std::abs(stored->second.rating - replayed.at(model)) <= 1e-9);
    const auto counted = counts.find(model);
    CHECK(stored->second.counts == (counted == counts.end() ? rally::arena::VoteCounts{} : counted->second));
    sum += stored->second.rating;
  }
  CHECK(std::abs(sum - kInitial * static_cast<double>(models.size())) <= 1e-9);
}

// Runs `threads` threads that each cast `per_thread` votes through the voter `make_voter(thread)` returns
// (true for a stored vote); returns how many votes failed.
template <typename MakeVoter>
int vote_concurrently(int threads, int per_thread, MakeVoter make_voter) {
  std::vector<int> failures(static_cast<std::size_t>(threads), 0);
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] {
      auto voter = make_voter(t);
      for (int i = 0; i < per_thread; ++i) failures[static_cast<std::size_t>(t)] += voter() ? 0 : 1;
    });
  }
  for (std::thread& thread : running) thread.join();
  int total = 0;
  for (const int count : failures) total += count;
  return total;
}

TEST_CASE("ensure_models adds only the models not stored yet", "[vote_store]") {
  MigratedDatabase db;
  const auto added = db.store.ensure_models({"alpha", "beta", "alpha"}, kInitial);
  REQUIRE(added.ok());
  CHECK(added.value() == 2);
  REQUIRE(db.store.record_vote(vote("alpha", "beta", VoteOutcome::kModelA), {}).ok());

  const auto again = db.store.ensure_models({"beta", "gamma"}, 1500);
  REQUIRE(again.ok());
  CHECK(again.value() == 1);
  const auto ratings = db.store.ratings();
  REQUIRE(ratings.ok());
  REQUIRE(ratings->size() == 3);
  CHECK(ratings->at("beta").counts.votes == 1);  // kept its state
  CHECK(ratings->at("gamma").rating == 1500);
  CHECK(ratings->at("gamma").counts == rally::arena::VoteCounts{});

  CHECK(db.store.ensure_models({}, kInitial).value() == 0);
  CHECK(db.store.ensure_models({""}, kInitial).error().code == ErrorCode::kInvalidRequest);
  CHECK(db.store.ensure_models({"delta"}, NAN).error().code == ErrorCode::kInvalidRequest);
}

TEST_CASE("a vote updates both ratings as apply_vote says and stores one row", "[vote_store]") {
  MigratedDatabase db;
  REQUIRE(db.store.ensure_models({"alpha", "beta"}, kInitial).ok());
  EloSettings settings;
  settings.k = 24;

  VoteCommand first = vote("beta", "alpha", VoteOutcome::kModelA);
  first.battle_id = "battle-1";
  first.voter_key_hash = "hash-1";
  const auto recorded = db.store.record_vote(first, settings);
  REQUIRE(recorded.ok());
  const EloUpdate expected = apply_vote(kInitial, kInitial, VoteOutcome::kModelA, settings);
  CHECK_FALSE(recorded->replayed);
  CHECK(recorded->rating_a_before == kInitial);
  CHECK(recorded->rating_b_before == kInitial);
  CHECK(recorded->rating_a_after == expected.new_a);
  CHECK(recorded->rating_b_after == expected.new_b);

  // The second vote starts from the first one's ratings.
  const auto second = db.store.record_vote(vote("alpha", "beta", VoteOutcome::kBothBad), settings);
  REQUIRE(second.ok());
  CHECK(second->vote_id > recorded->vote_id);
  const EloUpdate then = apply_vote(expected.new_b, expected.new_a, VoteOutcome::kBothBad, settings);
  CHECK(second->rating_a_before == expected.new_b);
  CHECK(second->rating_b_before == expected.new_a);
  CHECK(second->rating_a_after == then.new_a);
  CHECK(second->rating_b_after == then.new_b);

  const auto ratings = db.store.ratings();
  REQUIRE(ratings.ok());
  CHECK(ratings->at("alpha").rating == then.new_a);
  CHECK(ratings->at("beta").rating == then.new_b);
  CHECK(ratings->at("alpha").counts == rally::arena::VoteCounts{2, 0, 1, 0, 1});
  CHECK(ratings->at("beta").counts == rally::arena::VoteCounts{2, 1, 0, 0, 1});

  const auto votes = db.store.votes();
  REQUIRE(votes.ok());
  REQUIRE(votes->size() == 2);
  const StoredVote& stored = votes.value()[0];
  CHECK(stored.id == recorded->vote_id);
  CHECK(stored.battle.model_a == "beta");
  CHECK(stored.battle.model_b == "alpha");
  CHECK(stored.battle.outcome == VoteOutcome::kModelA);
  CHECK(stored.battle_id == std::optional<std::string>("battle-1"));
  CHECK(stored.rating_a_after == expected.new_a);
  CHECK(stored.rating_b_after == expected.new_b);
  CHECK_FALSE(votes.value()[1].battle_id.has_value());

  const pqxx::row row =
      db.row("SELECT voter_key_hash, idempotency_key IS NULL FROM arena.votes ORDER BY id LIMIT 1");
  CHECK(row[0].as<std::string>() == "hash-1");
  CHECK(row[1].as<bool>());
}

TEST_CASE("a vote on an unknown model is MODEL_NOT_FOUND and changes nothing", "[vote_store]") {
  MigratedDatabase db;
  REQUIRE(db.store.ensure_models({"alpha", "beta"}, kInitial).ok());
  for (const auto& [a, b] : {std::pair{"alpha", "nope"}, std::pair{"nope", "alpha"}, std::pair{"x", "y"}}) {
    const auto result = db.store.record_vote(vote(a, b, VoteOutcome::kModelA), {});
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kModelNotFound);
  }
  CHECK(db.count_votes() == 0);
  const auto ratings = db.store.ratings();
  REQUIRE(ratings.ok());
  CHECK(ratings->at("alpha") == rally::arena::ModelRating{kInitial, {}});
  CHECK(ratings->at("beta") == rally::arena::ModelRating{kInitial, {}});

  const auto self = db.store.record_vote(vote("alpha", "alpha", VoteOutcome::kTie), {});
  REQUIRE_FALSE(self.ok());
  CHECK(self.error().code == ErrorCode::kInvalidRequest);
  CHECK(db.count_votes() == 0);
}

TEST_CASE("a retry with the same idempotency key returns the first result and stores one row",
          "[vote_store]") {
  MigratedDatabase db;
  REQUIRE(db.store.ensure_models({"alpha", "beta"}, kInitial).ok());
  VoteCommand command = vote("alpha", "beta", VoteOutcome::kModelB);
  command.idempotency_key = "key-1";

  const auto first = db.store.record_vote(command, {});
  REQUIRE(first.ok());
  CHECK_FALSE(first->replayed);
  const auto retry = db.store.record_vote(command, {});
  REQUIRE(retry.ok());
  CHECK(retry->replayed);
  VoteRecord expected = first.value();
  expected.replayed = true;
  CHECK(retry.value() == expected);
  CHECK(db.count_votes() == 1);
  check_consistent(db.store, {"alpha", "beta"});

  SECTION("the key used for another vote is a conflict") {
    VoteCommand other = command;
    other.outcome = VoteOutcome::kTie;
    const auto conflict = db.store.record_vote(other, {});
    REQUIRE_FALSE(conflict.ok());
    CHECK(conflict.error().code == ErrorCode::kConflict);
    CHECK(db.count_votes() == 1);
  }
  SECTION("another key is another vote") {
    command.idempotency_key = "key-2";
    const auto second = db.store.record_vote(command, {});
    REQUIRE(second.ok());
    CHECK_FALSE(second->replayed);
    CHECK(second->vote_id != first->vote_id);
    CHECK(db.count_votes() == 2);
  }
}

TEST_CASE("concurrent retries with one idempotency key record one vote", "[vote_store][concurrency]") {
  MigratedDatabase db;
  REQUIRE(db.store.ensure_models({"alpha", "beta"}, kInitial).ok());
  constexpr int kThreads = 8;
  for (int round = 0; round < 10; ++round) {
    VoteCommand command = vote("alpha", "beta", VoteOutcome::kModelA);
    command.idempotency_key = "round-" + std::to_string(round);
    std::vector<rally::common::Result<VoteRecord>> results(kThreads, rally::common::Error{});
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] { results[t] = db.store.record_vote(command, {}); });
    }
    for (std::thread& thread : threads) {
      thread.join();
    }
    int fresh = 0;
    for (const auto& result : results) {
      REQUIRE(result.ok());
      CHECK(result->vote_id == results[0]->vote_id);
      CHECK(result->rating_a_after == results[0]->rating_a_after);
      fresh += result->replayed ? 0 : 1;
    }
    CHECK(fresh == 1);
  }
  CHECK(db.count_votes() == 10);
  check_consistent(db.store, {"alpha", "beta"});
}

TEST_CASE("8 threads x 500 concurrent votes on 3 models keep the ratings equal to their replay",
          "[vote_store][concurrency]") {
  MigratedDatabase db;
  const std::vector<std::string> models{"alpha", "beta", "gamma"};
  REQUIRE(db.store.ensure_models(models, kInitial).ok());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 500;
  const int failures = vote_concurrently(kThreads, kPerThread, [&](int thread) {
    std::mt19937 random(static_cast<std::uint32_t>(thread) + 1);
    std::uniform_int_distribution<int> pick(0, 2);
    std::uniform_int_distribution<int> offset(1, 2);
    std::uniform_int_distribution<int> outcome(0, 3);
    return [&db, &models, random, pick, offset, outcome]() mutable {
      const int a = pick(random);
      const int b = (a + offset(random)) % 3;
      return db.store.record_vote(vote(models[a], models[b], static_cast<VoteOutcome>(outcome(random))), {})
          .ok();
    };
  });
  CHECK(failures == 0);
  CHECK(db.count_votes() == kThreads * kPerThread);
  check_consistent(db.store, models);

  // Each vote started from the ratings the previous vote on its models left.
  const auto votes = db.store.votes();
  REQUIRE(votes.ok());
  std::map<std::string, double> current{{"alpha", kInitial}, {"beta", kInitial}, {"gamma", kInitial}};
  int chained = 0;
  for (const StoredVote& stored : votes.value()) {
    chained += stored.rating_a_before == current[stored.battle.model_a] &&
                       stored.rating_b_before == current[stored.battle.model_b]
                   ? 1
                   : 0;
    current[stored.battle.model_a] = stored.rating_a_after;
    current[stored.battle.model_b] = stored.rating_b_after;
  }
  CHECK(chained == kThreads * kPerThread);
}

TEST_CASE("votes on one pair in opposite orders do not deadlock", "[vote_store][concurrency]") {
  // One attempt only: a deadlock would surface as a failed vote instead of being retried away.
  PgVoteStore::Settings settings;
  settings.attempts = 1;
  MigratedDatabase db(settings);
  REQUIRE(db.store.ensure_models({"alpha", "beta"}, kInitial).ok());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  const int failures = vote_concurrently(kThreads, kPerThread, [&](int thread) {
    return [&db, thread] {
      return (thread % 2 == 0 ? db.store.record_vote(vote("alpha", "beta", VoteOutcome::kModelA), {})
                              : db.store.record_vote(vote("beta", "alpha", VoteOutcome::kTie), {}))
          .ok();
    };
  });
  CHECK(failures == 0);
  CHECK(db.count_votes() == kThreads * kPerThread);
  check_consistent(db.store, {"alpha", "beta"});
}

TEST_CASE("an unreachable PostgreSQL is DATABASE_ERROR", "[vote_store]") {
  PgPool pool(rally::testing::arena_pool_settings(rally::testing::unreachable_postgres_url()));
  PgVoteStore store(pool, {});
  const auto recorded = store.record_vote(vote("alpha", "beta", VoteOutcome::kTie), {});
  REQUIRE_FALSE(recorded.ok());
  CHECK(recorded.error().code == ErrorCode::kDatabaseError);
  CHECK(store.ratings().error().code == ErrorCode::kDatabaseError);
  CHECK(store.votes().error().code == ErrorCode::kDatabaseError);
  CHECK(store.ensure_models({"alpha"}, kInitial).error().code == ErrorCode::kDatabaseError);
}

TEST_CASE("PgVoteStore refuses settings out of range", "[vote_store]") {
  rally::testing::check_refuses_settings_out_of_range<PgVoteStore>();
}

}  // namespace
