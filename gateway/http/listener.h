// Accepts connections and starts an HTTP session for each, on a strand of its own. Internal to
// http_server.cc.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>

#include "services/common/config.h"

namespace rally::gateway::http {

struct ServerContext;

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Resolves, binds and listens at once; throws std::runtime_error naming `address` when it cannot.
  Listener(boost::asio::io_context& io, const common::HostPort& address, ServerContext& server);

  void start();
  // Closes the listening socket. Any thread.
  void stop();
  std::uint16_t port() const { return port_; }

 private:
  void accept_next();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  ServerContext& server_;
  std::uint16_t port_ = 0;
};

}  // namespace rally::gateway::http
