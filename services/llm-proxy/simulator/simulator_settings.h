// Everything the LLM simulator can be told, with defaults, read and validated once at start.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "services/common/config.h"
#include "services/llm-proxy/simulator/reply_rules.h"

namespace rally::llm_simulator {

struct SimulatorSettings {
  // RALLY_SIMULATOR_ADDR; port 0 picks a free port (see RALLY_SIMULATOR_PORT_FILE).
  common::HostPort listen{"127.0.0.1", 50080};
  int threads = 1;  // RALLY_SIMULATOR_THREADS
  // RALLY_SIMULATOR_API_KEY: when set, the only key accepted; when empty, any non-empty key is.
  std::string api_key;
  std::chrono::milliseconds ttft{50};  // RALLY_SIMULATOR_TTFT: time to the first token
  double tokens_per_second = 200;      // RALLY_SIMULATOR_TOKENS_PER_SECOND; 0 sends tokens unpaced
  // RALLY_SIMULATOR_MODELS (comma-separated): when set, the only models served and listed; when empty,
  // any model name is served and /v1/models lists a built-in few.
  std::vector<std::string> models;
  ReplyRules rules;  // loaded from the JSON file named by RALLY_SIMULATOR_RULES
  // RALLY_SIMULATOR_MODELS_DEV_FILE: the document GET /api.json serves (read on every request, so tests
  // may rewrite it); when empty, /api.json is a 404.
  std::string models_dev_file;
  // RALLY_SIMULATOR_TLS_CERT / RALLY_SIMULATOR_TLS_KEY: PEM contents (chain, key); when set the listener
  // speaks TLS only.
  std::string tls_certificate_chain_pem;
  std::string tls_private_key_pem;
  std::string port_file;                              // RALLY_SIMULATOR_PORT_FILE
  std::uint64_t body_limit = std::uint64_t{8} << 20;  // RALLY_SIMULATOR_BODY_LIMIT
  // RALLY_SIMULATOR_IO_TIMEOUT: the longest a client may take to send a request (head and body), sit idle
  // on a keep-alive connection, or leave one write unread.
  std::chrono::milliseconds io_timeout{30000};
  std::size_t request_log_entries = 10000;  // RALLY_SIMULATOR_REQUEST_LOG_SIZE
  std::size_t request_log_bytes = std::size_t{64} << 20;
  // RALLY_SIMULATOR_SHUTDOWN_DRAIN: after SIGTERM, how long exchanges in progress may continue.
  std::chrono::milliseconds shutdown_drain{1000};

  bool tls() const { return !tls_certificate_chain_pem.empty(); }

  // Throws common::ConfigError naming the key for a bad value, an unreadable file, a rules file that does
  // not validate, or a certificate and key that do not load or do not belong together.
  static SimulatorSettings from(const common::ConfigSource& config);
};

}  // namespace rally::llm_simulator
