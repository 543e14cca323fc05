// Blocking clients over one real connection, for the gateway's server tests: HTTP/1.1 (framed requests,
// raw bytes for malformed or partial requests, responses read whole or piece by piece) and WebSocket (text
// messages). Every wait is bounded by the connection's timeout, so a misbehaving server fails a test
// instead of hanging it.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rally::gateway::testing {

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool keep_alive = false;

  std::string header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string{} : it->second;
  }
  bool has_header(const std::string& lower_name) const { return headers.contains(lower_name); }
};

// A TCP port on 127.0.0.1 with nothing listening (bound and released a moment ago).
inline std::uint16_t unused_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

// Starts one asynchronous operation on `stream` (given its completion handler) and runs `io` until it
// completes or `timeout` passes.
template <typename Start>
boost::beast::error_code run_bounded(boost::asio::io_context& io, boost::beast::tcp_stream& stream,
                                     std::chrono::milliseconds timeout, Start start) {
  boost::beast::error_code result;
  bool completed = false;
  stream.expires_after(timeout);
  start([&](boost::beast::error_code ec, auto&&...) {
    result = ec;
    completed = true;
  });
  io.restart();
  io.run();
  if (!completed) throw std::logic_error("the operation never completed");
  return result;
}

inline void check(const boost::beast::error_code& ec, std::string_view what) {
  if (ec) throw std::runtime_error(std::string(what) + ": " + ec.message());
}

class TestConnection {
 public:
  explicit TestConnection(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : stream_(io_), timeout_(timeout) {
    const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), port);
    check(run([&](auto done) { stream_.async_connect(endpoint, done); }), "connect");
  }

  void send(std::string_view raw) {
    check(run([&](auto done) { boost::asio::async_write(stream_, boost::asio::buffer(raw), done); }), "send");
  }

  // Sends a request (Content-Length set from `body`) and reads its response.
  ClientResponse request(std::string_view method, std::string_view target, std::string body = {},
                         const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    namespace http = boost::beast::http;
    http::request<http::string_body> message(http::string_to_verb(method), target, 11);
    message.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) {
      {
        { message.set(name, value); }
      }
    }
    message.body() = std::move(body);
    message.prepare_payload();
    check(run([&](auto done) { http::async_write(stream_, message, done); }), "write request");
    return read_response();
  }

  ClientResponse read_response() {
    read_head();
    return finish_response();
  }

  // Reads the status line and headers of the next response; its body follows with read_body_until() and
  // finish_response().
  ClientResponse read_head() {
    parser_.emplace();
    parser_->body_limit(boost::none);
    check(run([&](auto done) { boost::beast::http::async_read_header(stream_, buffer_, *parser_, done); }),
          "read response head");
    return snapshot();
  }

  // Reads until the body received so far contains `needle`; returns that body.
  std::string read_body_until(std::string_view needle) {
    while (parser_->get().body().find(needle) == std::string::npos) {
      if (parser_->is_done()) {
        {
          { throw std::runtime_error("the response ended without \"" + std::string(needle) + "\""); }
        }
      }
      check(run([&](auto done) { boost::beast::http::async_read_some(stream_, buffer_, *parser_, done); }),
            "read response body");
    }
    return parser_->get().body();
  }

  ClientResponse finish_response() {
    check(run([&](auto done) { boost::beast::http::async_read(stream_, buffer_, *parser_, done); }),
          "read response body");
    return snapshot();
  }

  // True when the server closes the connection (EOF or reset) within the timeout; any bytes it sends before
  // closing are ignored.
  bool wait_for_close() {
    char scratch[512];
    while (true) {
      const auto ec = run([&](auto done) { stream_.async_read_some(boost::asio::buffer(scratch), done); });
      if (ec == boost::beast::error::timeout) {
        {
          { return false; }
        }
      }
      if (ec) {
        {
          { return true; }
        }
      }
    }
  }

  void close() {
    boost::beast::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  template <typename Start>
  boost::beast::error_code run(Start start) {
    return run_bounded(io_, stream_, timeout_, std::move(start));
  }

  ClientResponse snapshot() const {
    const auto& message = parser_->get();
    ClientResponse response;
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      std::string name(field.name_string());
      for (char& c : name) {
        {
          { c = static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
        }
      }
      response.headers[name] = std::string(field.value());
    }
    response.body = message.body();
    response.keep_alive = message.keep_alive();
    return response;
  }

  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
  std::chrono::milliseconds timeout_;
};

// A WebSocket connection after a completed handshake; messages are text.
class TestWebSocket {
 public:
  TestWebSocket(std::uint16_t port, std::string_view target,
                std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : ws_(io_), timeout_(timeout) {
    const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), port);
    check(run([&](auto done) { boost::beast::get_lowest_layer(ws_).async_connect(endpoint, done); }),
          "connect");
    check(run([&](auto done) { ws_.async_handshake(handshake_, "127.0.0.1", target, done); }), "handshake");
  }

  // The server's 101 answer.
  const boost::beast::websocket::response_type& handshake() const { return handshake_; }
  std::string request_id() const { return std::string(handshake_["X-Request-Id"]); }

  void write(std::string_view text) {
    check(run([&](auto done) { ws_.async_write(boost::asio::buffer(text), done); }), "write");
  }
  std::string read() {
    boost::beast::flat_buffer buffer;
    check(run([&](auto done) { ws_.async_read(buffer, done); }), "read");
    return boost::beast::buffers_to_string(buffer.data());
  }
  // True when the server closes the connection with a close frame (after any messages still to come, which
  // are dropped) within the timeout.
  bool wait_for_close() {
    while (true) {
      boost::beast::flat_buffer buffer;
      const auto ec = run([&](auto done) { ws_.async_read(buffer, done); });
      if (ec) return ec == boost::beast::websocket::error::closed;
    }
  }
  // The client's closing handshake.
  void close() {
    check(run([&](auto done) { ws_.async_close(boost::beast::websocket::close_code::normal, done); }),
          "close");
  }

 private:
  template <typename Start>
  boost::beast::error_code run(Start start) {
    return run_bounded(io_, boost::beast::get_lowest_layer(ws_), timeout_, std::move(start));
  }

  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  std::chrono::milliseconds timeout_;
  boost::beast::websocket::response_type handshake_;
};

}  // namespace rally::gateway::testing
