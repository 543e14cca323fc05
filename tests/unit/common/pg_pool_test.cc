// PgPool against real PostgreSQL servers: the shared throwaway server for pooling behaviour, and a cluster of
// the test's own for what happens when the server goes away and comes back.
#include "services/common/pg_pool.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string>
#include <thread>
#include <utility>

#include "services/common/config.h"
#include "tests/support/expect.h"
#include "tests/support/servers.h"
#include "tests/support/test_env.h"

namespace {

using rally::testing::message_of;
using rally::testing::SilentListener;

using Catch::Matchers::Contains;
using rally::common::ConfigSource;
using rally::common::DatabaseUnavailable;
using rally::common::PgPool;
using rally::common::PostgresSettings;
using rally::testing::postgres_url;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

PostgresSettings settings_for(std::string url, std::size_t pool_size,
                              milliseconds acquire_timeout = milliseconds(200)) {
  PostgresSettings settings;
  settings.url = std::move(url);
  settings.pool_size = pool_size;
  settings.connect_timeout = milliseconds(1000);
  settings.acquire_timeout = acquire_timeout;
  return settings;
}

int backend_pid(pqxx::connection& connection) {
  pqxx::nontransaction tx(connection);
  return tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
}

}  // namespace

TEST_CASE("PgPool opens connections on demand and reuses returned ones", "[pg_pool]") {
  PgPool pool(settings_for(postgres_url(), 2));
  CHECK(pool.open_connections() == 0);

  const int first = pool.with_connection(backend_pid);
  CHECK(pool.open_connections() == 1);
  CHECK(pool.with_connection(backend_pid) == first);

  {
    PgPool::Lease a = pool.acquire();
    PgPool::Lease b = pool.acquire();
    CHECK(backend_pid(*a) != backend_pid(*b));
    CHECK(pool.open_connections() == 2);
    PgPool::Lease moved = std::move(a);  // a moved-from lease returns nothing
  }
  CHECK(pool.open_connections() == 2);
  CHECK(pool.ping());
  CHECK(pool.open_connections() == 2);
}

TEST_CASE("PgPool never opens more than pool_size connections", "[pg_pool]") {
  PgPool pool(settings_for(postgres_url(), 2, milliseconds(200)));
  PgPool::Lease a = pool.acquire();
  PgPool::Lease b = pool.acquire();

  const auto started = Clock::now();
  CHECK_THAT(message_of<DatabaseUnavailable>([&] { pool.acquire(); }),
             Contains("no PostgreSQL connection free within 200ms"));
  const auto waited = Clock::now() - started;
  CHECK(waited >= milliseconds(200));
  CHECK(waited < milliseconds(1500));
  CHECK(pool.open_connections() == 2);
  // The health check has a connection of its own: a pool busy to its limit is not an outage.
  CHECK(pool.ping());
  CHECK(pool.open_connections() == 2);
}

TEST_CASE("PgPool hands a returned connection to a waiting caller", "[pg_pool]") {
  PgPool pool(settings_for(postgres_url(), 1, milliseconds(5000)));
  PgPool::Lease held = pool.acquire();
  const int pid = backend_pid(*held);

  std::thread releaser([lease = std::move(held)]() mutable {
    std::this_thread::sleep_for(milliseconds(100));
    PgPool::Lease returned = std::move(lease);
  });
  const auto started = Clock::now();
  PgPool::Lease next = pool.acquire();
  const auto waited = Clock::now() - started;
  releaser.join();

  CHECK(backend_pid(*next) == pid);
  CHECK(waited < milliseconds(2000));
  CHECK(pool.open_connections() == 1);
}

