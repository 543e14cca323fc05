// Template part of pg_pool.h.
#pragma once

#include <pqxx/except>

namespace rally::common {

template <typename Fn>
auto PgPool::with_connection(Fn&& fn) -> decltype(fn(std::declval<pqxx::connection&>())) {
  Lease lease = acquire();
  try {
    return fn(*lease);
  } catch (const pqxx::broken_connection& e) {
    lease.mark_broken();
    rethrow_as_unavailable(e);
  }
}

}  // namespace rally::common
