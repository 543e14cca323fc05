// The arena's engine over a real PostgreSQL: the leaderboard cache (a vote is visible in the next read,
// reads in between are served from the snapshot), the background Bradley-Terry fitter (refits after N
// votes, reproducible intervals) and the live leaderboard publisher (coalesces bursts).
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <vector>

#include "services/arena/engine/leaderboard_cache.h"
#include "services/arena/engine/leaderboard_publisher.h"
#include "services/arena/engine/rating_fitter.h"
#include "services/arena/storage/pg_vote_store.h"
#include "tests/support/process.h"
#include "tests/unit/arena/storage/arena_test_database.h"

namespace rally::arena {
namespace {

using namespace std::chrono_literals;
using testing::ArenaTestDatabase;
using testing::wait_until;

const std::vector<std::string> kModels{"alpha", "beta", "gamma"};

struct Fixture {
  Fixture() { REQUIRE(store.ensure_models(kModels, 1200).value() == 3); }

  VoteRecord vote(const std::string& a, const std::string& b, VoteOutcome outcome) {
    auto record = store.record_vote({a, b, outcome, std::nullopt, std::nullopt, std::nullopt}, EloSettings{});
    REQUIRE(record.ok());
    return record.value();
  }

  ArenaTestDatabase database;
  PgVoteStore store{database.pool, PgVoteStore::Settings{}};
};

const LeaderboardRow& row_of(const LeaderboardView& view, std::string_view name) {
  for (const LeaderboardRow& row : view.board.rows) {
    if (row.name == name) return row;
  }
  FAIL("no row for " << name);
  throw std::logic_error("unreachable");
}

TEST_CASE("the leaderboard cache shows a vote in the first read after its invalidation", "[arena][engine]") {
  Fixture fixture;
  LeaderboardCache cache(fixture.store, 1200);
  cache.set_prices({{"alpha", 0.05}, {"beta", 0}});

  auto before = cache.current();
  REQUIRE(before.ok());
  CHECK(before.value()->total_votes == 0);
  CHECK(row_of(*before.value(), "alpha").price == 0.05);
  CHECK(row_of(*before.value(), "gamma").price == 0);  // not in the price table

  fixture.vote("alpha", "beta", VoteOutcome::kModelA);
  // Not invalidated yet: the snapshot is served as it is, without a query.
  CHECK(cache.current().value() == before.value());

  cache.invalidate();
  auto after = cache.current();
  REQUIRE(after.ok());
  CHECK(after.value() != before.value());
  CHECK(after.value()->total_votes == 1);
  CHECK(after.value()->board.rows.front().name == "alpha");
  CHECK(row_of(*after.value(), "alpha").score == Approx(1216));
  CHECK(row_of(*after.value(), "alpha").price_per_score == Approx(1216 / 0.05));
  // Read again without a change: the same snapshot.
  CHECK(cache.current().value() == after.value());
}

TEST_CASE("changed prices invalidate the leaderboard, unchanged ones do not", "[arena][engine]") {
  Fixture fixture;
  LeaderboardCache cache(fixture.store, 1200);
  CHECK(cache.set_prices({{"alpha", 0.05}}));
  const auto first = cache.current().value();
  CHECK_FALSE(cache.set_prices({{"alpha", 0.05}}));
  CHECK(cache.current().value() == first);
  CHECK(cache.set_prices({{"alpha", 0.5}}));
  CHECK(row_of(*cache.current().value(), "alpha").price == 0.5);
}

TEST_CASE("readers racing votes never see a leaderboard older than their last vote", "[arena][engine]") {
  Fixture fixture;
  LeaderboardCache cache(fixture.store, 1200);
  std::atomic<bool> stale{false};
  std::vector<std::thread> voters;
  for (int t = 0; t < 4; ++t) {
    voters.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        fixture.vote("alpha", "beta", VoteOutcome::kTie);
        cache.invalidate();
        const std::uint64_t seen = row_of(*cache.current().value(), "alpha").counts.votes;
        // This thread's votes so far are at least i + 1 of those counted.
        if (seen < static_cast<std::uint64_t>(i + 1)) stale = true;
      }
    });
  }
  for (std::thread& voter : voters) voter.join();
  CHECK_FALSE(stale);
  CHECK(cache.current().value()->total_votes == 100);
}

