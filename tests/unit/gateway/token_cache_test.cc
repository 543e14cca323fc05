// TokenCache against real PostgreSQL and Redis: answers from memory, revocations that reach another cache
// through Redis at once, loading that waits for PostgreSQL, and last-used times written in batches.
#include "gateway/edge/token_cache.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "gateway/edge/token_store.h"
#include "services/common/pg_pool.h"
#include "tests/support/servers.h"
#include "tests/support/test_env.h"
#include "tests/unit/gateway/test_settings.h"

namespace rally::gateway::edge {
namespace {

using gateway::testing::postgres_at;
using gateway::testing::test_redis;

using namespace std::chrono_literals;

// Long enough that only notifications (never the periodic reload) can explain a change within a test.
TokenCacheSettings no_refresh() {
  TokenCacheSettings settings;
  settings.refresh = 1h;
  settings.last_used_flush = 1h;
  settings.retry = 100ms;
  return settings;
}

// Polls `condition` every 10 ms for up to `timeout`.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// One gateway's view: a store and a cache on the shared scratch database.
struct Replica {
  explicit Replica(const std::string& url, TokenCacheSettings settings = no_refresh())
      : pool(postgres_at(url)), store(pool, {}), cache(store, test_redis(), settings) {}

  common::PgPool pool;
  TokenStore store;
  TokenCache cache;
};

TEST_CASE("the cache authenticates known tokens from memory and refuses others", "[token_cache]") {
  rally::testing::ScratchDatabase database;
  Replica replica(database.url());
  const auto created = replica.store.create("ci", Scope::kWrite, {{"llm", 7}});
  REQUIRE(created.ok());
  replica.cache.created(created->token.id);
  REQUIRE(replica.cache.loaded());
  CHECK(replica.cache.ready());
  CHECK(replica.cache.size() == 1);

  const auto principal = replica.cache.authenticate(created->raw_token);
  REQUIRE(principal);
  CHECK(principal->token_id == created->token.id);
  CHECK(principal->token_name == "ci");
  CHECK(principal->scope == Scope::kWrite);
  CHECK(principal->rate_limits.at("llm") == 7);
  CHECK_FALSE(principal->anonymous());

  CHECK_FALSE(replica.cache.authenticate(""));
  CHECK_FALSE(replica.cache.authenticate("rally_" + std::string(64, '0')));
  CHECK_FALSE(replica.cache.authenticate(created->raw_token + "x"));
  CHECK_FALSE(replica.cache.authenticate(created->raw_token.substr(1)));
  CHECK_FALSE(replica.cache.authenticate(std::string(10000, 'a')));

  REQUIRE(replica.store.revoke(created->token.id).ok());
  replica.cache.revoked(created->token.id);
  CHECK_FALSE(replica.cache.authenticate(created->raw_token));
  CHECK(replica.cache.size() == 0);
  // A reload does not bring it back.
  CHECK(replica.cache.reload());
  CHECK_FALSE(replica.cache.authenticate(created->raw_token));
}

TEST_CASE("a revocation in one cache reaches another through Redis at once", "[token_cache]") {
  rally::testing::ScratchDatabase database;
  Replica first(database.url());
  Replica second(database.url());
  REQUIRE(eventually([&] { return first.cache.loaded() && second.cache.loaded(); }));
  REQUIRE(eventually([&] { return first.cache.subscribed() && second.cache.subscribed(); }));

  // Created through the first: the second loads it when told, not an hour later.
  const auto created = first.store.create("shared", Scope::kRead, {});
  REQUIRE(created.ok());
  first.cache.created(created->token.id);
  CHECK(first.cache.authenticate(created->raw_token));
  CHECK(eventually([&] { return second.cache.authenticate(created->raw_token).has_value(); }, 2s));

  // Revoked through the first: the second drops it within moments.
  REQUIRE(first.store.revoke(created->token.id).ok());
  const auto revoked_at = std::chrono::steady_clock::now();
  first.cache.revoked(created->token.id);
  CHECK_FALSE(first.cache.authenticate(created->raw_token));
  CHECK(eventually([&] { return !second.cache.authenticate(created->raw_token); }, 2s));
  CHECK(std::chrono::steady_clock::now() - revoked_at < 2s);
}

TEST_CASE("without notifications, the periodic refresh picks changes up", "[token_cache]") {
  rally::testing::ScratchDatabase database;
  TokenCacheSettings settings = no_refresh();
  settings.refresh = 1s;
  Replica replica(database.url(), settings);
  REQUIRE(eventually([&] { return replica.cache.loaded(); }));

  const auto created = replica.store.create("quiet", Scope::kRead, {});  // nobody is told
  REQUIRE(created.ok());
  CHECK(eventually([&] { return replica.cache.authenticate(created->raw_token).has_value(); }, 5s));
  REQUIRE(replica.store.revoke("quiet").ok());
  CHECK(eventually([&] { return !replica.cache.authenticate(created->raw_token); }, 5s));
}

TEST_CASE("loaded() is false while PostgreSQL is unreachable and turns true once it answers",
          "[token_cache]") {
  rally::testing::PostgresCluster postgres(rally::testing::free_port());
  postgres.stop();
  Replica replica(postgres.url());
  std::this_thread::sleep_for(500ms);  // several failed tries (retry is 100 ms)
  CHECK_FALSE(replica.cache.loaded());
  CHECK_FALSE(replica.cache.ready());
  CHECK_FALSE(replica.cache.authenticate("rally_" + std::string(64, '0')));

  postgres.start();
  CHECK(eventually([&] { return replica.cache.loaded(); }, 10s));
  // The tokens come from the schema the cache's store created once it could.
  const auto created = replica.store.create("late", Scope::kAdmin, {});
  REQUIRE(created.ok());
  replica.cache.created(created->token.id);
  CHECK(replica.cache.authenticate(created->raw_token));
}

TEST_CASE("uses are written to last_used_at in batches", "[token_cache]") {
  rally::testing::ScratchDatabase database;
  Replica replica(database.url());
  const auto used = replica.store.create("used", Scope::kRead, {});
  const auto idle = replica.store.create("idle", Scope::kRead, {});
  REQUIRE((used.ok() && idle.ok()));
  replica.cache.created(used->token.id);
  const auto before = std::chrono::system_clock::now() - 1s;
  REQUIRE(replica.cache.authenticate(used->raw_token));
  REQUIRE(replica.cache.authenticate(used->raw_token));

  // Nothing is written on the request path.
  CHECK_FALSE(replica.store.list()->at(0).last_used_at);
  replica.cache.flush_last_used();
  const auto tokens = replica.store.list();
  REQUIRE(tokens.ok());
  REQUIRE(tokens->at(0).last_used_at);
  CHECK(*tokens->at(0).last_used_at >= before);
  CHECK_FALSE(tokens->at(1).last_used_at);
}

TEST_CASE("token event messages name the operation and the token", "[token_cache]") {
  CHECK(token_event_message("revoked", "tok_0123456789abcdef") ==
        R"({"op":"revoked","id":"tok_0123456789abcdef"})");
  CHECK(kTokenEventsChannel == "rally:gateway:tokens");
}

}  // namespace
}  // namespace rally::gateway::edge
