// PgAdvisoryLock against the throwaway PostgreSQL: one holder at a time among processes sharing a database,
// and a lock that follows its session (released, terminated, or never reachable).
#include "services/common/pg_advisory_lock.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <string>
#include <thread>

#include "services/common/pg_pool.h"
#include "tests/support/test_env.h"

namespace {

using rally::common::advisory_lock_key;
using rally::common::LeaseState;
using rally::common::PgAdvisoryLock;
using rally::common::PgPool;
using rally::common::PostgresSettings;
using rally::testing::ScratchDatabase;

PostgresSettings settings_for(const std::string& url) {
  PostgresSettings settings;
  settings.url = url;
  settings.pool_size = 1;
  settings.connect_timeout = std::chrono::seconds(1);
  return settings;
}

// The sessions holding the advisory lock $1 in the current database (a bigint key shows in pg_locks as
// classid and objid, its high and low halves).
constexpr char kHolders[] =
    "FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
    "(SELECT oid FROM pg_database WHERE datname = current_database()) AND "
    "((classid::bigint << 32) | objid::bigint) = $1";

int holders_of(const std::string& url, std::int64_t key) {
  pqxx::connection connection(url);
  pqxx::nontransaction tx(connection);
  return tx.exec_params1(std::string("SELECT count(*) ") + kHolders, key)[0].as<int>();
}

void terminate_holders(const std::string& url, std::int64_t key) {
  pqxx::connection connection(url);
  pqxx::nontransaction tx(connection);
  tx.exec_params(std::string("SELECT pg_terminate_backend(pid) ") + kHolders, key);
}

// Two processes' worth of pools on one scratch database, each with the lock "leader".
struct TwoProcesses {
  ScratchDatabase database;
  PgPool first_pool{settings_for(database.url())};
  PgPool second_pool{settings_for(database.url())};
  PgAdvisoryLock first{first_pool, "leader"};
  PgAdvisoryLock second{second_pool, "leader"};
};

}  // namespace

TEST_CASE("advisory_lock_key is stable and tells names apart", "[pg_advisory_lock]") {
  CHECK(advisory_lock_key("rally.lock/oracle") == advisory_lock_key("rally.lock/oracle"));
  CHECK(advisory_lock_key("rally.lock/oracle") != advisory_lock_key("rally.lock/oracle2"));
  // SHA-256("abc") starts ba 78 16 bf 8f 01 cf ea: the key is those 8 bytes read big-endian.
  CHECK(advisory_lock_key("abc") == static_cast<std::int64_t>(0xba7816bf8f01cfeaULL));
}

TEST_CASE("PgAdvisoryLock: one holder at a time, the next one after a release", "[pg_advisory_lock]") {
  TwoProcesses both;
  auto& [database, first_pool, second_pool, first, second] = both;
  PgAdvisoryLock other(second_pool, "another-job");

  REQUIRE(first.try_hold() == LeaseState::kHeld);
  CHECK(first.try_hold() == LeaseState::kHeld);  // confirming a held lock keeps it
  CHECK(second.try_hold() == LeaseState::kHeldElsewhere);
  CHECK(other.try_hold() == LeaseState::kHeld);  // another name is another lock
  CHECK(holders_of(database.url(), first.key()) == 1);
  // The pool's own connections are untouched: the lock has a session of its own.
  CHECK(first_pool.open_connections() == 0);

  first.release();
  CHECK(holders_of(database.url(), first.key()) == 0);
  CHECK(second.try_hold() == LeaseState::kHeld);
  CHECK(first.try_hold() == LeaseState::kHeldElsewhere);
}

TEST_CASE("PgAdvisoryLock: a holder whose session ends loses the lock to the next", "[pg_advisory_lock]") {
  TwoProcesses both;
  auto& [database, first_pool, second_pool, first, second] = both;

  REQUIRE(first.try_hold() == LeaseState::kHeld);
  REQUIRE(second.try_hold() == LeaseState::kHeldElsewhere);
  terminate_holders(database.url(), first.key());
  // The server freed the lock with the session; the old holder learns it at its next check.
  bool taken = false;
  for (int attempt = 0; attempt < 50 && !taken; ++attempt) {
    taken = second.try_hold() == LeaseState::kHeld;
    if (!taken) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(taken);
  // The old holder's check fails with its session; its next try finds the lock taken.
  CHECK(first.try_hold() == LeaseState::kUnavailable);
  CHECK(first.try_hold() == LeaseState::kHeldElsewhere);
  CHECK(holders_of(database.url(), first.key()) == 1);
}

TEST_CASE("PgAdvisoryLock: no server means not held, never an exception", "[pg_advisory_lock]") {
  PgPool pool(settings_for("postgresql://rally@127.0.0.1:1/none"));
  PgAdvisoryLock lock(pool, "leader");
  CHECK(lock.try_hold() == LeaseState::kUnavailable);
  lock.release();  // nothing held: nothing to do
  CHECK(lock.try_hold() == LeaseState::kUnavailable);
}
