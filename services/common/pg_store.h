// What every service's PostgreSQL store shares: how a write transaction is run, retried and reported, the
// statement timeout, and times as exact parameters. Brings in libpqxx, so only stores' .cc files include it.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/field>
#include <pqxx/transaction>
#include <string>
#include <string_view>

#include "services/common/errors.h"
#include "services/common/pg_pool.h"
#include "services/common/pg_store_settings.h"

namespace rally::common::pg {

// Throws std::invalid_argument naming the store for settings out of range.
StoreSettings validated(StoreSettings settings, std::string_view store);

std::string set_statement_timeout(std::chrono::milliseconds timeout);

// Text that reads back as the same double.
std::string number(double value);

// Times cross the wire as whole microseconds since the epoch: timestamptz's own resolution, so they round
// trip exactly (libpqxx 6.4 has no conversions for std::chrono).
std::int64_t microseconds_since_epoch(std::chrono::system_clock::time_point time);
std::chrono::system_clock::time_point time_point_of(const pqxx::field& microseconds);
// The timestamptz of a parameter made by microseconds_since_epoch: timestamp("$2").
std::string timestamp(std::string_view parameter);
// The inverse of timestamp() for a column, exact (extract() gives a numeric).
std::string microseconds_of(std::string_view column);

// Logs the failure under the store's name (first line only: later lines may quote whole rows) and returns
// kDatabaseError "<what> failed".
Error database_error(std::string_view store, std::string_view what, const std::exception& e);

void log_retry(std::string_view store, std::string_view what, const std::exception& e);

// Runs work(pqxx::work&) -> Result<T> in a read-write transaction under the statement timeout and commits
// when it returns a value; an Error rolls the transaction back. Serialization failures and deadlocks roll
// the whole transaction back, so it is tried again, settings.attempts times at most. The last failed try
// and a commit of unknown outcome are kDatabaseError; any other exception propagates, because only the
// caller knows what, say, a unique violation means.
template <typename T, typename Work>
Result<T> run_write(PgPool& pool, const StoreSettings& settings, std::string_view store,
                    std::string_view what, Work&& work) {
  for (std::uint32_t tries = 1;; ++tries) {
    try {
      return pool.with_connection([&](pqxx::connection& connection) -> Result<T> {
        pqxx::work transaction(connection);
        transaction.exec0(set_statement_timeout(settings.statement_timeout));
        Result<T> result = work(transaction);
        if (result.ok()) {
          transaction.commit();
        }
        return result;
      });
    } catch (const pqxx::in_doubt_error& e) {
      // The commit may have happened: trying again could do the work twice.
      return database_error(store, std::string(what) + " (outcome unknown)", e);
    } catch (const pqxx::statement_completion_unknown& e) {
      return database_error(store, std::string(what) + " (outcome unknown)", e);
    } catch (const pqxx::transaction_rollback& e) {
      if (tries >= settings.attempts) {
        return database_error(store, what, e);
      }
      log_retry(store, what, e);
    }
  }
}

// Runs read(pqxx::read_transaction&) -> Result<T> in a read-only transaction under the statement timeout;
// any failure is kDatabaseError.
template <typename T, typename Read>
Result<T> run_read(PgPool& pool, const StoreSettings& settings, std::string_view store, std::string_view what,
                   Read&& read) {
  try {
    return pool.with_connection([&](pqxx::connection& connection) -> Result<T> {
      pqxx::read_transaction transaction(connection);
      transaction.exec0(set_statement_timeout(settings.statement_timeout));
      return read(transaction);
    });
  } catch (const std::exception& e) {
    return database_error(store, what, e);
  }
}

}  // namespace rally::common::pg
