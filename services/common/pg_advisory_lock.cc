#include "services/common/pg_advisory_lock.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <utility>

#include "services/common/digest.h"
#include "services/common/pg_pool.h"

namespace rally::common {
namespace {

// Client side: a query on a connection whose server vanished fails after 15 s instead of hanging, and
// probes start after 10 s idle. Server side (SET below): the server drops a session whose client vanished
// after 10 + 3 x 5 s, which frees the lock for the other replicas.
constexpr std::string_view kSessionParameters =
    "keepalives=1&keepalives_idle=10&keepalives_interval=5&keepalives_count=3&tcp_user_timeout=15000&"
    "application_name=rally-lock";

}  // namespace

std::int64_t advisory_lock_key(std::string_view name) {
  const auto digest = sha256(name);
  std::uint64_t key = 0;
  for (int i = 0; i < 8; ++i) {
    key = (key << 8) | digest[i];
  }
  return static_cast<std::int64_t>(key);
}

PgAdvisoryLock::PgAdvisoryLock(PgPool& pool, std::string name)
    : pool_(pool), name_(std::move(name)), key_(advisory_lock_key("rally.lock/" + name_)) {}

PgAdvisoryLock::~PgAdvisoryLock() {
  release();
}

LeaseState PgAdvisoryLock::try_hold() {
  std::lock_guard lock(mutex_);
  try {
    if (session_) {
      // The session alive means the lock is still ours: only this session could have unlocked it.
      pqxx::nontransaction(*session_, "lock-check").exec("SELECT 1");
      return LeaseState::kHeld;
    }
    std::unique_ptr<pqxx::connection> session = pool_.open_unpooled(kSessionParameters);
    pqxx::nontransaction work(*session, "lock-take");
    work.exec("SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3");
    if (!work.exec_params1("SELECT pg_try_advisory_lock($1)", key_)[0].as<bool>()) {
      return LeaseState::kHeldElsewhere;
    }
    session_ = std::move(session);
    spdlog::info("lock {}: held by this process", name_);
    return LeaseState::kHeld;
  } catch (const std::exception& e) {
    if (session_) spdlog::warn("lock {}: lost with its PostgreSQL session: {}", name_, e.what());
    session_.reset();
    return LeaseState::kUnavailable;
  }
}

void PgAdvisoryLock::release() {
  std::lock_guard lock(mutex_);
  if (!session_) return;
  // Closing the session is what releases the lock; unlocking first only says so sooner to a server that
  // would notice the closed socket anyway.
  try {
    pqxx::nontransaction(*session_, "lock-release").exec_params("SELECT pg_advisory_unlock($1)", key_);
  } catch (const std::exception&) {
  }
  session_.reset();
  spdlog::info("lock {}: released", name_);
}

PgAdvisoryMutex::PgAdvisoryMutex(PgPool& pool, std::string name, std::chrono::milliseconds wait_limit)
    : pool_(pool),
      name_(std::move(name)),
      key_(advisory_lock_key("rally.mutex/" + name_)),
      wait_limit_(wait_limit) {}

std::optional<Error> PgAdvisoryMutex::run_exclusive(const std::function<void()>& critical) {
  std::optional<PgPool::Lease> connection;
  std::optional<pqxx::work> tx;
  try {
    connection.emplace(pool_.acquire());
    tx.emplace(**connection, "mutex");
    tx->exec("SET LOCAL lock_timeout = " + std::to_string(std::max<std::int64_t>(1, wait_limit_.count())));
    tx->exec_params("SELECT pg_advisory_xact_lock($1)", key_);
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "55P03") {  // lock_not_available: lock_timeout ran out
      return Error(ErrorCode::kServiceUnavailable,
                   "Another replica held the lock " + name_ + " for longer than " +
                       std::to_string(wait_limit_.count()) + " ms; retry shortly",
                   {{"lock", name_}});
    }
    return Error(ErrorCode::kDatabaseError, "Could not take the lock " + name_ + ": " + e.what());
  } catch (const pqxx::broken_connection& e) {
    if (connection) connection->mark_broken();
    return Error(ErrorCode::kDatabaseError, "Could not take the lock " + name_ + ": " + e.what());
  } catch (const DatabaseUnavailable& e) {
    return Error(ErrorCode::kDatabaseError, "Could not take the lock " + name_ + ": " + e.what());
  }
  critical();
  try {
    tx->commit();
  } catch (const std::exception& e) {
    // The session is gone or going, and the lock with it.
    connection->mark_broken();
    spdlog::warn("lock {}: giving it back failed: {}", name_, e.what());
  }
  return std::nullopt;
}

}  // namespace rally::common
