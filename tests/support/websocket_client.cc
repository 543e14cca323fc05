#include "tests/support/websocket_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cctype>
#include <stdexcept>

namespace rally::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

struct WebSocketClient::Impl {
  asio::io_context io;
  websocket::stream<asio::ip::tcp::socket> stream{io};
  bool open = false;
  HttpResult answer;

  // Connects and handshakes; `answer` holds the server's response whether or not it was 101.
  beast::error_code connect(int port, const std::string& target, const HeaderMap& headers) {
    beast::error_code ec;
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"),
                                           static_cast<unsigned short>(port));
    stream.next_layer().connect(endpoint, ec);
    if (ec) {
      answer.error = ec.message();
      return ec;
    }
    stream.set_option(websocket::stream_base::decorator([headers](websocket::request_type& request) {
      for (const auto& [name, value] : headers) request.set(name, value);
    }));
    websocket::response_type response;
    stream.handshake(response, "127.0.0.1:" + std::to_string(port), target, ec);
    answer.status = static_cast<int>(response.result_int());
    for (const auto& field : response) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      answer.headers[name] = std::string(field.value());
    }
    answer.body = response.body();
    if (ec) answer.error = ec.message();
    open = !ec;
    return ec;
  }
};

WebSocketClient::WebSocketClient(int port, const std::string& target, const HeaderMap& headers)
    : impl_(std::make_unique<Impl>()) {
  if (impl_->connect(port, target, headers)) {
    throw std::runtime_error("WebSocket connection to " + target + " failed: " + impl_->answer.error + " (" +
                             std::to_string(impl_->answer.status) + " " + impl_->answer.body + ")");
  }
}

HttpResult WebSocketClient::try_handshake(int port, const std::string& target, const HeaderMap& headers) {
  Impl attempt;
  attempt.connect(port, target, headers);
  beast::error_code ignored;
  attempt.stream.next_layer().close(ignored);
  return attempt.answer;
}

const HttpResult& WebSocketClient::handshake() const {
  return impl_->answer;
}

WebSocketClient::~WebSocketClient() {
  if (!impl_->open) return;
  beast::error_code ignored;
  impl_->stream.next_layer().close(ignored);
}

std::optional<std::string> WebSocketClient::read(std::chrono::milliseconds timeout) {
  if (!impl_->open) return std::nullopt;
  beast::flat_buffer buffer;
  std::optional<beast::error_code> result;
  impl_->stream.async_read(buffer, [&](beast::error_code ec, std::size_t) { result = ec; });
  impl_->io.restart();
  impl_->io.run_for(timeout);
  if (!result) {
    // Timed out mid-read: closing the socket ends the pending read, which must finish before we return.
    beast::error_code ignored;
    impl_->stream.next_layer().close(ignored);
    impl_->io.restart();
    impl_->io.run();
    impl_->open = false;
    return std::nullopt;
  }
  if (*result) {
    impl_->open = false;
    return std::nullopt;
  }
  return beast::buffers_to_string(buffer.data());
}

void WebSocketClient::send(const std::string& text) {
  impl_->stream.text(true);
  impl_->stream.write(asio::buffer(text));
}

}  // namespace rally::testing
