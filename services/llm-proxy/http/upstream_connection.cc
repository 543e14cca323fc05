#include "services/llm-proxy/http/upstream_connection.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <cerrno>
#include <stdexcept>

namespace rally::llm_proxy::detail {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// ALPN wire format: length-prefixed protocol names. Offering only http/1.1 keeps servers that prefer h2
// from choosing it.
constexpr std::array<unsigned char, 9> kAlpnHttp11{8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

struct UpstreamMetrics {
  common::metrics::Family<common::metrics::Gauge>& open;
  common::metrics::Family<common::metrics::Histogram>& connect_seconds;

  static UpstreamMetrics& get() {
    static UpstreamMetrics metrics{
        common::metrics::Registry::global().gauge("rally_upstream_connections_open",
                                                  "Open connections to LLM provider origins.", {"origin"}),
        common::metrics::Registry::global().histogram(
            "rally_upstream_connect_seconds", "Time to connect to an LLM provider origin (TCP and TLS).",
            {"origin"})};
    return metrics;
  }
};

std::variant<UpstreamConnection::PlainStream, UpstreamConnection::TlsStream> make_stream(
    const asio::any_io_executor& executor, ssl::context* tls_context) {
  if (tls_context != nullptr) {
    return std::variant<UpstreamConnection::PlainStream, UpstreamConnection::TlsStream>(
        std::in_place_type<UpstreamConnection::TlsStream>, executor, *tls_context);
  }
  return std::variant<UpstreamConnection::PlainStream, UpstreamConnection::TlsStream>(
      std::in_place_type<UpstreamConnection::PlainStream>, executor);
}

}  // namespace

ssl::context make_client_tls_context(const std::string& extra_ca_file) {
  ssl::context context(ssl::context::tls_client);
  if (SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION) != 1) {
    throw std::runtime_error("TLS: cannot require TLS 1.2 or later");
  }
  context.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  context.set_verify_mode(ssl::verify_peer);

  boost::system::error_code ec;
  // OpenSSL reads SSL_CERT_FILE and SSL_CERT_DIR here (X509_get_default_cert_file_env), falling back to
  // the distribution's store; the file is loaded now, the directory is searched per handshake.
  context.set_default_verify_paths(ec);
  if (ec) {
    throw std::runtime_error("TLS: cannot load the default trust store: " + ec.message());
  }
  if (!extra_ca_file.empty()) {
    context.load_verify_file(extra_ca_file, ec);
    if (ec) {
      throw std::runtime_error("TLS: cannot load CA certificates from " + extra_ca_file + ": " +
                               ec.message());
    }
  }
  return context;
}

UpstreamConnection::UpstreamConnection(const asio::any_io_executor& executor, ssl::context* tls_context,
                                       std::string origin)
    : origin_(std::move(origin)), stream_(make_stream(executor, tls_context)) {}

UpstreamConnection::~UpstreamConnection() {
  close();
}

tcp::socket& UpstreamConnection::socket() {
  return std::visit([](auto& stream) -> tcp::socket& { return boost::beast::get_lowest_layer(stream); },
                    stream_);
}

void UpstreamConnection::on_connected() {
  boost::system::error_code ignored;
  socket().set_option(tcp::no_delay(true), ignored);
  if (open_gauge_ == nullptr) {
    open_gauge_ = &UpstreamMetrics::get().open.labels({origin_});
    open_gauge_->inc();
  }
}

std::string UpstreamConnection::prepare_tls(const std::string& host, bool host_is_ip_literal) {
  SSL* ssl = tls_stream().native_handle();
  if (!host_is_ip_literal && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    return "cannot set the TLS server name " + host;
  }
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int named = host_is_ip_literal ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                       : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  if (named != 1) {
    return "cannot verify certificates for " + host;
  }
  // SSL_set_alpn_protos returns 0 on success, unlike most of OpenSSL.
  if (SSL_set_alpn_protos(ssl, kAlpnHttp11.data(), static_cast<unsigned>(kAlpnHttp11.size())) != 0) {
    return "cannot offer ALPN http/1.1";
  }
  return {};
}

std::string UpstreamConnection::describe_tls_failure(const boost::system::error_code& ec) {
  std::string reason = ec.message();
  const long verdict = SSL_get_verify_result(tls_stream().native_handle());
  if (verdict != X509_V_OK) {
    reason += " (certificate: ";
    reason += X509_verify_cert_error_string(verdict);
    reason += ')';
  }
  return reason;
}

void UpstreamConnection::observe_connect_duration(std::chrono::steady_clock::duration duration) {
  UpstreamMetrics::get().connect_seconds.labels({origin_}).observe(
      std::chrono::duration<double>(duration).count());
}

bool UpstreamConnection::idle_and_intact() {
  if (buffer_.size() != 0) {
    return false;
  }
  if (is_tls() && SSL_pending(tls_stream().native_handle()) > 0) {
    return false;
  }
  tcp::socket& sock = socket();
  if (!sock.is_open()) {
    return false;
  }
  char byte = 0;
  const ssize_t peeked = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  // 0 is the peer's FIN; a byte is something no request asked for; only "nothing to read" is healthy.
  return peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void UpstreamConnection::close() noexcept {
  boost::system::error_code ignored;
  tcp::socket& sock = socket();
  if (sock.is_open()) {
    sock.close(ignored);
  }
  if (open_gauge_ != nullptr) {
    open_gauge_->dec();
    open_gauge_ = nullptr;
  }
}

}  // namespace rally::llm_proxy::detail