TEST_CASE("PgPool drops broken connections and keeps healthy ones", "[pg_pool]") {
  PgPool pool(settings_for(postgres_url(), 2));
  pqxx::connection admin(postgres_url());

  SECTION("with_connection reports a connection lost mid-work as DatabaseUnavailable") {
    int victim = 0;
    const std::string message = message_of<DatabaseUnavailable>([&] {
      pool.with_connection([&](pqxx::connection& connection) {
        victim = backend_pid(connection);
        pqxx::nontransaction kill(admin);
        kill.exec("SELECT pg_terminate_backend(" + std::to_string(victim) + ", 5000)");
        pqxx::nontransaction tx(connection);
        return tx.exec("SELECT 1").size();
      });
    });
    CHECK_THAT(message, Contains("PostgreSQL unavailable"));
    CHECK(pool.open_connections() == 0);
    CHECK(pool.with_connection(backend_pid) != victim);
  }

  SECTION("other exceptions propagate unchanged and the connection stays in the pool") {
    const int pid = pool.with_connection(backend_pid);
    CHECK_THROWS_AS(pool.with_connection([](pqxx::connection& connection) {
      pqxx::nontransaction tx(connection);
      return tx.exec("SELECT 1 / 0").size();
    }),
                    pqxx::data_exception);
    CHECK(pool.open_connections() == 1);
    CHECK(pool.with_connection(backend_pid) == pid);
  }

  SECTION("a lease marked broken is closed instead of returned") {
    {
      PgPool::Lease lease = pool.acquire();
      lease.mark_broken();
    }
    CHECK(pool.open_connections() == 0);
  }

  SECTION("an idle connection the server closed is replaced before it is handed out") {
    const int pid = pool.with_connection(backend_pid);
    pqxx::nontransaction kill(admin);
    kill.exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ", 5000)");
    const int replacement = pool.with_connection(backend_pid);
    CHECK(replacement != pid);
    CHECK(pool.open_connections() == 1);
  }
}

TEST_CASE("PgPool reports an unreachable server as DatabaseUnavailable", "[pg_pool]") {
  // Nothing listens on a port that was just free.
  PgPool pool(
      settings_for("postgresql://rally@127.0.0.1:" + std::to_string(rally::testing::free_port()) + "/x", 2));
  CHECK_THAT(message_of<DatabaseUnavailable>([&] { pool.acquire(); }), Contains("Connection refused"));
  CHECK_FALSE(pool.ping());
  CHECK(pool.open_connections() == 0);  // failed attempts give their slot back
}

TEST_CASE("PgPool gives up on a server that accepts but never answers after connect_timeout", "[pg_pool]") {
  SilentListener silent;
  PgPool pool(settings_for("postgresql://rally@127.0.0.1:" + std::to_string(silent.port()) + "/x", 1));
  const auto started = Clock::now();
  CHECK_THROWS_AS(pool.acquire(), DatabaseUnavailable);
  // libpq waits at least 2 s whatever connect_timeout says; without the timeout it would wait forever.
  CHECK(Clock::now() - started < milliseconds(5000));
}

TEST_CASE("PgPool adds connect_timeout to both forms of connection string", "[pg_pool]") {
  // Both forms are spelled out from the server's own view of the test connection.
  pqxx::connection reference(postgres_url());
  const std::string uri = "postgresql://" + std::string(reference.username()) + "@" + reference.hostname() +
                          ":" + reference.port() + "/" + reference.dbname();
  // libpq takes whole seconds: 2.5 s must become 3, never 2.
  const auto pool_for = [](std::string url) {
    PostgresSettings settings = settings_for(std::move(url), 1);
    settings.connect_timeout = milliseconds(2500);
    return std::make_unique<PgPool>(settings);
  };
  // The server's view proves the rest of the string survived; options() shows what libpq was given.
  const auto session = [](PgPool& pool) {
    return pool.with_connection([](pqxx::connection& connection) {
      pqxx::nontransaction tx(connection);
      return std::pair{tx.exec1("SHOW application_name")[0].as<std::string>(), connection.options()};
    });
  };

  const auto without_query = pool_for(uri);
  CHECK(session(*without_query).second == uri + "?connect_timeout=3");

  const auto with_query = pool_for(uri + "?application_name=rally_uri");
  const auto [uri_name, uri_options] = session(*with_query);
  CHECK(uri_name == "rally_uri");
  CHECK(uri_options == uri + "?application_name=rally_uri&connect_timeout=3");

  const std::string keywords = "host=" + std::string(reference.hostname()) + " port=" + reference.port() +
                               " user=" + reference.username() + " dbname=" + reference.dbname() +
                               " application_name=rally_keywords";
  const auto keyword_pool = pool_for(keywords);
  const auto [keyword_name, keyword_options] = session(*keyword_pool);
  CHECK(keyword_name == "rally_keywords");
  CHECK(keyword_options == keywords + " connect_timeout=3");
}

