#include "services/llm-proxy/simulator/simulator_server.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "services/common/metrics.h"
#include "services/llm-proxy/simulator/simulator_engine.h"

namespace rally::llm_simulator {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Request heads of real clients are well under this; the body has its own, configurable limit.
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
// While an exchange runs, a read of up to this many bytes stays pending to notice a hang-up; what it
// returns instead (a pipelined request) is kept for the next read of a request.
constexpr std::size_t kWatchReadSize = 4096;
// After the last response on a connection the session reads and discards for up to this long, so a
// client still sending (a rejected large body) receives the response instead of a reset.
constexpr std::chrono::milliseconds kMaxLinger{2000};
// Accept errors that persist (EMFILE) would otherwise make the accept loop spin.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

bool is_normal_disconnect(beast::error_code ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::operation_aborted || ec == beast::error::timeout ||
         ec == http::error::end_of_stream || ec == ssl::error::stream_truncated;
}

void fail(beast::error_code ec, std::string_view what) {
  if (is_normal_disconnect(ec)) return;
  spdlog::debug("llm-simulator: {}: {}", what, ec.message());
}

// Reason phrases for the statuses Beast does not name (Anthropic's 529).
std::string_view reason_for(int status) {
  if (status == 529) return "Site Overloaded";
  return {};
}

// What the sessions share; it outlives every session (the server destroys the io_context first).
struct ServerShared {
  explicit ServerShared(const SimulatorSettings& simulator_settings)
      : engine(simulator_settings),
        settings(engine.settings()),
        open_connections(common::metrics::Registry::global()
                             .gauge("rally_llm_simulator_open_connections", "Client connections open")
                             .labels()),
        open_exchanges_gauge(common::metrics::Registry::global()
                                 .gauge("rally_llm_simulator_open_exchanges",
                                        "Requests being answered (stalls and streams included)")
                                 .labels()) {}

  void exchange_started() {
    open_exchanges_gauge.inc();
    const std::lock_guard lock(mutex);
    ++open_exchanges;
  }

  void exchange_finished() {
    open_exchanges_gauge.dec();
    const std::lock_guard lock(mutex);
    if (--open_exchanges == 0) all_exchanges_done.notify_all();
  }

  SimulatorEngine engine;
  const SimulatorSettings& settings;  // the engine's copy
  std::atomic<bool> draining{false};
  std::mutex mutex;
  std::condition_variable all_exchanges_done;
  std::size_t open_exchanges = 0;  // guarded by mutex
  common::metrics::Gauge& open_connections;
  common::metrics::Gauge& open_exchanges_gauge;
};

// One connection. Every handler runs on the connection's strand. Phases:
//   reading   - an HTTP read (head, maybe 100-continue, body) with the I/O timeout;
//   exchange  - carrying out the engine's Exchange (stall, paced writes) while a "watch" read stays
//               pending, so EOF or a reset is seen the moment it happens;
//   idle      - keep-alive: the watch read waits for the next request, a timer enforces the idle limit;
//   lingering - after the last response: send side shut, reads discarded until EOF or a short limit.
template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  template <typename... StreamArgs>
  Session(ServerShared& shared, tcp::socket&& socket, StreamArgs&&... stream_args)
      : shared_(shared),
        stream_(std::move(socket), std::forward<StreamArgs>(stream_args)...),
        timer_(stream_.get_executor()) {
    shared_.open_connections.inc();
  }

