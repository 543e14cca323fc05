// What every arena storage test starts from: a scratch database built from the arena migrations and a pool
// on it.
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/row>
#include <stdexcept>
#include <string>
#include <utility>

#include "migrations/rally_arena.h"
#include "services/common/migrations.h"
#include "services/common/pg_pool.h"
#include "tests/support/test_env.h"

namespace rally::testing {

inline common::PostgresSettings arena_pool_settings(std::string url) {
  common::PostgresSettings settings;
  settings.url = std::move(url);
  settings.pool_size = 8;
  settings.connect_timeout = std::chrono::milliseconds(1000);
  settings.acquire_timeout = std::chrono::milliseconds(5000);
  return settings;
}

// Where nothing listens: every call on a pool to it fails.
inline std::string unreachable_postgres_url() {
  return "postgresql://rally@127.0.0.1:" + std::to_string(free_port()) + "/rally";
}

// The arena's PostgreSQL stores take the same settings and refuse the same values.
template <typename Store>
void check_refuses_settings_out_of_range() {
  common::PgPool pool(arena_pool_settings("postgresql://rally@127.0.0.1:1/never-contacted"));
  typename Store::Settings no_attempts;
  no_attempts.attempts = 0;
  CHECK_THROWS_AS(Store(pool, no_attempts), std::invalid_argument);
  typename Store::Settings no_timeout;
  no_timeout.statement_timeout = std::chrono::milliseconds(0);
  CHECK_THROWS_AS(Store(pool, no_timeout), std::invalid_argument);
}

struct ArenaTestDatabase {
  ArenaTestDatabase() {
    pqxx::connection connection(database.url());
    common::apply_migrations(connection, "arena", arena::migrations());
  }

  // The one row `sql` selects, read on a connection of its own (not the pool's).
  pqxx::row row(const std::string& sql) const {
    pqxx::connection connection(database.url());
    pqxx::nontransaction transaction(connection);
    return transaction.exec1(sql);
  }

  std::int64_t count_votes() const { return row("SELECT count(*) FROM arena.votes")[0].as<std::int64_t>(); }

  ScratchDatabase database;
  common::PgPool pool{arena_pool_settings(database.url())};
};

}  // namespace rally::testing
