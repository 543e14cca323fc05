// Settings for the gateway's tests: an in-process gateway whose every dependency (the four services, Redis,
// PostgreSQL) points at a port nothing listens on, and clients of the throwaway servers of `./rally test`.
#pragma once

#include <chrono>
#include <string>
#include <utility>

#include "gateway/gateway_settings.h"
#include "services/common/pg_pool.h"
#include "services/common/redis_client.h"
#include "tests/support/test_env.h"
#include "tests/unit/gateway/test_connection.h"

namespace rally::gateway::testing {

// Listens on a free port; tests point the dependencies they need at real servers.
inline GatewaySettings offline_gateway_settings() {
  using namespace std::chrono_literals;
  GatewaySettings settings;
  settings.http.listen = {"127.0.0.1", 0};
  settings.upstreams.llm_proxy = {"127.0.0.1", unused_port()};
  settings.upstreams.arena = {"127.0.0.1", unused_port()};
  settings.upstreams.scoring = {"127.0.0.1", unused_port()};
  settings.upstreams.critique = {"127.0.0.1", unused_port()};
  settings.redis.address = {"127.0.0.1", unused_port()};
  settings.postgres.url = "postgresql://rally@127.0.0.1:" + std::to_string(unused_port()) + "/rally";
  settings.ready_timeout = 500ms;
  settings.shutdown_drain = 2s;
  return settings;
}

// A small pool on `url` that gives up quickly.
inline common::PostgresSettings postgres_at(std::string url) {
  common::PostgresSettings settings;
  settings.url = std::move(url);
  settings.pool_size = 2;
  settings.connect_timeout = std::chrono::seconds(1);
  return settings;
}

// The throwaway Redis (RALLY_TEST_REDIS_ADDR).
inline common::RedisSettings test_redis() {
  common::RedisSettings settings;
  settings.address = rally::testing::redis_address();
  return settings;
}

}  // namespace rally::gateway::testing
