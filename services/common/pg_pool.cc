#include "services/common/pg_pool.h"

#include <poll.h>

#include <algorithm>
#include <cassert>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "services/common/config.h"

namespace rally::common {
namespace {

using std::chrono::milliseconds;

// libpq counts connect_timeout in whole seconds; round up so a configured timeout is never shortened.
long connect_timeout_seconds(milliseconds timeout) {
  const long seconds = static_cast<long>((timeout.count() + 999) / 1000);
  return seconds < 1 ? 1 : seconds;
}

// Adds `parameters` ("a=1&b=2") to either form libpq accepts. libpq keeps the last value of a repeated
// parameter, so these win over ones already in the URL.
std::string with_parameters(const std::string& conninfo, std::string_view parameters) {
  const std::string_view text = conninfo;
  if (text.starts_with("postgresql://") || text.starts_with("postgres://")) {
    if (text.find('?') == std::string_view::npos) {
      return conninfo + '?' + std::string(parameters);
    }
    if (text.ends_with('?') || text.ends_with('&')) {
      return conninfo + std::string(parameters);
    }
    return conninfo + '&' + std::string(parameters);
  }
  // The keyword=value form separates parameters with spaces.
  std::string spaced(parameters);
  std::replace(spaced.begin(), spaced.end(), '&', ' ');
  return conninfo.empty() ? spaced : conninfo + ' ' + spaced;
}

// An idle connection has no query outstanding, so the server has nothing to say on it: readable bytes (or
// EOF) mean it was closed, e.g. by a server restart, which libpq only notices at the next query. One
// zero-timeout poll() catches that before a caller's work fails on it.
bool usable(const pqxx::connection& connection) {
  if (!connection.is_open()) {
    return false;
  }
  pollfd socket{connection.sock(), POLLIN, 0};
  return ::poll(&socket, 1, 0) == 0;
}

// libpq messages span lines ("...failed: Connection refused\n\tIs the server running..."); these end up in
// log lines and error details, so they are made one line.
std::string one_line(std::string_view text) {
  std::string line;
  for (const char c : text) {
    const bool space = c == '\n' || c == '\t' || c == ' ';
    if (!space) {
      line += c;
    } else if (!line.empty() && line.back() != ' ') {
      line += ' ';
    }
  }
  if (!line.empty() && line.back() == ' ') {
    line.pop_back();
  }
  return line;
}

}  // namespace

PostgresSettings PostgresSettings::from(const ConfigSource& config) {
  const PostgresSettings defaults;
  PostgresSettings settings;
  settings.url = config.get_nonempty_string("RALLY_PG_URL", defaults.url);
  settings.pool_size = static_cast<std::size_t>(
      config.get_int("RALLY_PG_POOL_SIZE", static_cast<std::int64_t>(defaults.pool_size), 1, 256));
  settings.connect_timeout = config.get_duration("RALLY_PG_CONNECT_TIMEOUT", defaults.connect_timeout,
                                                 milliseconds(1000), milliseconds(60000));
  settings.acquire_timeout = config.get_duration("RALLY_PG_ACQUIRE_TIMEOUT", defaults.acquire_timeout,
                                                 milliseconds(10), milliseconds(60000));
  return settings;
}

PgPool::PgPool(PostgresSettings settings) : settings_(std::move(settings)) {
  if (settings_.pool_size == 0) {
    throw std::invalid_argument("PgPool: pool_size must be at least 1");
  }
  idle_.reserve(settings_.pool_size);
}

PgPool::~PgPool() {
  // A lease that outlives its pool would return its connection to freed memory.
  assert(idle_.size() == open_ && "a PgPool::Lease outlived its pool");
}

PgPool::Lease::Lease(PgPool* pool, std::unique_ptr<pqxx::connection> connection)
    : pool_(pool), connection_(std::move(connection)) {}

PgPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), connection_(std::move(other.connection_)), broken_(other.broken_) {}

PgPool::Lease::~Lease() {
  if (connection_) {
    pool_->release(std::move(connection_), broken_);
  }
}

PgPool::Lease PgPool::acquire() {
  // Declared before the lock so that dead connections are closed after it is released.
  std::vector<std::unique_ptr<pqxx::connection>> discarded;
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + settings_.acquire_timeout;
  while (true) {
    // Most recently used first: it is the likeliest to be warm, and the rest may be closed by the server.
    while (!idle_.empty()) {
      std::unique_ptr<pqxx::connection> connection = std::move(idle_.back());
      idle_.pop_back();
      if (usable(*connection)) {
        return Lease(this, std::move(connection));
      }
      discarded.push_back(std::move(connection));
      --open_;
    }
    if (open_ < settings_.pool_size) {
      break;
    }
    const bool available = released_.wait_until(
        lock, deadline, [this] { return !idle_.empty() || open_ < settings_.pool_size; });
    if (!available) {
      throw DatabaseUnavailable("no PostgreSQL connection free within " +
                                std::to_string(settings_.acquire_timeout.count()) + "ms (all " +
                                std::to_string(settings_.pool_size) + " in use)");
    }
  }

  // Reserve the slot, then connect without holding the lock: connecting takes a round trip or a timeout.
  ++open_;
  lock.unlock();
  try {
    return Lease(this, open_connection());
  } catch (...) {
    lock.lock();
    --open_;
    lock.unlock();
    released_.notify_one();
    throw;
  }
}

std::unique_ptr<pqxx::connection> PgPool::open_unpooled(std::string_view parameters) {
  return open_connection(parameters);
}

std::unique_ptr<pqxx::connection> PgPool::open_connection(std::string_view parameters) {
  std::string all = "connect_timeout=" + std::to_string(connect_timeout_seconds(settings_.connect_timeout));
  if (!parameters.empty()) all += "&" + std::string(parameters);
  try {
    return std::make_unique<pqxx::connection>(with_parameters(settings_.url, all));
  } catch (const pqxx::failure& e) {
    rethrow_as_unavailable(e);
  }
}

void PgPool::release(std::unique_ptr<pqxx::connection> connection, bool broken) {
  std::unique_ptr<pqxx::connection> discarded;
  {
    std::lock_guard lock(mutex_);
    if (broken || !connection->is_open()) {
      discarded = std::move(connection);
      --open_;
    } else {
      idle_.push_back(std::move(connection));
    }
  }
  released_.notify_one();
}

bool PgPool::ping() {
  // A connection of its own, outside the pool: with every pooled connection busy (a load peak), waiting
  // for one would make a healthy database look down and take the service out of rotation.
  std::lock_guard lock(probe_mutex_);
  try {
    if (!probe_ || !usable(*probe_)) {
      probe_.reset();
      probe_ = open_connection();
    }
    // One round trip: a multi-statement query runs as one implicit transaction, so SET LOCAL applies to
    // the SELECT only.
    pqxx::nontransaction probe(*probe_, "ping");
    probe.exec("SET LOCAL statement_timeout = '1s'; SELECT 1");
    return true;
  } catch (const std::exception&) {
    probe_.reset();
    return false;
  }
}

std::size_t PgPool::open_connections() const {
  std::lock_guard lock(mutex_);
  return open_;
}

void PgPool::rethrow_as_unavailable(const std::exception& e) {
  throw DatabaseUnavailable("PostgreSQL unavailable: " + one_line(e.what()));
}

}  // namespace rally::common
