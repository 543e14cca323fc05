// A blocking WebSocket client for tests (Beast stays in the .cc): connects to 127.0.0.1:port, sends text
// and reads messages with a timeout.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace rally::testing {

class WebSocketClient {
 public:
  // Connects and completes the handshake for `target` ("/api/v1/ws/leaderboard"); throws std::runtime_error
  // when either fails.
  WebSocketClient(int port, const std::string& target);
  ~WebSocketClient();
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  // The next text message, or nullopt when none arrived within `timeout` or the connection ended (after a
  // timeout the connection is closed: reads cannot resume mid-frame).
  std::optional<std::string> read(std::chrono::milliseconds timeout);
  void send(const std::string& text);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rally::testing
