#include "services/common/metrics_http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "services/common/metrics.h"

namespace rally::common::metrics {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A scraper sends its next request well within this; an idle or stalled client is dropped after it.
constexpr std::chrono::seconds kIoTimeout{10};
// GET requests are a few hundred bytes of headers and no body.
constexpr std::uint32_t kHeaderLimit = 8 * 1024;
constexpr std::uint64_t kBodyLimit = 1024;
// Accept errors that persist (EMFILE) would otherwise make the accept loop spin.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

void fail(beast::error_code ec, std::string_view what) {
  // How clients normally leave: they hang up, reset, or idle past the timeout.
  if (ec == asio::error::operation_aborted || ec == beast::error::timeout || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == http::error::end_of_stream) {
    return;
  }
  spdlog::debug("metrics endpoint: {}: {}", what, ec.message());
}

http::response<http::string_body> make_response(const http::request<http::string_body>& request,
                                                Registry& registry) {
  http::response<http::string_body> response;
  response.version(request.version());
  response.keep_alive(request.keep_alive());
  const auto reply = [&](http::status status, std::string_view content_type, std::string body) {
    response.result(status);
    response.set(http::field::content_type, content_type);
    response.body() = std::move(body);
  };

  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (path != "/metrics" && path != "/healthz") {
    reply(http::status::not_found, "text/plain; charset=utf-8", "not found\n");
  } else if (request.method() != http::verb::get) {
    reply(http::status::method_not_allowed, "text/plain; charset=utf-8", "method not allowed\n");
    response.set(http::field::allow, "GET");
  } else if (path == "/healthz") {
    reply(http::status::ok, "text/plain; charset=utf-8", "ok");
  } else {
    try {
      reply(http::status::ok, kTextFormatContentType, registry.render());
    } catch (const std::exception& e) {
      spdlog::error("metrics endpoint: rendering metrics failed: {}", e.what());
      reply(http::status::internal_server_error, "text/plain; charset=utf-8", "internal error\n");
    }
  }
  response.prepare_payload();
  return response;
}

// One connection. The io_context runs on a single thread, so handlers never run concurrently and no strand
// is needed.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Registry& registry) : stream_(std::move(socket)), registry_(registry) {}

  void start() { do_read(); }

 private:
  void do_read() {
    // A parser handles exactly one message, so each request on a keep-alive connection gets a new one.
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(kIoTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec == http::error::end_of_stream) {
      return do_close();
    }
    if (ec) {
      return fail(ec, "read");
    }
    response_ = make_response(parser_->get(), registry_);
    stream_.expires_after(kIoTimeout);
    http::async_write(
        stream_, response_,
        beast::bind_front_handler(&Session::on_write, shared_from_this(), response_.keep_alive()));
  }

  void on_write(bool keep_alive, beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) {
      return fail(ec, "write");
    }
    if (!keep_alive) {
      return do_close();
    }
    do_read();
  }

  void do_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;  // lives here until its async_write completes
  Registry& registry_;
};

}  // namespace

struct MetricsHttpServer::Impl {
  Impl(const HostPort& listen, Registry& metrics_registry) : registry(metrics_registry) {
    const std::string address = listen.to_string();
    beast::error_code ec;
    tcp::resolver resolver(io_context);
    const auto endpoints = resolver.resolve(listen.host, std::to_string(listen.port),
                                            tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec) {
      throw std::runtime_error("metrics endpoint: cannot resolve " + address + ": " + ec.message());
    }
    ec = asio::error::host_not_found;
    for (const auto& entry : endpoints) {
      if (try_listen(entry.endpoint(), ec)) {
        break;
      }
    }
    if (!acceptor.is_open()) {
      throw std::runtime_error("metrics endpoint: cannot listen on " + address + ": " + ec.message());
    }
    port = acceptor.local_endpoint().port();
    do_accept();
    thread = std::thread([this] { io_context.run(); });
  }

  bool try_listen(const tcp::endpoint& endpoint, beast::error_code& ec) {
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
      acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
      acceptor.bind(endpoint, ec);
    }
    if (!ec) {
      acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
      beast::error_code ignored;
      acceptor.close(ignored);
      return false;
    }
    return true;
  }

  // `this` outlives every handler: the destructor stops the io_context and joins before members go.
  void do_accept() { acceptor.async_accept(io_context, beast::bind_front_handler(&Impl::on_accept, this)); }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) {
      return;
    }
    if (ec) {
      spdlog::warn("metrics endpoint: accept failed: {}", ec.message());
      accept_retry.expires_after(kAcceptRetryDelay);
      accept_retry.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) {
          do_accept();
        }
      });
      return;
    }
    std::make_shared<Session>(std::move(socket), registry)->start();
    do_accept();
  }

  // Declared first so it is destroyed last: the acceptor and timer are bound to it, and its destructor
  // frees the sessions still owned by pending handlers, closing their sockets.
  asio::io_context io_context{1};
  tcp::acceptor acceptor{io_context};
  asio::steady_timer accept_retry{io_context};
  Registry& registry;
  std::uint16_t port = 0;
  std::thread thread;
};

MetricsHttpServer::MetricsHttpServer(const HostPort& listen, Registry& registry)
    : impl_(std::make_unique<Impl>(listen, registry)) {}

MetricsHttpServer::~MetricsHttpServer() {
  // Abandons in-flight scrapes at once rather than waiting for idle keep-alive clients to time out.
  impl_->io_context.stop();
  impl_->thread.join();
}

std::uint16_t MetricsHttpServer::port() const {
  return impl_->port;
}

}  // namespace rally::common::metrics
