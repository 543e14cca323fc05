// rally-admin: administration from the command line, straight against PostgreSQL (what `./rally token`
// runs). Exit codes: 0 done, 1 the store refused or failed, 2 bad usage or configuration.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/admin/token_command.h"
#include "gateway/edge/token_cache.h"
#include "gateway/edge/token_store.h"
#include "services/common/config.h"
#include "services/common/logging.h"
#include "services/common/pg_pool.h"
#include "services/common/redis_client.h"

int main(int argc, char** argv) {
  using namespace rally;
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << gateway::admin::token_usage();
    return gateway::admin::kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << gateway::admin::token_usage();
    return gateway::admin::kExitOk;
  }
  if (args[0] != "token") {
    std::cerr << "rally-admin: unknown command " << args[0] << "\n\n" << gateway::admin::token_usage();
    return gateway::admin::kExitUsage;
  }

  common::PostgresSettings postgres;
  common::RedisSettings redis;
  try {
    // Only the environment (and RALLY_CONFIG_FILE): the arguments are the command's.
    const auto config = common::ConfigSource::from_process(1, argv, environ);
    common::LogSettings log = common::LogSettings::from(config);
    if (!config.has("RALLY_LOG_LEVEL")) log.level = "warn";  // a command's output, not a service's log
    common::init_logging("rally-admin", log);
    postgres = common::PostgresSettings::from(config);
    redis = common::RedisSettings::from(config);
  } catch (const common::ConfigError& e) {
    std::cerr << "rally-admin: invalid configuration: " << e.what() << '\n';
    return gateway::admin::kExitUsage;
  }

  common::PgPool pool(postgres);
  gateway::edge::TokenStore store(pool, {});
  common::RedisClient publisher(redis);
  const auto announce = [&publisher](std::string_view op, std::string_view id) {
    publisher.publish(gateway::edge::kTokenEventsChannel, gateway::edge::token_event_message(op, id));
  };
  return gateway::admin::run_token_command({args.begin() + 1, args.end()}, store, announce, std::cout,
                                           std::cerr);
}
