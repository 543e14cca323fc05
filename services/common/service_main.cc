#include "services/common/service_main.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/support/server_interceptor.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <optional>
#include <string_view>

#include "services/common/dependency_monitor.h"
#include "services/common/logging.h"
#include "services/common/metrics.h"
#include "services/common/metrics_http_server.h"
#include "services/common/pg_pool.h"
#include "services/common/redis_client.h"
#include "services/common/rpc_observer.h"
#include "services/common/runtime_tuning.h"
#include "services/common/shutdown.h"

extern char** environ;

namespace rally::common {
namespace {

void print_usage(const ServiceDefinition& service) {
  std::printf(
      "usage: rally-%s [--config=FILE] [--log-format=human|json] [--log-level=LEVEL]\n"
      "Serves rally.v1 gRPC on RALLY_%s_ADDR (default %s) and Prometheus metrics on RALLY_%s_METRICS_ADDR\n"
      "(default %s). Every setting is listed in docs/configuration.md.\n",
      service.name.c_str(), service.config_prefix.c_str(), service.default_listen.to_string().c_str(),
      service.config_prefix.c_str(), service.default_metrics_listen.to_string().c_str());
}

bool wants_help(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return true;
  }
  return false;
}

// Everything a running service owns, destroyed in reverse order of construction.
class ServiceRuntime {
 public:
  ServiceRuntime(const ServiceDefinition& service, const ConfigSource& config)
      : service_(service),
        settings_(ServiceSettings::from(config, service)),
        postgres_(PostgresSettings::from(config)),
        redis_(RedisSettings::from(config)),
        dependency_up_(metrics::Registry::global().gauge(
            "rally_dependency_up", "1 when the service can reach the dependency, else 0", {"dependency"})),
        serving_(metrics::Registry::global().gauge("rally_serving",
                                                   "1 while the service reports SERVING to health checks")) {
    ServiceContext context{config, postgres_, redis_,      metrics::Registry::global(),
                           owned_, on_drain_, on_migrated_};
    handlers_ = service.make_services(context);
    for (const std::string& key : config.unread_file_keys()) {
      spdlog::warn("config file key {} is not used by {}", key, service.name);
    }
  }

  ~ServiceRuntime() {
    monitor_.reset();
    server_.reset();
    metrics_server_.reset();
    handlers_.clear();
    while (!owned_.empty()) owned_.pop_back();  // reverse order of creation
  }
  ServiceRuntime(const ServiceRuntime&) = delete;
  ServiceRuntime& operator=(const ServiceRuntime&) = delete;

  // Returns the process exit code.
  int run() {
    metrics_server_.emplace(settings_.metrics_listen, metrics::Registry::global());

    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    int bound_port = 0;
    builder.AddListeningPort(settings_.listen.to_string(), grpc::InsecureServerCredentials(), &bound_port);
    if (settings_.max_connection_age.count() > 0) {
      builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                                 static_cast<int>(settings_.max_connection_age.count()));
    }
    for (const auto& handler : handlers_) builder.RegisterService(handler.get());
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(make_rpc_observer_factory());
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
    server_ = builder.BuildAndStart();
    if (!server_ || bound_port == 0) {
      spdlog::critical("cannot listen for gRPC on {}", settings_.listen.to_string());
      return 1;
    }
    set_serving(false);  // until the first dependency round (and migrations) succeed

    monitor_.emplace(
        std::vector<DependencyMonitor::Check>{
            {"postgres", [this] { return postgres_ready(); }},
            {"redis", [this] { return redis_.ping(); }},
        },
        settings_.health_check_interval,
        [this](const std::vector<std::string>& failing) { on_dependencies_changed(failing); });

    spdlog::info("{} serving gRPC on {} (metrics on {}:{})", service_.name, settings_.listen.to_string(),
                 settings_.metrics_listen.host, metrics_server_->port());

    const int signal_number = wait_for_shutdown_signal();
    if (fatal_.load()) {
      spdlog::critical("{} stopping after a fatal error", service_.name);
    } else {
      spdlog::info("{} received {}, draining for up to {} ms", service_.name,
                   signal_number == SIGTERM ? "SIGTERM" : "SIGINT", settings_.drain_timeout.count());
    }
    monitor_.reset();
    for (const std::function<void()>& hook : on_drain_) hook();
    // Load balancers see NOT_SERVING at once; calls still in flight get the drain period, then are cancelled.
    server_->GetHealthCheckService()->Shutdown();
    server_->Shutdown(std::chrono::system_clock::now() + settings_.drain_timeout);
    server_->Wait();
    spdlog::info("{} stopped", service_.name);
    return fatal_.load() ? 1 : 0;
  }

