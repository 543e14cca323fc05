// Starting the real LLM simulator in integration tests: it picks a free port itself and writes it to a
// port file (no race between choosing a port and binding it), and replies unpaced. Included by tests that
// define RALLY_LLM_SIMULATOR_BIN.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "tests/support/process.h"

namespace rally::testing {

// The simulator's settings for a test, plus `extra` (which wins).
inline std::map<std::string, std::string> simulator_env(
    const std::string& port_file, const std::map<std::string, std::string>& extra = {}) {
  std::map<std::string, std::string> env{
      {"RALLY_SIMULATOR_ADDR", "127.0.0.1:0"},
      {"RALLY_SIMULATOR_PORT_FILE", port_file},
      {"RALLY_SIMULATOR_TTFT", "0ms"},
      {"RALLY_SIMULATOR_TOKENS_PER_SECOND", "0"},
  };
  for (const auto& [key, value] : extra) env[key] = value;
  return env;
}

// Waits until the simulator started with simulator_env(port_file) listens, and returns its port.
inline int wait_for_simulator_port(ChildProcess& simulator, const std::string& port_file) {
  using namespace std::chrono_literals;
  const bool listening =
      wait_until([&] { return std::filesystem::exists(port_file) || !simulator.running(); }, 10s);
  INFO(simulator.read_log());
  REQUIRE(listening);
  REQUIRE(simulator.running());
  std::ifstream in(port_file);
  int port = 0;
  in >> port;
  REQUIRE(port > 0);
  return port;
}

}  // namespace rally::testing