  ~Session() {
    // A session destroyed mid-exchange is one the server abandoned at shutdown.
    if (phase_ == Phase::kExchange) shared_.exchange_finished();
    shared_.open_connections.dec();
  }

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void run() { asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::start, self())); }

 private:
  enum class Phase { kReading, kExchange, kIdle, kLingering, kClosed };

  std::shared_ptr<Session> self() { return this->shared_from_this(); }
  beast::tcp_stream& tcp_layer() { return beast::get_lowest_layer(stream_); }
  const SimulatorSettings& settings() const { return shared_.settings; }

  void start() {
    if constexpr (kTls) {
      tcp_layer().expires_after(settings().io_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              beast::bind_front_handler(&Session::on_handshake, self()));
    } else {
      do_read();
    }
  }

  void on_handshake(beast::error_code ec) {
    if (ec) {
      fail(ec, "TLS handshake");
      return close_socket();
    }
    do_read();
  }

  // ---- reading a request -------------------------------------------------------------------------

  void do_read() {
    phase_ = Phase::kReading;
    // A parser handles exactly one message, so each request on a keep-alive connection gets a new one.
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(settings().body_limit);
    tcp_layer().expires_after(settings().io_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, self()));
  }

  void on_header(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return on_read_failed(ec);
    const auto& request = parser_->get();
    const auto expect = request[http::field::expect];
    if (!parser_->is_done() && beast::iequals(expect, "100-continue")) {
      // curl sends large bodies only after this (or after waiting a second for it).
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      tcp_layer().expires_after(settings().io_timeout);
      return asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                               beast::bind_front_handler(&Session::on_continue_written, self()));
    }
    read_body();
  }

  void on_continue_written(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) {
      fail(ec, "write 100 Continue");
      return close_socket();
    }
    read_body();
  }

  void read_body() {
    tcp_layer().expires_after(settings().io_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, self()));
  }

  void on_read_failed(beast::error_code ec) {
    // The target is known once the request line is parsed, even when the head as a whole failed.
    const std::string target(parser_->get().target());
    if (ec == http::error::body_limit) return start_exchange(shared_.engine.reject(target, 413));
    if (ec == http::error::header_limit) return start_exchange(shared_.engine.reject(target, 431));
    if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return start_exchange(shared_.engine.reject(target, 400));  // not HTTP: say so, then hang up
    }
    fail(ec, "read");
    close_socket();
  }

  void on_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return on_read_failed(ec);
    auto& message = parser_->get();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request.body = std::move(message.body());
    version_ = message.version();
    keep_alive_ = message.keep_alive();
    summary_ = request.method + " " + request.target;
    start_exchange(shared_.engine.handle(request, std::chrono::system_clock::now()));
  }

  // ---- carrying out an exchange ------------------------------------------------------------------

  void start_exchange(Exchange exchange) {
    exchange_ = std::move(exchange);
    if (exchange_.close_connection) keep_alive_ = false;
    phase_ = Phase::kExchange;
    shared_.exchange_started();
    next_event_ = 0;
    tcp_layer().expires_never();  // no read is pending here; writes set their own limit
    // With a pipelined request already buffered there is nothing to watch for: the client is still
    // sending, and the read of that request will notice if it leaves.
    if (!watching_ && buffer_.size() == 0) watch_for_close();
    if (exchange_.stall.count() > 0) {
      timer_.expires_after(exchange_.stall);
      return timer_.async_wait(
          beast::bind_front_handler(&Session::on_timer, self(), &Session::begin_response));
    }
    begin_response();
  }

  // Every wait of an exchange ends here; a wait cut short by closing the socket does nothing.
  void on_timer(void (Session::*next)(), beast::error_code ec) {
    if (ec || phase_ != Phase::kExchange) return;
    (this->*next)();
  }

  void at(std::chrono::microseconds due, void (Session::*next)()) {
    const SteadyClock::time_point when = response_start_ + due;
    if (when <= SteadyClock::now()) return (this->*next)();
    timer_.expires_at(when);
    timer_.async_wait(beast::bind_front_handler(&Session::on_timer, self(), next));
  }

  void begin_response() {
    response_start_ = SteadyClock::now();
    if (!exchange_.respond) return at(exchange_.due, &Session::drop_connection);
    if (!exchange_.streaming) return at(exchange_.due, &Session::write_response);
    write_stream_head();
  }

  template <typename Message>
  void prepare_head(Message& message) {
    message.version(version_);
    message.result(static_cast<unsigned>(exchange_.status));
    if (const std::string_view reason = reason_for(exchange_.status); !reason.empty()) message.reason(reason);
    for (const auto& [name, value] : exchange_.headers) message.insert(name, value);
    message.keep_alive(keep_alive_ && !shared_.draining.load());
  }

  void write_response() {
    response_.emplace();
    prepare_head(*response_);
    response_->body() = std::move(exchange_.body);
    // A 304 has no body, and a Content-Length would have to be the 200's (RFC 9110 8.6), not Beast's 0.
    if (exchange_.status != 304) response_->prepare_payload();
    tcp_layer().expires_after(settings().io_timeout);
    http::async_write(stream_, *response_, beast::bind_front_handler(&Session::on_last_write, self()));
  }

  void write_stream_head() {
    stream_head_.emplace();
    prepare_head(*stream_head_);
    stream_head_->chunked(true);
    head_serializer_.emplace(*stream_head_);
    tcp_layer().expires_after(settings().io_timeout);
    http::async_write_header(stream_, *head_serializer_,
                             beast::bind_front_handler(&Session::on_head_written, self()));
  }

  void on_head_written(beast::error_code ec, std::size_t /*bytes*/) {
    if (phase_ != Phase::kExchange) return;
    if (ec) return on_write_failed(ec);
    schedule_event();
  }

  void schedule_event() {
    if (next_event_ < exchange_.events.size())
      return at(exchange_.events[next_event_].due, &Session::write_event);
    if (exchange_.drop_after_events) return drop_connection();
    tcp_layer().expires_after(settings().io_timeout);
    asio::async_write(stream_, http::make_chunk_last(),
                      beast::bind_front_handler(&Session::on_last_write, self()));
  }

  void write_event() {
    const StreamEvent& event = exchange_.events[next_event_];
    tcp_layer().expires_after(settings().io_timeout);
    asio::async_write(stream_, http::make_chunk(asio::buffer(event.bytes)),
                      beast::bind_front_handler(&Session::on_event_written, self(), event.content));
  }

  void on_event_written(bool content, beast::error_code ec, std::size_t /*bytes*/) {
    if (phase_ != Phase::kExchange) return;
    if (ec) return on_write_failed(ec);
    if (content) shared_.engine.on_chunk_sent(exchange_.log_id);
    ++next_event_;
    schedule_event();
  }

  void on_last_write(beast::error_code ec, std::size_t /*bytes*/) {
    if (phase_ != Phase::kExchange) return;
    if (ec) return on_write_failed(ec);
    end_exchange(exchange_.planned_outcome());
    after_exchange();
  }

  void on_write_failed(beast::error_code ec) {
    fail(ec, "write");
    end_exchange(ec == beast::error::timeout ? "timed_out" : "client_closed");
    close_socket();
  }

  // The drop_after_chunks fault: no terminating chunk, no response at all for non-streaming requests.
  void drop_connection() {
    end_exchange(exchange_.planned_outcome());
    close_socket();
  }

  void end_exchange(std::string_view outcome) {
    if (phase_ != Phase::kExchange) return;
    phase_ = Phase::kClosed;  // until after_exchange() or close_socket() decides what comes next
    timer_.cancel();
    shared_.engine.on_finished(exchange_.log_id, outcome, std::chrono::system_clock::now());
    shared_.exchange_finished();
    spdlog::debug("llm-simulator: {} -> {} ({})", summary_.empty() ? "unreadable request" : summary_,
                  exchange_.respond ? exchange_.status : 0, outcome);
  }

  void after_exchange() {
    // The serializer refers to the head: reset it first.
    head_serializer_.reset();
    stream_head_.reset();
    response_.reset();
    summary_.clear();
    if (!keep_alive_ || shared_.draining.load()) return linger();
    if (!watching_) return do_read();  // a pipelined request is waiting in the buffer
    phase_ = Phase::kIdle;
    timer_.expires_after(settings().io_timeout);
    timer_.async_wait(beast::bind_front_handler(&Session::on_idle_timeout, self()));
  }

  void on_idle_timeout(beast::error_code ec) {
    if (ec || (phase_ != Phase::kIdle && phase_ != Phase::kLingering)) return;
    close_socket();
  }

  void linger() {
    phase_ = Phase::kLingering;
    beast::error_code ignored;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.consume(buffer_.size());
    if (!watching_) watch_for_close();
    timer_.expires_after(std::min<std::chrono::milliseconds>(settings().io_timeout, kMaxLinger));
    timer_.async_wait(beast::bind_front_handler(&Session::on_idle_timeout, self()));
  }

  // ---- the watch read ----------------------------------------------------------------------------

  void watch_for_close() {
    watching_ = true;
    stream_.async_read_some(buffer_.prepare(kWatchReadSize),
                            beast::bind_front_handler(&Session::on_watch, self()));
  }

  void on_watch(beast::error_code ec, std::size_t bytes) {
    watching_ = false;
    if (ec) {
      // operation_aborted: we closed the socket ourselves, and whoever did has already moved on.
      if (ec == asio::error::operation_aborted || phase_ == Phase::kClosed) return;
      if (phase_ == Phase::kExchange) end_exchange("client_closed");
      return close_socket();
    }
    buffer_.commit(bytes);
    switch (phase_) {
      case Phase::kExchange:
        // A pipelined request: it waits in the buffer for do_read(). Watching stops until the exchange
        // ends, because the read that would notice a hang-up is the one that reads the next request.
        break;
      case Phase::kIdle:
        timer_.cancel();
        do_read();
        break;
      case Phase::kLingering:
        buffer_.consume(buffer_.size());
        watch_for_close();
        break;
      case Phase::kReading:
      case Phase::kClosed:
        break;
    }
  }

  void close_socket() {
    phase_ = Phase::kClosed;
    timer_.cancel();
    tcp_layer().close();
  }

  ServerShared& shared_;
  Stream stream_;
  asio::steady_timer timer_;  // the stall, pacing, idle and linger waits: one at a time
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Phase phase_ = Phase::kReading;
  bool watching_ = false;  // a watch read is pending
  bool keep_alive_ = false;
  unsigned version_ = 11;
  std::string summary_;  // "POST /v1/messages", for the debug log

  Exchange exchange_;
  SteadyClock::time_point response_start_;
  std::size_t next_event_ = 0;
  std::optional<http::response<http::string_body>> response_;
  std::optional<http::response<http::empty_body>> stream_head_;
  std::optional<http::response_serializer<http::empty_body>> head_serializer_;
};

