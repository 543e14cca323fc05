// The gateway's HTTP/1.1 server: one listening port, a pool of I/O threads, one session per connection on
// its own strand, WebSocket upgrades handed to WebSocket sessions on the same port. Beast stays in the .cc
// files; this header is what main(), the gateway and tests include.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "services/common/config.h"

namespace rally::common::metrics {
class Registry;
}

namespace rally::gateway::http {

class Router;

struct HttpServerSettings {
  common::HostPort listen{"127.0.0.1", 8080};  // port 0 picks a free port (see HttpServer::port)
  int io_threads = 2;
  std::size_t body_limit = 1 << 20;  // larger request bodies are answered 413
  // From the first byte of a request until its head is complete; the first request of a new connection
  // must also start within this.
  std::chrono::milliseconds header_timeout{10000};
  // How long a keep-alive connection may wait for its next request; also the limit for receiving a body,
  // for writing a response (or one chunk of a stream) and the WebSocket idle timeout.
  std::chrono::milliseconds idle_timeout{60000};
  // JSON request bodies (gateway/http/json_body.h): nesting deeper than this, or a string or object key
  // longer than this many bytes, is answered 400 INVALID_REQUEST before any handler runs.
  std::size_t json_max_depth = 32;
  std::size_t json_max_string_bytes = std::size_t{512} * 1024;
  // Open connections (HTTP and WebSocket) at most: one more is answered 503 with Connection: close and
  // Retry-After, then closed.
  std::size_t max_connections = 10000;
  // Browser origins answered with CORS headers: exact origins ("https://app.example.com") or "*" for any.
  // Empty: CORS is off.
  std::vector<std::string> cors_origins;
};

class HttpServer {
 public:
  // Binds (throws std::runtime_error naming the address when it cannot) and starts serving. `router` and
  // `registry` must outlive the server.
  HttpServer(const HttpServerSettings& settings, const Router& router, common::metrics::Registry& registry);
  // Shuts down without a drain period if shutdown() was not called.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the chosen one when the settings asked for port 0).
  std::uint16_t port() const;

  // Stops accepting, lets requests and streams in progress finish for up to `drain` (idle keep-alive
  // connections close at once, WebSockets get a close frame), then closes what is left and joins the
  // I/O threads. Blocks until done; later calls return at once.
  void shutdown(std::chrono::milliseconds drain);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rally::gateway::http
