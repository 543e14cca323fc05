// Numbered SQL migrations per service, embedded in the binary by rally_embed_migrations() (CMake) and
// applied at start-up. Each migration runs in its own transaction together with its schema_migrations row,
// so a failing one leaves nothing behind; an advisory lock serialises replicas starting at once.
#pragma once

#include <pqxx/connection>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rally::common {

struct Migration {
  int version;            // from the file name's number; unique and increasing
  std::string_view name;  // file name, e.g. "0001_create_votes.sql"
  std::string_view sql;   // the file's text, run as one multi-statement script
};

using Migrations = std::vector<Migration>;

class MigrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MigrationReport {
  std::vector<int> applied;  // versions applied by this call, in order
  int current_version = 0;   // highest version recorded after the call
};

// Creates schema_migrations(service, version, name, checksum, applied_at) when missing, then applies each
// migration of `service` that is not recorded yet, in version order. Throws MigrationError naming the
// migration when one fails (its transaction is rolled back), when versions are not unique and increasing,
// or when an already-applied migration's text changed (checksum mismatch).
MigrationReport apply_migrations(pqxx::connection& connection, std::string_view service,
                                 const Migrations& migrations);

}  // namespace rally::common
