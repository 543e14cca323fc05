// rally-llm-simulator: reads configuration, starts the simulator's HTTP server and runs it until SIGTERM
// or SIGINT (docs/llm-simulator.md). Exit codes: 0 after a clean stop, 2 for a configuration error (the
// message names the key), 1 when the server cannot start.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "services/common/config.h"
#include "services/common/logging.h"
#include "services/common/runtime_tuning.h"
#include "services/common/shutdown.h"
#include "services/llm-proxy/simulator/simulator_server.h"
#include "services/llm-proxy/simulator/simulator_settings.h"

namespace {

using rally::common::ConfigError;

void print_usage() {
  std::printf(
      "usage: rally-llm-simulator [--config=FILE] [--log-format=human|json] [--log-level=LEVEL]\n"
      "Serves the OpenAI Chat Completions and Anthropic Messages APIs on RALLY_SIMULATOR_ADDR\n"
      "(default 127.0.0.1:50080) with deterministic replies. Settings, endpoints, faults and rules:\n"
      "docs/llm-simulator.md.\n");
}

bool wants_help(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return true;
  }
  return false;
}

// Written whole or not at all (a temporary file renamed into place), so a test polling for the file
// never reads half a number.
void write_port_file(const std::string& path, std::uint16_t port) {
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << port << '\n';
    out.close();
    if (!out) throw ConfigError("RALLY_SIMULATOR_PORT_FILE", "cannot write " + temporary);
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::filesystem::remove(temporary, ec);
    throw ConfigError("RALLY_SIMULATOR_PORT_FILE", "cannot create " + path);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace rally;
  if (wants_help(argc, argv)) {
    print_usage();
    return 0;
  }
  common::block_shutdown_signals();  // before any thread exists, so every thread inherits the mask
  common::tune_runtime();

  std::optional<llm_simulator::SimulatorSettings> settings;
  try {
    const common::ConfigSource config = common::ConfigSource::from_process(argc, argv, environ);
    common::init_logging("llm-simulator", common::LogSettings::from(config));
    settings.emplace(llm_simulator::SimulatorSettings::from(config));
    for (const std::string& key : config.unread_file_keys()) {
      spdlog::warn("config file key {} is not used by the llm-simulator", key);
    }
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "rally-llm-simulator: configuration error: %s\n", e.what());
    return 2;
  }

  std::optional<llm_simulator::SimulatorServer> server;
  try {
    server.emplace(*settings);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
  spdlog::info(
      "llm-simulator listening on {}://{}:{} ({} I/O thread(s); TTFT {} ms, {} tokens/s; {} rule(s); "
      "{}; models.dev {})",
      server->tls() ? "https" : "http", settings->listen.host, server->port(), settings->threads,
      settings->ttft.count(), settings->tokens_per_second, settings->rules.rules().size(),
      settings->models.empty() ? "any model" : std::to_string(settings->models.size()) + " model(s)",
      settings->models_dev_file.empty() ? "off" : "from " + settings->models_dev_file);
  if (!settings->port_file.empty()) {
    try {
      write_port_file(settings->port_file, server->port());
    } catch (const ConfigError& e) {
      std::fprintf(stderr, "rally-llm-simulator: configuration error: %s\n", e.what());
      return 2;
    }
  }

  const int signal_number = common::wait_for_shutdown_signal();
  spdlog::info("llm-simulator received {}, draining for up to {} ms",
               signal_number == SIGTERM ? "SIGTERM" : "SIGINT", settings->shutdown_drain.count());
  server->shutdown(settings->shutdown_drain);
  spdlog::info("llm-simulator stopped");
  return 0;
}
