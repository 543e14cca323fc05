// Session-level PostgreSQL advisory locks: how replicas agree that one of them alone does some work (the
// oracle worker, the scheduled recalculation) or works on one thing (a batch). And transaction-level ones
// (PgAdvisoryMutex): a short critical section that one process at a time runs (sending from an account
// whose nonces every replica shares).
//
// The lock lives as long as the session that took it, so it is held on a connection of its own, outside
// the pool. A holder that dies (a crash, SIGKILL, a lost node) loses its session and so the lock, and
// another replica takes it at its next try. The session asks the server for TCP keepalives, so a holder
// whose machine vanished without closing the connection is noticed in about half a minute rather than
// the kernel's two hours.
//
// A lock is not a fence: between a holder losing its session and noticing it at its next try_hold(), the
// work it has in hand still runs while another replica may already hold the lock. Work guarded this way
// must stay safe when done twice (the oracle contract refuses a second answer; a batch chunk commits
// once); the lock keeps it from being done twice in the normal case, which is what costs money.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <string_view>

#include "services/common/errors.h"

namespace rally::common {

class PgPool;

// The bigint key of an advisory lock. Advisory keys are one namespace shared by everything on the
// cluster; hashing a prefixed name (SHA-256, first 8 bytes) keeps ours stable and unlikely to collide.
std::int64_t advisory_lock_key(std::string_view name);

enum class LeaseState {
  kHeld,           // by this process, now
  kHeldElsewhere,  // by another process
  kUnavailable,    // unknown: the store (PostgreSQL) cannot be reached
};

// Something only one process at a time may hold; try_hold() never waits for another holder.
class ExclusiveLease {
 public:
  virtual ~ExclusiveLease() = default;
  // Takes the lease when free, or confirms one already held is still held.
  virtual LeaseState try_hold() = 0;
  // Gives the lease up (nothing when not held).
  virtual void release() = 0;
};

class PgAdvisoryLock final : public ExclusiveLease {
 public:
  // `name` is hashed with advisory_lock_key("rally.lock/" + name). The pool must outlive the lock; only
  // its settings and open_unpooled() are used.
  PgAdvisoryLock(PgPool& pool, std::string name);
  ~PgAdvisoryLock() override;  // releases
  PgAdvisoryLock(const PgAdvisoryLock&) = delete;
  PgAdvisoryLock& operator=(const PgAdvisoryLock&) = delete;

  LeaseState try_hold() override;
  void release() override;

  const std::string& name() const { return name_; }
  std::int64_t key() const { return key_; }

 private:
  PgPool& pool_;
  const std::string name_;
  const std::int64_t key_;
  std::mutex mutex_;
  std::unique_ptr<pqxx::connection> session_;  // set while the lock is held
};

// A mutex among processes for a critical section of a few milliseconds.
class CrossProcessMutex {
 public:
  virtual ~CrossProcessMutex() = default;
  // Runs `critical` while no other process runs a critical section of the same mutex. When the mutex
  // cannot be had, returns why and does not run it. Once `critical` has run the answer is nullopt, even if
  // giving the mutex back failed: what it did is done.
  virtual std::optional<Error> run_exclusive(const std::function<void()>& critical) = 0;
};

// pg_advisory_xact_lock in a transaction on one of the pool's connections: the lock ends with the
// transaction, so a process that dies inside the critical section frees it with its session. Waiting is
// bounded by `wait_limit` (lock_timeout): a holder that hangs costs the others an error, not a hang.
// Errors: kServiceUnavailable when the wait ran out, kDatabaseError when PostgreSQL cannot be reached.
class PgAdvisoryMutex final : public CrossProcessMutex {
 public:
  // `name` is hashed with advisory_lock_key("rally.mutex/" + name). The pool must outlive the mutex.
  PgAdvisoryMutex(PgPool& pool, std::string name, std::chrono::milliseconds wait_limit);

  std::optional<Error> run_exclusive(const std::function<void()>& critical) override;

  const std::string& name() const { return name_; }
  std::int64_t key() const { return key_; }

 private:
  PgPool& pool_;
  const std::string name_;
  const std::int64_t key_;
  const std::chrono::milliseconds wait_limit_;
};

}  // namespace rally::common
