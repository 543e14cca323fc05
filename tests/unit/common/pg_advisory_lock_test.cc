// PgAdvisoryLock and PgAdvisoryMutex against the throwaway PostgreSQL: one holder at a time among processes
// sharing a database, and a lock that follows its session (released, terminated, or never reachable).
#include "services/common/pg_advisory_lock.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <string>
#include <thread>
#include <vector>

#include "services/common/pg_pool.h"
#include "tests/support/test_env.h"

namespace {

using rally::common::advisory_lock_key;
using rally::common::Error;
using rally::common::ErrorCode;
using rally::common::LeaseState;
using rally::common::PgAdvisoryLock;
using rally::common::PgAdvisoryMutex;
using rally::common::PgPool;
using rally::common::PostgresSettings;
using rally::testing::ScratchDatabase;
using namespace std::chrono_literals;

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

// Two processes' worth of pools on one scratch database, each with the mutex "sender"; the second one's
// wait is `second_wait`.
struct TwoMutexes {
  explicit TwoMutexes(std::chrono::milliseconds second_wait = 5s)
      : second(second_pool, "sender", second_wait) {}
  ScratchDatabase database;
  PgPool first_pool{settings_for(database.url())};
  PgPool second_pool{settings_for(database.url())};
  PgAdvisoryMutex first{first_pool, "sender", 5s};
  PgAdvisoryMutex second;
};

// A critical section of `mutex` run on a thread of its own, from construction (once inside) until leave().
// What run_exclusive answered is returned to the test's thread: Catch's assertions are not thread-safe.
class SectionOnAnotherThread {
 public:
  explicit SectionOnAnotherThread(PgAdvisoryMutex& mutex) {
    thread_ = std::thread([this, &mutex] {
      answer_ = mutex.run_exclusive([this] {
        entered_.set_value();
        leave_.get_future().wait();
      });
    });
    entered_.get_future().wait();
  }
  ~SectionOnAnotherThread() {
    if (thread_.joinable()) leave();
  }
  SectionOnAnotherThread(const SectionOnAnotherThread&) = delete;
  SectionOnAnotherThread& operator=(const SectionOnAnotherThread&) = delete;

  std::optional<Error> leave() {
    leave_.set_value();
    thread_.join();
    return answer_;
  }

 private:
  std::promise<void> entered_;
  std::promise<void> leave_;
  std::optional<Error> answer_;
  std::thread thread_;
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

TEST_CASE("PgAdvisoryMutex: one critical section at a time among processes", "[pg_advisory_lock]") {
  TwoMutexes both;
  auto& [database, first_pool, second_pool, first, second] = both;
  REQUIRE(first.key() == second.key());

  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};
  std::atomic<int> runs{0};
  std::atomic<int> errors{0};
  auto work = [&](PgAdvisoryMutex& mutex) {
    for (int i = 0; i < 15; ++i) {
      const std::optional<Error> error = mutex.run_exclusive([&] {
        const int now = ++inside;
        int seen = most_inside.load();
        while (now > seen && !most_inside.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(1ms);
        --inside;
        ++runs;
      });
      if (error) ++errors;
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back(work, std::ref(first));
    threads.emplace_back(work, std::ref(second));
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(errors == 0);
  CHECK(runs == 90);
  CHECK(most_inside == 1);
  // The lock ends with each transaction: nobody holds it afterwards.
  CHECK(holders_of(database.url(), first.key()) == 0);
}

TEST_CASE("PgAdvisoryMutex: a wait past the limit is an error and the section does not run",
          "[pg_advisory_lock]") {
  TwoMutexes both(100ms);
  auto& [database, first_pool, second_pool, holder, waiter] = both;

  SectionOnAnotherThread holding(holder);
  bool ran = false;
  const std::optional<Error> refused = waiter.run_exclusive([&] { ran = true; });
  CHECK_FALSE(holding.leave());
  REQUIRE(refused);
  CHECK(refused->code == ErrorCode::kServiceUnavailable);
  CHECK(refused->message.find("sender") != std::string::npos);
  CHECK_FALSE(ran);
  // Freed by the holder's commit, the next section runs at once.
  CHECK_FALSE(waiter.run_exclusive([&] { ran = true; }));
  CHECK(ran);
}

TEST_CASE("PgAdvisoryMutex: a holder that dies frees the lock with its session", "[pg_advisory_lock]") {
  TwoMutexes both;
  auto& [database, first_pool, second_pool, holder, waiter] = both;

  SectionOnAnotherThread holding(holder);
  REQUIRE(holders_of(database.url(), holder.key()) == 1);
  terminate_holders(database.url(), holder.key());
  bool ran = false;
  CHECK_FALSE(waiter.run_exclusive([&] { ran = true; }));
  CHECK(ran);
  // Its session was terminated inside the section; the section still counts as run.
  CHECK_FALSE(holding.leave());
  // The broken connection left the pool; the next section opens a new one.
  ran = false;
  CHECK_FALSE(holder.run_exclusive([&] { ran = true; }));
  CHECK(ran);
}

TEST_CASE("PgAdvisoryMutex: no server is DATABASE_ERROR and the section does not run", "[pg_advisory_lock]") {
  PgPool pool(settings_for("postgresql://rally@127.0.0.1:1/none"));
  PgAdvisoryMutex mutex(pool, "sender", 1s);
  bool ran = false;
  const std::optional<Error> error = mutex.run_exclusive([&] { ran = true; });
  REQUIRE(error);
  CHECK(error->code == rally::common::ErrorCode::kDatabaseError);
  CHECK_FALSE(ran);
}
