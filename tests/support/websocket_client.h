// A blocking WebSocket client for tests (Beast stays in the .cc): connects to 127.0.0.1:port, sends text
// and reads messages with a timeout.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "tests/support/http_client.h"

namespace rally::testing {

class WebSocketClient {
 public:
  using HeaderMap = std::map<std::string, std::string>;

  // Connects and completes the handshake for `target` ("/api/v1/ws/leaderboard") with `headers` added to
  // the upgrade request; throws std::runtime_error (with the server's status and body) when either fails.
  WebSocketClient(int port, const std::string& target, const HeaderMap& headers = {});

  // Tries the handshake and closes at once: the server's answer, 101 or a refusal with its body.
  static HttpResult try_handshake(int port, const std::string& target, const HeaderMap& headers = {});

  // The server's 101 answer.
  const HttpResult& handshake() const;
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
