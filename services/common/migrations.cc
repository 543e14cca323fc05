#include "services/common/migrations.h"

#include <array>
#include <cstdint>
#include <map>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>
#include <string>

#include "services/common/digest.h"
#include "services/common/pg_advisory_lock.h"

namespace rally::common {
namespace {

// Same keys as before advisory_lock_key was shared, so replicas of different releases still serialise.
std::int64_t migration_lock_key(std::string_view service) {
  return advisory_lock_key("rally.schema_migrations/" + std::string(service));
}

std::string trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

std::string describe(std::string_view service, const Migration& migration) {
  return "service '" + std::string(service) + "', migration " + std::string(migration.name);
}

void check_order(std::string_view service, const Migrations& migrations) {
  const Migration* previous = nullptr;
  for (const Migration& migration : migrations) {
    if (migration.version < 1) {
      throw MigrationError(describe(service, migration) + ": version " + std::to_string(migration.version) +
                           " is not positive");
    }
    if (previous != nullptr && migration.version <= previous->version) {
      throw MigrationError(describe(service, migration) + ": version " + std::to_string(migration.version) +
                           " does not follow version " + std::to_string(previous->version) + " (" +
                           std::string(previous->name) + "); versions must be unique and increasing");
    }
    previous = &migration;
  }
}

void create_table(pqxx::connection& connection) {
  // CREATE TABLE IF NOT EXISTS is not safe against a concurrent creator (both may pass the check, and one
  // then fails on the catalog's unique index), so replicas starting together take a lock first.
  pqxx::work tx(connection, "create schema_migrations");
  tx.exec_params("SELECT pg_advisory_xact_lock($1)", migration_lock_key(""));
  tx.exec(R"sql(
    CREATE TABLE IF NOT EXISTS public.schema_migrations (
      service    text        NOT NULL,
      version    integer     NOT NULL,
      name       text        NOT NULL,
      checksum   text        NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (service, version)
    ))sql");
  tx.commit();
}

void check_unchanged(std::string_view service, const Migration& migration, const std::string& recorded,
                     const std::string& current) {
  if (recorded != current) {
    throw MigrationError(describe(service, migration) + " was changed after it was applied (checksum " +
                         current + ", recorded " + recorded +
                         "); add a new migration instead of editing an applied one");
  }
}

// Runs one migration and records it in a single transaction. Returns false when another runner applied it
// while this one waited for the lock.
bool apply_one(pqxx::connection& connection, std::string_view service, const Migration& migration,
               const std::string& checksum) {
  const std::string service_name(service);
  pqxx::work tx(connection, "migration");
  tx.exec_params("SELECT pg_advisory_xact_lock($1)", migration_lock_key(service));
  const pqxx::result recorded =
      tx.exec_params("SELECT checksum FROM public.schema_migrations WHERE service = $1 AND version = $2",
                     service_name, migration.version);
  if (!recorded.empty()) {
    check_unchanged(service, migration, recorded[0][0].as<std::string>(), checksum);
    return false;
  }
  tx.exec(std::string(migration.sql));
  tx.exec_params(
      "INSERT INTO public.schema_migrations (service, version, name, checksum) VALUES ($1, $2, $3, $4)",
      service_name, migration.version, std::string(migration.name), checksum);
  tx.commit();
  return true;
}

}  // namespace

MigrationReport apply_migrations(pqxx::connection& connection, std::string_view service,
                                 const Migrations& migrations) {
  if (service.empty()) {
    throw MigrationError("apply_migrations: the service name is empty");
  }
  check_order(service, migrations);

  const std::string service_name(service);
  try {
    create_table(connection);
  } catch (const pqxx::failure& e) {
    throw MigrationError("service '" + service_name +
                         "': cannot create public.schema_migrations: " + trimmed(e.what()));
  }

  std::map<int, std::string> applied;  // version -> recorded checksum
  try {
    pqxx::nontransaction tx(connection, "read schema_migrations");
    for (const auto& row : tx.exec_params(
             "SELECT version, checksum FROM public.schema_migrations WHERE service = $1", service_name)) {
      applied.emplace(row[0].as<int>(), row[1].as<std::string>());
    }
  } catch (const pqxx::failure& e) {
    throw MigrationError("service '" + service_name +
                         "': cannot read public.schema_migrations: " + trimmed(e.what()));
  }

  // Every checksum is verified before anything runs, so an edited old migration stops the whole run.
  std::vector<std::string> checksums;
  checksums.reserve(migrations.size());
  for (const Migration& migration : migrations) {
    checksums.push_back(sha256_hex(migration.sql));
    if (const auto it = applied.find(migration.version); it != applied.end()) {
      check_unchanged(service, migration, it->second, checksums.back());
    }
  }

  MigrationReport report;
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    const Migration& migration = migrations[i];
    if (applied.contains(migration.version)) {
      continue;
    }
    try {
      if (apply_one(connection, service, migration, checksums[i])) {
        report.applied.push_back(migration.version);
      }
    } catch (const pqxx::failure& e) {
      throw MigrationError(describe(service, migration) + " failed: " + trimmed(e.what()));
    }
    applied.emplace(migration.version, checksums[i]);
  }
  report.current_version = applied.empty() ? 0 : applied.rbegin()->first;
  return report;
}

}  // namespace rally::common
