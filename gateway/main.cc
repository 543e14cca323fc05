// rally-gateway: reads configuration, wires the gateway and serves until SIGTERM/SIGINT.
// Exit codes: 0 after a clean shutdown, 2 for a bad configuration value (named on stderr), 1 when the
// gateway cannot start.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <optional>

#include "gateway/gateway.h"
#include "gateway/gateway_settings.h"
#include "services/common/config.h"
#include "services/common/logging.h"
#include "services/common/metrics.h"
#include "services/common/runtime_tuning.h"
#include "services/common/shutdown.h"

int main(int argc, char** argv) {
  using namespace rally;
  // Before any thread exists, so every thread inherits the mask and the signal reaches only sigwait.
  common::block_shutdown_signals();
  common::tune_runtime();

  std::optional<gateway::GatewaySettings> settings;
  try {
    const auto config = common::ConfigSource::from_process(argc, argv, environ);
    common::init_logging("gateway", common::LogSettings::from(config));
    settings = gateway::GatewaySettings::from(config);
    for (const auto& key : config.unread_file_keys()) {
      spdlog::warn("unknown configuration key {} (a typo?)", key);
    }
  } catch (const common::ConfigError& e) {
    std::fprintf(stderr, "rally-gateway: invalid configuration: %s\n", e.what());
    return 2;
  }

  try {
    gateway::Gateway gateway(*settings, common::metrics::Registry::global());
    spdlog::info("listening on {}:{} with {} I/O threads", settings->http.listen.host, gateway.port(),
                 settings->http.io_threads);

    const int signal = common::wait_for_shutdown_signal();
    spdlog::info("signal {} received: draining for up to {} ms", signal, settings->shutdown_drain.count());
    gateway.shutdown();
    spdlog::info("stopped");
    return 0;
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }
}
