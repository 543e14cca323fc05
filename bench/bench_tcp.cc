#include "bench/bench_tcp.h"

#include <stdexcept>

namespace rally::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

tcp::endpoint parse_endpoint(const std::string& text, const std::string& key) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument(key + ": expected HOST:PORT, got " + text);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(text.substr(0, colon), ec);
  if (ec) throw std::invalid_argument(key + ": not an IP address: " + text.substr(0, colon));
  const int port = std::stoi(text.substr(colon + 1));
  if (port <= 0 || port > 65535) throw std::invalid_argument(key + ": bad port in " + text);
  return {address, static_cast<unsigned short>(port)};
}

void set_no_delay(tcp::socket& socket) {
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
}

void shut_down(beast::tcp_stream& stream) {
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.close();
}

}  // namespace rally::bench
