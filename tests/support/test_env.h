// Where the throwaway servers of `./rally test` are, and scratch databases on them.
#pragma once

#include <string>

#include "services/common/config.h"

namespace rally::testing {

// RALLY_TEST_PG_URL: a superuser connection URI to the throwaway PostgreSQL. Fails the test when unset.
std::string postgres_url();
// RALLY_TEST_REDIS_ADDR: the throwaway Redis. Fails the test when unset.
common::HostPort redis_address();

// A freshly created, uniquely named database on the throwaway server, dropped when destroyed.
class ScratchDatabase {
 public:
  ScratchDatabase();
  ~ScratchDatabase();
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  const std::string& name() const { return name_; }
  // Connection URI of this database.
  const std::string& url() const { return url_; }

 private:
  std::string name_;
  std::string url_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

}  // namespace rally::testing
