// apply_migrations against a real PostgreSQL: each test gets its own scratch database.
#include "services/common/migrations.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <exception>
#include <latch>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/test_env.h"

namespace {

using Catch::Matchers::Contains;
using rally::common::apply_migrations;
using rally::common::MigrationError;
using rally::common::Migrations;
using rally::testing::ScratchDatabase;

const Migrations kArena{
    {1, "0001_create_votes.sql", "CREATE TABLE votes (id bigint PRIMARY KEY, winner text NOT NULL);"},
    {2, "0002_add_voted_at.sql",
     "ALTER TABLE votes ADD COLUMN voted_at timestamptz NOT NULL DEFAULT now();\n"
     "CREATE INDEX votes_voted_at ON votes (voted_at);"},
};

bool table_exists(pqxx::connection& connection, const std::string& name) {
  pqxx::nontransaction tx(connection);
  return !tx.exec_params("SELECT to_regclass($1)", name)[0][0].is_null();
}

std::vector<int> recorded_versions(pqxx::connection& connection, const std::string& service) {
  pqxx::nontransaction tx(connection);
  std::vector<int> versions;
  for (const auto& row : tx.exec_params(
           "SELECT version FROM public.schema_migrations WHERE service = $1 ORDER BY version", service)) {
    versions.push_back(row[0].as<int>());
  }
  return versions;
}

// The message of the MigrationError that `run` throws; anything else it throws fails the test as is.
template <typename Run>
std::string migration_error(Run run) {
  try {
    run();
  } catch (const MigrationError& e) {
    return e.what();
  }
  FAIL("no MigrationError was thrown");
  return {};
}

}  // namespace

TEST_CASE("migrations are applied once, in order, and recorded with their checksums", "[migrations]") {
  ScratchDatabase database;
  pqxx::connection connection(database.url());

  const auto first = apply_migrations(connection, "arena", kArena);
  CHECK(first.applied == std::vector<int>{1, 2});
  CHECK(first.current_version == 2);
  {
    pqxx::nontransaction tx(connection);
    tx.exec("INSERT INTO votes (id, winner) VALUES (1, 'model-a')");
    CHECK(tx.exec1("SELECT voted_at IS NOT NULL FROM votes WHERE id = 1")[0].as<bool>());
    // The recorded checksum is the SHA-256 of the text, as PostgreSQL computes it independently.
    const auto rows =
        tx.exec("SELECT name, checksum = encode(sha256(convert_to($sql$" + std::string(kArena[1].sql) +
                "$sql$, 'UTF8')), 'hex'), applied_at <= now() FROM public.schema_migrations "
                "WHERE service = 'arena' AND version = 2");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0][0].as<std::string>() == "0002_add_voted_at.sql");
    CHECK(rows[0][1].as<bool>());
    CHECK(rows[0][2].as<bool>());
  }

  const auto second = apply_migrations(connection, "arena", kArena);
  CHECK(second.applied.empty());
  CHECK(second.current_version == 2);
  CHECK(recorded_versions(connection, "arena") == std::vector<int>{1, 2});
}

TEST_CASE("only migrations that are not recorded yet are applied", "[migrations]") {
  ScratchDatabase database;
  pqxx::connection connection(database.url());

  CHECK(apply_migrations(connection, "arena", {}).current_version == 0);
  const auto first = apply_migrations(connection, "arena", Migrations{kArena[0]});
  CHECK(first.applied == std::vector<int>{1});
  CHECK(first.current_version == 1);

  const auto second = apply_migrations(connection, "arena", kArena);
  CHECK(second.applied == std::vector<int>{2});
  CHECK(second.current_version == 2);
}

TEST_CASE("a failing migration is rolled back with its record and reported by name", "[migrations]") {
  ScratchDatabase database;
  pqxx::connection connection(database.url());
  const Migrations broken{
      kArena[0],
      {2, "0002_create_ratings.sql",
       "CREATE TABLE ratings (model text PRIMARY KEY, elo double precision NOT NULL);\n"
       "INSERT INTO ratings VALUES ('model-a', 1500);\n"
       "SELEC elo FROM ratings;"},
  };

  CHECK_THAT(migration_error([&] { apply_migrations(connection, "arena", broken); }),
             Contains("'arena'") && Contains("0002_create_ratings.sql") &&
                 Contains("syntax error at or near \"SELEC\""));
  CHECK(recorded_versions(connection, "arena") == std::vector<int>{1});
  CHECK(table_exists(connection, "public.votes"));
  CHECK_FALSE(table_exists(connection, "public.ratings"));

  // The connection stays usable, and the corrected migration goes in on the next run.
  Migrations fixed = broken;
  fixed[1].sql = "CREATE TABLE ratings (model text PRIMARY KEY, elo double precision NOT NULL);";
  const auto report = apply_migrations(connection, "arena", fixed);
  CHECK(report.applied == std::vector<int>{2});
  CHECK(table_exists(connection, "public.ratings"));
}

