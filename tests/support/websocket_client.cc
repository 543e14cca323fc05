#include "tests/support/websocket_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <stdexcept>

namespace rally::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

struct WebSocketClient::Impl {
  asio::io_context io;
  websocket::stream<asio::ip::tcp::socket> stream{io};
  bool open = false;
};

WebSocketClient::WebSocketClient(int port, const std::string& target) : impl_(std::make_unique<Impl>()) {
  try {
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"),
                                           static_cast<unsigned short>(port));
    impl_->stream.next_layer().connect(endpoint);
    impl_->stream.handshake("127.0.0.1:" + std::to_string(port), target);
    impl_->open = true;
  } catch (const std::exception& error) {
    throw std::runtime_error("WebSocket connection to " + target + " failed: " + error.what());
  }
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
