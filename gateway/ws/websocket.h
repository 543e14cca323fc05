// The contract between the WebSocket server and WebSocket routes, free of Beast and Asio.
//
// A route registers a factory by path (Router::add_websocket). When an upgrade request for that path
// arrives on the HTTP port, the factory makes one handler for the connection; after the handshake the
// handler gets the channel to send on and then every message the client sends.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "gateway/http/request.h"

namespace rally::gateway::ws {

// An open WebSocket connection as handlers and fan-out code see it. It does not keep the connection open:
// holding it (on any thread, even after the server stopped) is safe, and send() returns false once the
// connection has ended. Thread-safe: send() and close() may be called from any thread.
class WebSocketChannel {
 public:
  // Bytes of text a connection may have queued but not yet written before it counts as a slow consumer.
  static constexpr std::size_t kMaxQueuedBytes = 1 << 20;

  virtual ~WebSocketChannel() = default;

  // Queues a text message. Returns false, dropping it, once the connection is closing; a message that would
  // exceed kMaxQueuedBytes closes the connection instead (a consumer that slow cannot catch up).
  virtual bool send(std::string text) = 0;
  // Starts the closing handshake (close code 1000 "normal").
  virtual void close() = 0;
  // The X-Request-Id of the upgrade request, which log lines about this connection carry.
  virtual const std::string& request_id() const = 0;
};

// One per connection. Its methods run on the connection's I/O thread, one at a time, and must not block.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;

  // After the handshake: the channel to send on, for as long as the handler (or fan-out code) wants it.
  virtual void on_open(const std::shared_ptr<WebSocketChannel>& channel) = 0;
  // One complete client message.
  virtual void on_message(std::string message) = 0;
  // Once, when the connection has ended for any reason (after on_open only). The channel sends nothing more.
  virtual void on_close() = 0;
};

// Makes the handler for one upgrade request (its path parameters are set); never returns null.
using WebSocketFactory = std::function<std::unique_ptr<WebSocketHandler>(const http::Request& upgrade)>;

}  // namespace rally::gateway::ws