TEST_CASE("fit_ratings is reproducible and can fit battle votes only", "[arena][engine]") {
  std::vector<StoredVote> votes;
  for (int i = 0; i < 30; ++i) {
    StoredVote vote;
    vote.id = i + 1;
    vote.battle = {"alpha", "beta", i % 3 == 0 ? VoteOutcome::kModelB : VoteOutcome::kModelA};
    if (i % 2 == 0) vote.battle_id = "bt_" + std::to_string(i);
    votes.push_back(vote);
  }
  RatingFitSettings settings;
  const auto now = std::chrono::system_clock::now();
  const RatingFit first = fit_ratings(kModels, votes, settings, now);
  const RatingFit again = fit_ratings(kModels, votes, settings, now);
  CHECK(first.votes == 30);
  CHECK(first.computed_at == now);
  for (const std::string& model : kModels) {
    INFO(model);
    CHECK(first.estimates.at(model).rating == again.estimates.at(model).rating);
    CHECK(first.estimates.at(model).ci_lower == again.estimates.at(model).ci_lower);
    CHECK(first.estimates.at(model).ci_upper == again.estimates.at(model).ci_upper);
  }
  CHECK(first.estimates.at("alpha").rating > first.estimates.at("beta").rating);
  // gamma has no votes: rated at the reference, between the others.
  CHECK(first.estimates.contains("gamma"));

  settings.battle_votes_only = true;
  const RatingFit battles_only = fit_ratings(kModels, votes, settings, now);
  CHECK(battles_only.votes == 15);
  CHECK(battles_only.estimates.at("alpha").rating != first.estimates.at("alpha").rating);

  settings.battle_votes_only = false;
  settings.seed = 7;
  const RatingFit other_seed = fit_ratings(kModels, votes, settings, now);
  CHECK(other_seed.estimates.at("alpha").rating == first.estimates.at("alpha").rating);  // the point estimate
  CHECK((other_seed.estimates.at("alpha").ci_lower != first.estimates.at("alpha").ci_lower ||
         other_seed.estimates.at("alpha").ci_upper != first.estimates.at("alpha").ci_upper));
}

TEST_CASE("the fitter fits at start, then after every N votes, off the voting thread", "[arena][engine]") {
  Fixture fixture;
  LeaderboardCache cache(fixture.store, 1200);
  RatingFitSettings settings;
  settings.every_votes = 5;
  settings.interval = 1h;  // only the vote count triggers here
  std::atomic<int> fitted{0};
  RatingFitter fitter(fixture.store, cache, settings, [&] { ++fitted; });
  REQUIRE(wait_until([&] { return fitter.fits() == 1; }, 10s));
  CHECK(cache.fit()->votes == 0);

  for (int i = 0; i < 4; ++i) {
    fixture.vote("alpha", "beta", VoteOutcome::kModelA);
    fitter.note_vote();
  }
  std::this_thread::sleep_for(200ms);
  CHECK(fitter.fits() == 1);  // 4 < 5

  fixture.vote("alpha", "gamma", VoteOutcome::kModelA);
  fitter.note_vote();
  REQUIRE(wait_until([&] { return fitter.fits() == 2; }, 10s));
  CHECK(fitted == 2);
  const auto fit = cache.fit();
  CHECK(fit->votes == 5);
  CHECK(fit->estimates.at("alpha").rating > fit->estimates.at("beta").rating);
  // The cache shows the fit in its next read.
  const LeaderboardRow& alpha = row_of(*cache.current().value(), "alpha");
  CHECK(alpha.bt_rating == fit->estimates.at("alpha").rating);
  CHECK(alpha.ci_lower <= alpha.bt_rating);
  CHECK(alpha.bt_rating <= alpha.ci_upper);
}

TEST_CASE("the fitter refits after its interval when fewer than N votes arrived", "[arena][engine]") {
  Fixture fixture;
  LeaderboardCache cache(fixture.store, 1200);
  RatingFitSettings settings;
  settings.every_votes = 1000;
  settings.interval = 100ms;
  RatingFitter fitter(fixture.store, cache, settings, {});
  REQUIRE(wait_until([&] { return fitter.fits() == 1; }, 10s));
  std::this_thread::sleep_for(300ms);
  CHECK(fitter.fits() == 1);  // no votes: nothing to refit
  fixture.vote("beta", "gamma", VoteOutcome::kModelB);
  fitter.note_vote();
  REQUIRE(wait_until([&] { return fitter.fits() == 2; }, 10s));
  CHECK(cache.fit()->votes == 1);
}

TEST_CASE("the publisher sends the fresh leaderboard and coalesces a burst", "[arena][engine]") {
  Fixture fixture;
  LeaderboardCache cache(fixture.store, 1200);
  std::mutex mutex;
  std::vector<std::uint64_t> totals;
  LeaderboardPublisher publisher(cache, 300ms, [&](const LeaderboardView& view) {
    std::lock_guard lock(mutex);
    totals.push_back(view.total_votes);
  });
  fixture.vote("alpha", "beta", VoteOutcome::kModelA);
  cache.invalidate();
  publisher.notify();
  REQUIRE(wait_until([&] { return publisher.published() == 1; }, 10s));

  // A burst during the pause goes out as one message with all of it.
  for (int i = 0; i < 20; ++i) {
    fixture.vote("alpha", "gamma", VoteOutcome::kTie);
    cache.invalidate();
    publisher.notify();
  }
  REQUIRE(wait_until([&] { return publisher.published() >= 2; }, 10s));
  std::this_thread::sleep_for(500ms);
  std::lock_guard lock(mutex);
  CHECK(totals.front() == 1);
  CHECK(totals.back() == 21);
  CHECK(totals.size() <= 3);
}

}  // namespace
}  // namespace rally::arena
