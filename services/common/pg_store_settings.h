// The settings every PostgreSQL store takes (pg_store.h runs its transactions with them). Light on purpose:
// stores' public headers include it without libpqxx.
#pragma once

#include <chrono>
#include <cstdint>

namespace rally::common::pg {

struct StoreSettings {
  // Tries per call when PostgreSQL aborts the transaction as a serialization failure or deadlock.
  std::uint32_t attempts = 5;
  // Limit of each statement (SET LOCAL statement_timeout), lock waits included.
  std::chrono::milliseconds statement_timeout{5000};
};

}  // namespace rally::common::pg