// Offers http/1.1 to clients that negotiate ALPN, and nothing else: this server does not speak h2.
int select_http11(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
                  unsigned int in_length, void* /*arg*/) {
  static constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, kHttp11, sizeof kHttp11, in, in_length) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

struct SimulatorServer::Impl {
  explicit Impl(const SimulatorSettings& simulator_settings)
      : shared(simulator_settings), tls_context(ssl::context::tls_server) {
    const SimulatorSettings& settings = shared.settings;
    if (settings.tls()) configure_tls(settings);
    listen(settings.listen);
    port = acceptor.local_endpoint().port();
    do_accept();
    threads.reserve(static_cast<std::size_t>(settings.threads));
    for (int i = 0; i < settings.threads; ++i) threads.emplace_back([this] { run_io(); });
  }

  void configure_tls(const SimulatorSettings& settings) {
    tls_context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                            ssl::context::single_dh_use);
    tls_context.use_certificate_chain(
        asio::buffer(settings.tls_certificate_chain_pem.data(), settings.tls_certificate_chain_pem.size()));
    tls_context.use_private_key(
        asio::buffer(settings.tls_private_key_pem.data(), settings.tls_private_key_pem.size()),
        ssl::context::pem);
    SSL_CTX_set_alpn_select_cb(tls_context.native_handle(), select_http11, nullptr);
  }

  void listen(const common::HostPort& address) {
    const std::string text = address.to_string();
    beast::error_code ec;
    tcp::resolver resolver(io_context);
    const auto endpoints = resolver.resolve(address.host, std::to_string(address.port),
                                            tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec) throw std::runtime_error("llm-simulator: cannot resolve " + text + ": " + ec.message());
    ec = asio::error::host_not_found;
    for (const auto& entry : endpoints) {
      if (try_listen(entry.endpoint(), ec)) return;
    }
    throw std::runtime_error("llm-simulator: cannot listen on " + text + ": " + ec.message());
  }

  bool try_listen(const tcp::endpoint& endpoint, beast::error_code& ec) {
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      beast::error_code ignored;
      acceptor.close(ignored);
      return false;
    }
    return true;
  }

  // `this` outlives every handler: shutdown() stops the io_context and joins before members go.
  void do_accept() {
    acceptor.async_accept(asio::make_strand(io_context), beast::bind_front_handler(&Impl::on_accept, this));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      spdlog::warn("llm-simulator: accept failed: {}", ec.message());
      accept_retry.expires_after(kAcceptRetryDelay);
      accept_retry.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) do_accept();
      });
      return;
    }
    // Deltas are small and latency is the point: no Nagle delay.
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (shared.settings.tls()) {
      std::make_shared<Session<TlsStream>>(shared, std::move(socket), tls_context)->run();
    } else {
      std::make_shared<Session<PlainStream>>(shared, std::move(socket))->run();
    }
    do_accept();
  }

  void run_io() {
    // A handler that throws (only std::bad_alloc is plausible) loses its connection, not the process.
    for (;;) {
      try {
        io_context.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("llm-simulator: I/O handler failed: {}", e.what());
      }
    }
  }

  void shutdown(std::chrono::milliseconds drain) {
    if (stopped) return;
    stopped = true;
    shared.draining.store(true);
    asio::post(acceptor.get_executor(), [this] {
      beast::error_code ignored;
      acceptor.close(ignored);
      accept_retry.cancel();
    });
    {
      std::unique_lock lock(shared.mutex);
      shared.all_exchanges_done.wait_for(lock, drain, [this] { return shared.open_exchanges == 0; });
    }
    io_context.stop();
    for (std::thread& thread : threads) thread.join();
  }

  // Destroyed last: sessions refer to it until the io_context has destroyed the handlers that own them.
  ServerShared shared;
  ssl::context tls_context;
  asio::io_context io_context{shared.settings.threads};
  tcp::acceptor acceptor{asio::make_strand(io_context)};
  asio::steady_timer accept_retry{acceptor.get_executor()};
  std::uint16_t port = 0;
  std::vector<std::thread> threads;
  bool stopped = false;
};

SimulatorServer::SimulatorServer(const SimulatorSettings& settings)
    : impl_(std::make_unique<Impl>(settings)) {}

SimulatorServer::~SimulatorServer() {
  impl_->shutdown(std::chrono::milliseconds(0));
}

std::uint16_t SimulatorServer::port() const {
  return impl_->port;
}

bool SimulatorServer::tls() const {
  return impl_->shared.settings.tls();
}

SimulatorEngine& SimulatorServer::engine() {
  return impl_->shared.engine;
}

void SimulatorServer::shutdown(std::chrono::milliseconds drain) {
  impl_->shutdown(drain);
}

}  // namespace rally::llm_simulator
