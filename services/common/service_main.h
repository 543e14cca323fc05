// The shared main() of every gRPC service: configuration, logging, PostgreSQL pool and migrations, Redis,
// health (NOT_SERVING while a dependency is down), reflection, metrics endpoint and graceful shutdown.
// A service's main.cc only describes itself and builds its handlers.
#pragma once

#include <grpcpp/impl/codegen/service_type.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "services/common/config.h"
#include "services/common/migrations.h"

namespace rally::common {

class PgPool;
class RedisClient;
namespace metrics {
class Registry;
}

// What a service's handlers may use; everything outlives the handlers.
struct ServiceContext {
  const ConfigSource& config;
  PgPool& postgres;
  RedisClient& redis;
  metrics::Registry& metrics;
  // What own() keeps; destroyed last owned first, after the handlers and before PostgreSQL and Redis.
  std::vector<std::shared_ptr<void>>& owned;
  // Run when the drain starts, before the server stops taking calls: a service ends its open-ended
  // streams here, so they do not hold the stop for the whole drain period.
  std::vector<std::function<void()>>& on_drain;
  // Run once, on the health monitor's thread, right after the service's migrations were applied (at the
  // first contact with PostgreSQL, which may come long after start): start-up work that reads the
  // service's own tables goes here, not in make_services.
  std::vector<std::function<void()>>& on_migrated;

  // Keeps `resource` (an engine, a store, a client the handlers use by reference) alive as long as the
  // handlers need it, and returns it.
  template <typename T>
  T& own(std::unique_ptr<T> resource) {
    T& kept = *resource;
    owned.push_back(std::shared_ptr<T>(std::move(resource)));
    return kept;
  }
};

struct ServiceDefinition {
  std::string name;           // "arena": logs, metrics labels, schema_migrations key
  std::string config_prefix;  // "ARENA": RALLY_ARENA_ADDR, RALLY_ARENA_METRICS_ADDR
  HostPort default_listen;
  HostPort default_metrics_listen;
  const Migrations* migrations = nullptr;
  // Fully qualified gRPC service names reported by the health service ("rally.v1.Arena").
  std::vector<std::string> grpc_service_names;
  // Builds the gRPC services once configuration is loaded; config errors throw ConfigError.
  std::function<std::vector<std::unique_ptr<grpc::Service>>(ServiceContext&)> make_services;
};

// Settings every service shares, read with the service's prefix.
struct ServiceSettings {
  HostPort listen;
  HostPort metrics_listen;
  // In-flight calls get this long after SIGTERM before they are cancelled. RALLY_SHUTDOWN_DRAIN.
  std::chrono::milliseconds drain_timeout{10000};
  // How often PostgreSQL and Redis are probed. RALLY_HEALTH_CHECK_INTERVAL.
  std::chrono::milliseconds health_check_interval{1000};
  // Connections older than this are ended gracefully (GOAWAY; calls in flight finish), so clients resolve
  // the service's name again and spread over replicas added since. 0: never. RALLY_GRPC_MAX_CONNECTION_AGE.
  std::chrono::milliseconds max_connection_age{std::chrono::minutes(5)};

  static ServiceSettings from(const ConfigSource& config, const ServiceDefinition& service);
};

// Runs the service until SIGINT/SIGTERM. Returns the process exit code: 0 after a clean shutdown, 2 for a
// configuration error (printed with its key), 1 when the server cannot start.
int run_service(int argc, char** argv, const ServiceDefinition& service);

}  // namespace rally::common
