// A bounded pool of libpqxx connections. Connections are opened lazily, checked before reuse, and replaced
// after the server restarts: a lease whose work hit a broken connection is discarded, not returned.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rally::common {

class ConfigSource;

struct PostgresSettings {
  // libpq connection URI. RALLY_PG_URL.
  std::string url = "postgresql://rally@127.0.0.1:55432/rally";
  // Most connections open at once. RALLY_PG_POOL_SIZE.
  std::size_t pool_size = 8;
  // RALLY_PG_CONNECT_TIMEOUT (whole seconds are passed to libpq; at least 1 s).
  std::chrono::milliseconds connect_timeout{2000};
  // How long acquire() waits for a free connection. RALLY_PG_ACQUIRE_TIMEOUT.
  std::chrono::milliseconds acquire_timeout{2000};

  static PostgresSettings from(const ConfigSource& config);
};

// PostgreSQL could not be reached or no connection became free in time (maps to DATABASE_ERROR).
class DatabaseUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PgPool {
 public:
  explicit PgPool(PostgresSettings settings);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // Exclusive use of one connection until destroyed. If the work on it threw pqxx::broken_connection,
  // call mark_broken() (or let with_connection do it) so the pool drops it.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& operator*() const { return *connection_; }
    pqxx::connection* operator->() const { return connection_.get(); }
    void mark_broken() { broken_ = true; }

   private:
    friend class PgPool;
    Lease(PgPool* pool, std::unique_ptr<pqxx::connection> connection);
    PgPool* pool_;
    std::unique_ptr<pqxx::connection> connection_;
    bool broken_ = false;
  };

  // Throws DatabaseUnavailable when no connection can be had within acquire_timeout.
  Lease acquire();

  // Runs fn(pqxx::connection&) on a leased connection. A broken connection is dropped from the pool and
  // reported as DatabaseUnavailable; other exceptions propagate unchanged. The work is never retried here:
  // only the caller knows whether it is safe to repeat.
  template <typename Fn>
  auto with_connection(Fn&& fn) -> decltype(fn(std::declval<pqxx::connection&>()));

  // True when PostgreSQL answers SELECT 1 now (used by health checks), on a connection kept for this alone:
  // a pool whose connections are all busy is not an outage.
  bool ping();

  // A connection outside the pool and its count, for a caller that keeps one session for long (an advisory
  // lock lives as long as its session). `parameters` are libpq keywords added to the URL
  // ("keepalives_idle=10&tcp_user_timeout=15000"). Throws DatabaseUnavailable like acquire().
  std::unique_ptr<pqxx::connection> open_unpooled(std::string_view parameters);

  std::size_t open_connections() const;
  const PostgresSettings& settings() const { return settings_; }

 private:
  void release(std::unique_ptr<pqxx::connection> connection, bool broken);
  std::unique_ptr<pqxx::connection> open_connection(std::string_view parameters = {});
  [[noreturn]] static void rethrow_as_unavailable(const std::exception& e);

  PostgresSettings settings_;
  mutable std::mutex mutex_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::size_t open_ = 0;  // idle + leased
  std::mutex probe_mutex_;
  std::unique_ptr<pqxx::connection> probe_;  // ping()'s own connection, opened when needed
};

}  // namespace rally::common

#include "services/common/pg_pool_inl.h"