 private:
  // Migrations run on the first contact with PostgreSQL, so a service started before its database comes up
  // waits (NOT_SERVING) instead of exiting. A migration that fails on a reachable server is a defect that
  // retrying will not fix: the service stops with exit code 1, loudly.
  bool postgres_ready() {
    if (!postgres_.ping()) return false;
    if (migrated_) return true;
    try {
      const MigrationReport report = postgres_.with_connection([this](pqxx::connection& connection) {
        return apply_migrations(connection, service_.name, *service_.migrations);
      });
      spdlog::info("{} schema at version {} ({} migration(s) applied now)", service_.name,
                   report.current_version, report.applied.size());
      migrated_ = true;
      for (const std::function<void()>& hook : on_migrated_) hook();
      return true;
    } catch (const DatabaseUnavailable& e) {
      spdlog::warn("migrations postponed: {}", e.what());
      return false;
    } catch (const std::exception& e) {
      spdlog::critical("migrations failed: {}", e.what());
      fatal_.store(true);
      ::kill(::getpid(), SIGTERM);
      return false;
    }
  }

  void on_dependencies_changed(const std::vector<std::string>& failing) {
    for (const char* name : {"postgres", "redis"}) {
      const bool down = std::find(failing.begin(), failing.end(), name) != failing.end();
      dependency_up_.labels({name}).set(down ? 0 : 1);
    }
    set_serving(failing.empty());
  }

  void set_serving(bool serving) {
    grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
    health->SetServingStatus(serving);
    for (const std::string& name : service_.grpc_service_names) health->SetServingStatus(name, serving);
    serving_.labels().set(serving ? 1 : 0);
    spdlog::info("{} is {}", service_.name, serving ? "SERVING" : "NOT_SERVING");
  }

  const ServiceDefinition& service_;
  ServiceSettings settings_;
  PgPool postgres_;
  RedisClient redis_;
  metrics::Family<metrics::Gauge>& dependency_up_;
  metrics::Family<metrics::Gauge>& serving_;
  std::vector<std::shared_ptr<void>> owned_;
  std::vector<std::function<void()>> on_drain_;
  std::vector<std::function<void()>> on_migrated_;
  std::vector<std::unique_ptr<grpc::Service>> handlers_;
  std::optional<metrics::MetricsHttpServer> metrics_server_;
  std::unique_ptr<grpc::Server> server_;
  std::optional<DependencyMonitor> monitor_;
  bool migrated_ = false;  // only touched on the monitor's thread
  std::atomic<bool> fatal_{false};
};

}  // namespace

ServiceSettings ServiceSettings::from(const ConfigSource& config, const ServiceDefinition& service) {
  ServiceSettings settings;
  const std::string prefix = "RALLY_" + service.config_prefix;
  settings.listen = config.get_host_port(prefix + "_ADDR", service.default_listen.to_string());
  settings.metrics_listen =
      config.get_host_port(prefix + "_METRICS_ADDR", service.default_metrics_listen.to_string());
  using std::chrono::milliseconds;
  settings.drain_timeout = config.get_duration("RALLY_SHUTDOWN_DRAIN", settings.drain_timeout,
                                               milliseconds(0), milliseconds(300000));
  settings.health_check_interval = config.get_duration(
      "RALLY_HEALTH_CHECK_INTERVAL", settings.health_check_interval, milliseconds(100), milliseconds(60000));
  settings.max_connection_age =
      config.get_duration("RALLY_GRPC_MAX_CONNECTION_AGE", settings.max_connection_age, milliseconds(0),
                          milliseconds(24LL * 3600 * 1000));
  return settings;
}

int run_service(int argc, char** argv, const ServiceDefinition& service) {
  if (wants_help(argc, argv)) {
    print_usage(service);
    return 0;
  }
  block_shutdown_signals();  // before any thread exists, so every thread inherits the mask
  tune_runtime();
  std::optional<ConfigSource> config;
  std::unique_ptr<ServiceRuntime> runtime;
  try {
    config.emplace(ConfigSource::from_process(argc, argv, environ));
    init_logging(service.name, LogSettings::from(*config));
    runtime = std::make_unique<ServiceRuntime>(service, *config);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "rally-%s: configuration error: %s\n", service.name.c_str(), e.what());
    return 2;
  }
  try {
    return runtime->run();
  } catch (const std::exception& e) {
    spdlog::critical("{} failed: {}", service.name, e.what());
    return 1;
  }
}

}  // namespace rally::common