TEST_CASE("an applied migration whose text changed stops the run before anything is applied",
          "[migrations]") {
  ScratchDatabase database;
  pqxx::connection connection(database.url());
  apply_migrations(connection, "arena", Migrations{kArena[0]});

  Migrations edited = kArena;
  edited[0].sql = "CREATE TABLE votes (id bigint PRIMARY KEY, winner text);";
  CHECK_THAT(migration_error([&] { apply_migrations(connection, "arena", edited); }),
             Contains("'arena'") && Contains("0001_create_votes.sql") && Contains("changed"));
  // Version 2 comes after the edited one and must not have run.
  CHECK(recorded_versions(connection, "arena") == std::vector<int>{1});
}

TEST_CASE("versions that are not unique and increasing are rejected before touching the database",
          "[migrations]") {
  ScratchDatabase database;
  pqxx::connection connection(database.url());

  const Migrations out_of_order{kArena[1], kArena[0]};
  CHECK_THAT(migration_error([&] { apply_migrations(connection, "arena", out_of_order); }),
             Contains("0001_create_votes.sql") && Contains("unique and increasing"));
  const Migrations duplicate{kArena[0], {1, "0001_again.sql", "CREATE TABLE again (id int);"}};
  CHECK_THAT(migration_error([&] { apply_migrations(connection, "arena", duplicate); }),
             Contains("0001_again.sql") && Contains("unique and increasing"));
  const Migrations zero{{0, "0000_zero.sql", "CREATE TABLE zero (id int);"}};
  CHECK_THROWS_AS(apply_migrations(connection, "arena", zero), MigrationError);

  CHECK_FALSE(table_exists(connection, "public.schema_migrations"));
  CHECK_FALSE(table_exists(connection, "public.votes"));
}

TEST_CASE("each service's migrations are numbered and recorded independently", "[migrations]") {
  ScratchDatabase database;
  pqxx::connection connection(database.url());
  const Migrations scoring{
      {1, "0001_create_scores.sql", "CREATE TABLE scores (model text PRIMARY KEY, score real NOT NULL);"},
  };

  CHECK(apply_migrations(connection, "arena", kArena).applied == std::vector<int>{1, 2});
  const auto report = apply_migrations(connection, "scoring", scoring);
  CHECK(report.applied == std::vector<int>{1});
  CHECK(report.current_version == 1);
  CHECK(apply_migrations(connection, "arena", kArena).applied.empty());

  CHECK(recorded_versions(connection, "arena") == std::vector<int>{1, 2});
  CHECK(recorded_versions(connection, "scoring") == std::vector<int>{1});
  CHECK(table_exists(connection, "public.scores"));
}

TEST_CASE("runners starting at once apply each migration exactly once", "[migrations]") {
  // Neither migration is idempotent: running one twice fails (CREATE TABLE) or leaves a duplicate row. The
  // sleep keeps the first runner inside its transaction while the others arrive.
  const Migrations migrations{
      {1, "0001_create_log.sql", "CREATE TABLE log (entry int NOT NULL); SELECT pg_sleep(0.1);"},
      {2, "0002_fill_log.sql", "INSERT INTO log VALUES (2);"},
      {3, "0003_fill_more.sql", "INSERT INTO log VALUES (3);"},
  };
  constexpr int kRunners = 4;

  // A fresh database each round, so that creating schema_migrations itself is raced too.
  for (int round = 0; round < 2; ++round) {
    ScratchDatabase database;
    std::vector<std::vector<int>> applied(kRunners);
    std::vector<std::exception_ptr> errors(kRunners);
    std::latch start(kRunners);
    std::vector<std::thread> runners;
    runners.reserve(kRunners);
    for (int i = 0; i < kRunners; ++i) {
      runners.emplace_back([&, i] {
        try {
          pqxx::connection connection(database.url());
          start.arrive_and_wait();
          applied[i] = apply_migrations(connection, "arena", migrations).applied;
        } catch (...) {
          errors[i] = std::current_exception();
        }
      });
    }
    for (auto& runner : runners) {
      runner.join();
    }

    for (const auto& error : errors) {
      if (error) {
        std::rethrow_exception(error);
      }
    }
    std::vector<int> all;
    for (const auto& versions : applied) {
      all.insert(all.end(), versions.begin(), versions.end());
    }
    std::sort(all.begin(), all.end());
    CHECK(all == std::vector<int>{1, 2, 3});

    pqxx::connection connection(database.url());
    pqxx::nontransaction tx(connection);
    CHECK(tx.exec1("SELECT string_agg(entry::text, ',' ORDER BY entry) FROM log")[0].as<std::string>() ==
          "2,3");
  }
}