TEST_CASE("PostgresSettings::from reads and validates RALLY_PG_*", "[pg_pool]") {
  const auto from = [](ConfigSource::Values env) {
    return PostgresSettings::from(ConfigSource::from_values({}, std::move(env)));
  };

  const PostgresSettings defaults = from({});
  CHECK(defaults.url == PostgresSettings{}.url);
  CHECK(defaults.pool_size == 8);

  const PostgresSettings settings = from({{"RALLY_PG_URL", "postgresql://u@db:5432/rally"},
                                          {"RALLY_PG_POOL_SIZE", "32"},
                                          {"RALLY_PG_CONNECT_TIMEOUT", "5s"},
                                          {"RALLY_PG_ACQUIRE_TIMEOUT", "250ms"}});
  CHECK(settings.url == "postgresql://u@db:5432/rally");
  CHECK(settings.pool_size == 32);
  CHECK(settings.connect_timeout == milliseconds(5000));
  CHECK(settings.acquire_timeout == milliseconds(250));

  const auto rejected_key = [&](std::string key, std::string value) {
    return rally::testing::rejected_config_key([&] { from({{key, value}}); });
  };
  CHECK(rejected_key("RALLY_PG_URL", "") == "RALLY_PG_URL");
  CHECK(rejected_key("RALLY_PG_POOL_SIZE", "0") == "RALLY_PG_POOL_SIZE");
  CHECK(rejected_key("RALLY_PG_POOL_SIZE", "257") == "RALLY_PG_POOL_SIZE");
  CHECK(rejected_key("RALLY_PG_CONNECT_TIMEOUT", "500ms") == "RALLY_PG_CONNECT_TIMEOUT");
  CHECK(rejected_key("RALLY_PG_ACQUIRE_TIMEOUT", "2m") == "RALLY_PG_ACQUIRE_TIMEOUT");
}

TEST_CASE("PgPool recovers when its server restarts", "[pg_pool][restart]") {
  rally::testing::PostgresCluster server(rally::testing::free_port());
  PgPool pool(settings_for(server.url(), 2, milliseconds(500)));
  const auto select_one = [](pqxx::connection& connection) {
    pqxx::nontransaction tx(connection);
    return tx.exec1("SELECT 1")[0].as<int>();
  };
  {
    PgPool::Lease a = pool.acquire();
    PgPool::Lease b = pool.acquire();
  }
  REQUIRE(pool.open_connections() == 2);

  // Both idle connections are dead after the restart, yet the very next use must succeed.
  server.stop();
  server.start();
  CHECK(pool.with_connection(select_one) == 1);
  CHECK(pool.open_connections() == 1);

  // Work in flight when the server goes away fails cleanly, and its connection is not kept.
  CHECK_THROWS_AS(pool.with_connection([&](pqxx::connection& connection) {
    server.stop();
    return select_one(connection);
  }),
                  DatabaseUnavailable);
  CHECK(pool.open_connections() == 0);

  // While the server is down, health checks say so and callers fail fast instead of hanging.
  const auto started = Clock::now();
  CHECK_FALSE(pool.ping());
  CHECK_THROWS_AS(pool.acquire(), DatabaseUnavailable);
  CHECK(Clock::now() - started < milliseconds(1000));

  server.start();
  CHECK(pool.ping());
  CHECK(pool.with_connection(select_one) == 1);
}
