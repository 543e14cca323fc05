#include "services/common/pg_store.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <stdexcept>

namespace rally::common::pg {
namespace {

// The first line of a server error: later lines may quote whole rows.
std::string first_line(std::string_view text) {
  return std::string(text.substr(0, text.find('\n')));
}

}  // namespace

StoreSettings validated(StoreSettings settings, std::string_view store) {
  if (settings.attempts < 1) {
    throw std::invalid_argument(std::string(store) + ": attempts must be at least 1");
  }
  if (settings.statement_timeout <= std::chrono::milliseconds(0)) {
    throw std::invalid_argument(std::string(store) + ": statement_timeout must be positive");
  }
  return settings;
}

std::string set_statement_timeout(std::chrono::milliseconds timeout) {
  return "SET LOCAL statement_timeout = " + std::to_string(timeout.count());
}

std::string number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

std::int64_t microseconds_since_epoch(std::chrono::system_clock::time_point time) {
  return std::chrono::floor<std::chrono::microseconds>(time.time_since_epoch()).count();
}

std::chrono::system_clock::time_point time_point_of(const pqxx::field& microseconds) {
  return std::chrono::system_clock::time_point(std::chrono::microseconds(microseconds.as<std::int64_t>()));
}

std::string timestamp(std::string_view parameter) {
  return "(timestamptz 'epoch' + " + std::string(parameter) + "::bigint * interval '1 microsecond')";
}

std::string microseconds_of(std::string_view column) {
  return "(extract(epoch FROM " + std::string(column) + ") * 1000000)::bigint";
}

Error database_error(std::string_view store, std::string_view what, const std::exception& e) {
  spdlog::error("{}: {}: {}", store, what, first_line(e.what()));
  return Error(ErrorCode::kDatabaseError, std::string(what) + " failed");
}

void log_retry(std::string_view store, std::string_view what, const std::exception& e) {
  spdlog::debug("{}: retrying {} after {}", store, what, first_line(e.what()));
}

}  // namespace rally::common::pg
