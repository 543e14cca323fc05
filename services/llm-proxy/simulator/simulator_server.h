// The LLM simulator's HTTP/1.1 server (plain or TLS-only on one port): one session per connection on its
// own strand, every wait an Asio timer, so one thread holds hundreds of slow streams. While an exchange
// runs, a read stays pending on the socket, so a client that hangs up is noticed at once, even mid-stall.
// Beast and Asio stay in the .cc file.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "services/llm-proxy/simulator/simulator_settings.h"

namespace rally::llm_simulator {

class SimulatorEngine;

class SimulatorServer {
 public:
  // Binds and starts settings.threads I/O threads; throws std::runtime_error naming the address when it
  // cannot listen. Port 0 picks a free port (see port()).
  explicit SimulatorServer(const SimulatorSettings& settings);
  // Shuts down without a drain period if shutdown() was not called.
  ~SimulatorServer();
  SimulatorServer(const SimulatorServer&) = delete;
  SimulatorServer& operator=(const SimulatorServer&) = delete;

  std::uint16_t port() const;
  bool tls() const;
  // The request log and fault plan, for in-process callers; tests normally use the control API.
  SimulatorEngine& engine();

  // Stops accepting, lets exchanges in progress run for up to `drain` (idle keep-alive connections are
  // simply closed), then closes what is left and joins the I/O threads. Later calls return at once.
  void shutdown(std::chrono::milliseconds drain);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rally::llm_simulator
