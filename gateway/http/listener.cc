#include "gateway/http/listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <stdexcept>
#include <string>

#include "gateway/http/http_session.h"
#include "gateway/http/server_context.h"

namespace rally::gateway::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// How long to pause accepting when the process is out of descriptors or memory: retrying at once would
// spin on the same error while connections wait in the backlog.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

bool is_resource_exhaustion(const boost::system::error_code& ec) {
  return ec == net::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
         ec == net::error::no_buffer_space || ec == net::error::no_memory;
}

}  // namespace

Listener::Listener(net::io_context& io, const common::HostPort& address, ServerContext& server)
    : io_(io), acceptor_(net::make_strand(io)), retry_timer_(acceptor_.get_executor()), server_(server) {
  const auto fail = [&](std::string_view step, const boost::system::error_code& ec) {
    throw std::runtime_error("cannot listen on " + address.to_string() + ": " + std::string(step) + ": " +
                             ec.message());
  };
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  const auto endpoints =
      resolver.resolve(address.host, std::to_string(address.port), tcp::resolver::passive, ec);
  if (ec) {
    fail("resolve", ec);
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();

  acceptor_.open(endpoint.protocol(), ec);
  if (ec) {
    fail("open", ec);
  }
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) {
    fail("set SO_REUSEADDR", ec);
  }
  acceptor_.bind(endpoint, ec);
  if (ec) {
    fail("bind", ec);
  }
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    fail("listen", ec);
  }
  port_ = acceptor_.local_endpoint().port();
}

void Listener::start() {
  net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->accept_next(); });
}

void Listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
}

void Listener::accept_next() {
  // Each connection gets its own strand: its handlers never run concurrently, without a lock.
  acceptor_.async_accept(net::make_strand(io_),
                         [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
                           self->on_accept(ec, std::move(socket));
                         });
}

void Listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (!acceptor_.is_open()) {
    return;  // stopped
  }
  if (ec) {
    spdlog::warn("accepting a connection failed: {}", ec.message());
    if (is_resource_exhaustion(ec)) {
      retry_timer_.expires_after(kAcceptRetryDelay);
      retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
        if (!wait_ec) {
          self->accept_next();
        }
      });
      return;
    }
  } else {
    // Responses go out in several writes (a stream's head, then each event): with Nagle's algorithm a write
    // waits for the client's delayed ACK of the previous one, about 40 ms on Linux.
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    start_http_session(std::move(socket), server_);
  }
  accept_next();
}

}  // namespace rally::gateway::http
