#include "services/common/pg_advisory_lock.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <pqxx/connection>
#include <pqxx/nontransaction>
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

}  // namespace rally::common
