// One TCP or TLS connection to an upstream origin, as the exchange and the pool see it. Internal to
// rally_llm_proxy_http (it includes Asio and OpenSSL headers); nothing outside this folder includes it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <string>
#include <variant>

#include "services/common/metrics.h"

namespace rally::llm_proxy::detail {

// The TLS settings every upstream connection shares: TLS 1.2 or later, peer verification against
// OpenSSL's default verify paths (the system store, or SSL_CERT_FILE / SSL_CERT_DIR when set), plus the
// certificates of `extra_ca_file` when it is not empty. Throws std::runtime_error when a trust source
// cannot be loaded.
boost::asio::ssl::context make_client_tls_context(const std::string& extra_ca_file);

class UpstreamConnection {
 public:
  using PlainStream = boost::asio::ip::tcp::socket;
  using TlsStream = boost::beast::ssl_stream<boost::asio::ip::tcp::socket>;

  // Not connected yet; TLS when tls_context is not null. `origin` is the pool key ("https://host:443").
  UpstreamConnection(const boost::asio::any_io_executor& executor, boost::asio::ssl::context* tls_context,
                     std::string origin);
  ~UpstreamConnection();
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  const std::string& origin() const { return origin_; }
  bool is_tls() const { return std::holds_alternative<TlsStream>(stream_); }
  // The TCP socket under any TLS layer.
  boost::asio::ip::tcp::socket& socket();
  // Runs fn(stream) with the stream HTTP is spoken on (the socket, or the TLS stream over it).
  template <typename Fn>
  decltype(auto) with_stream(Fn&& fn) {
    return std::visit(std::forward<Fn>(fn), stream_);
  }
  TlsStream& tls_stream() { return std::get<TlsStream>(stream_); }
  // Bytes read from the connection but not parsed yet. Empty between responses on a healthy connection.
  boost::beast::flat_buffer& buffer() { return buffer_; }

  // Once TCP is connected: disables Nagle (requests are written whole) and counts the connection as open.
  void on_connected();
  // Before the TLS handshake: SNI (not for IP literals, as RFC 6066 requires), ALPN "http/1.1", and
  // verification that the certificate names `host` (a DNS name, without partial wildcards, or an IP).
  // Returns an empty string, or what OpenSSL refused.
  std::string prepare_tls(const std::string& host, bool host_is_ip_literal);
  // Why a handshake failed: the error, plus the certificate verification verdict when that was the cause.
  std::string describe_tls_failure(const boost::system::error_code& ec);
  // Records how long connecting (TCP and TLS) took.
  void observe_connect_duration(std::chrono::steady_clock::duration duration);

  // True when an idle connection can carry another request: nothing is buffered, and the peer neither
  // closed it nor sent anything (a TLS alert, stray bytes) since the last response. Never blocks.
  bool idle_and_intact();

  // Closes the socket at once (no TLS close_notify: the peer sees the TCP connection end), which aborts any
  // operation in flight. Idempotent.
  void close() noexcept;

  // Set by the pool when the connection goes idle.
  std::chrono::steady_clock::time_point idle_since;

 private:
  std::string origin_;
  std::variant<PlainStream, TlsStream> stream_;
  boost::beast::flat_buffer buffer_;
  common::metrics::Gauge* open_gauge_ = nullptr;  // set while counted as open
};

}  // namespace rally::llm_proxy::detail
