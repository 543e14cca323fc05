#include "services/llm-proxy/http/http_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <mutex>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>

#include "services/llm-proxy/http/connection_pool.h"
#include "services/llm-proxy/http/http_url.h"
#include "services/llm-proxy/http/upstream_connection.h"

namespace rally::llm_proxy {
namespace detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Body bytes handed to on_body per read at most; SSE events are far smaller, so each arrives on its own.
constexpr std::size_t kBodyChunkBytes = 16 * 1024;
// 1xx responses (103 Early Hints) a server may send before the real one.
constexpr int kMaxInterimResponses = 8;
constexpr std::string_view kDefaultUserAgent = "LlamaRally-llm-proxy";

// The peer closed or reset the connection: what a server's idle timeout looks like to a request sent on a
// pooled connection, and what a mid-stream drop looks like.
bool is_connection_closed(const beast::error_code& ec) {
  return ec == asio::error::eof || ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::ssl::error::stream_truncated;
}

HttpErrorKind classify_io_error(const beast::error_code& ec) {
  if (ec == http::error::body_limit) {
    return HttpErrorKind::kBodyTooLarge;
  }
  if (is_connection_closed(ec)) {
    return HttpErrorKind::kClosedEarly;
  }
  if (ec.category() == beast::error_code(http::error::bad_version).category()) {
    return HttpErrorKind::kProtocol;
  }
  if (ec.category() == asio::error::get_ssl_category() ||
      ec.category() == asio::ssl::error::get_stream_category()) {
    return HttpErrorKind::kTls;
  }
  // Anything else the socket reports (ETIMEDOUT, EHOSTUNREACH, ...) also ended the response early.
  return HttpErrorKind::kClosedEarly;
}

// Callbacks are user code running on an I/O thread; an exception escaping one would unwind through Asio
// and leave the call half-finished, so it ends the process here, where the cause is obvious.
template <typename Fn, typename... Args>
void invoke_callback(const Fn& fn, Args&&... args) noexcept {
  fn(std::forward<Args>(args)...);
}

}  // namespace

// What every exchange of one client shares. Owned by HttpClient::Impl; outlives every exchange, because
// the client joins its I/O threads (which run every handler that keeps an exchange alive) before it goes.
struct ClientState {
  explicit ClientState(HttpClientOptions client_options)
      : options(std::move(client_options)),
        io_context(static_cast<int>(options.threads)),
        tls_context(make_client_tls_context(options.extra_ca_file)),
        pool(io_context.get_executor(), options.max_idle_per_origin, options.idle_timeout) {}

  void unregister(std::uint64_t id) {
    const std::lock_guard lock(calls_mutex);
    calls.erase(id);
  }

  const HttpClientOptions options;
  asio::io_context io_context;
  asio::ssl::context tls_context;
  ConnectionPool pool;

  std::atomic<std::uint64_t> connections_opened{0};
  std::atomic<std::uint64_t> connections_reused{0};
  std::atomic<std::uint64_t> stale_retries{0};
  std::atomic<std::uint64_t> next_call_id{0};

  std::mutex calls_mutex;
  bool stopping = false;
  std::unordered_map<std::uint64_t, std::weak_ptr<Exchange>> calls;  // in flight
};

// One request and its response, from resolving the host to on_complete. Every handler runs on the
// exchange's strand, and each holds a shared_ptr to it, so it lives until its last operation completed.
// At every moment at most one operation is in flight on the connection, plus the timers.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(ClientState& client, std::uint64_t id, HttpUrl url, HttpRequest request,
           HttpResponseHandler handler)
      : client_(client),
        id_(id),
        url_(std::move(url)),
        origin_(url_.origin()),
        timeouts_(request.timeouts),
        max_body_bytes_(request.max_body_bytes),
        handler_(std::move(handler)),
        strand_(asio::make_strand(client.io_context)),
        resolver_(strand_),
        phase_timer_(strand_),
        total_timer_(strand_) {
    build_request(request);
  }

  void start() { asio::post(strand_, beast::bind_front_handler(&Exchange::on_start, shared_from_this())); }

  // Any thread. From the moment the flag is set, every handler of this exchange stops short (no callback,
  // no new operation), and the posted failure ends the call: it closes the connection and delivers
  // on_complete(kCancelled), unless the exchange was already finishing.
  void cancel(std::string reason) {
    {
      const std::lock_guard lock(cancel_mutex_);
      if (cancel_requested_) {
        return;
      }
      cancel_reason_ = std::move(reason);
      cancel_requested_ = true;
    }
    asio::post(strand_, [self = shared_from_this()] { self->fail(HttpErrorKind::kCancelled, {}); });
  }

 private:
  // True when nothing more may happen here but the end already reached or the cancellation on its way.
  bool settled() const { return finished_ || cancel_requested_.load(); }

  // A completion handler that runs `member` on the strand and keeps the exchange alive until then.
  template <typename... Args>
  auto on_strand(void (Exchange::*member)(Args...)) {
    return asio::bind_executor(strand_, beast::bind_front_handler(member, shared_from_this()));
  }

  void build_request(HttpRequest& request) {
    request_.version(11);
    const http::verb verb = http::string_to_verb(request.method);
    if (verb == http::verb::unknown) {
      request_.method_string(request.method);
    } else {
      request_.method(verb);
    }
    request_.target(url_.target);
    request_.set(http::field::host, url_.authority());
    request_.set(http::field::user_agent, kDefaultUserAgent);
    for (const HttpHeader& header : request.headers) {
      const http::field field = http::string_to_field(header.name);
      if (field == http::field::host || field == http::field::user_agent) {
        request_.set(field, header.value);
      } else if (field != http::field::content_length && field != http::field::transfer_encoding) {
        request_.insert(header.name, header.value);
      }
    }
    request_.body() = std::move(request.body);
    request_.prepare_payload();
  }

  // --- connection ------------------------------------------------------------------------------------

  void on_start() {
    if (settled()) {
      return;
    }
    if (timeouts_.total.count() > 0) {
      total_timer_.expires_after(timeouts_.total);
      total_timer_.async_wait(beast::bind_front_handler(&Exchange::on_total_timer, shared_from_this()));
    }
    if (auto pooled = client_.pool.take(origin_)) {
      conn_ = std::move(pooled);
      reused_connection_ = true;
      ++client_.connections_reused;
      arm_phase(HttpErrorKind::kTimeoutFirstByte, timeouts_.first_byte);
      return do_write();
    }
    connect_fresh();
  }

  void connect_fresh() {
    reused_connection_ = false;
    arm_phase(HttpErrorKind::kTimeoutConnect, timeouts_.connect);
    resolver_.async_resolve(url_.host, std::to_string(url_.port), tcp::resolver::numeric_service,
                            beast::bind_front_handler(&Exchange::on_resolve, shared_from_this()));
  }

  void on_resolve(beast::error_code ec, tcp::resolver::results_type endpoints) {
    if (settled()) {
      return;
    }
    if (ec) {
      return fail(HttpErrorKind::kResolve, "cannot resolve " + url_.host + ": " + ec.message());
    }
    conn_ = std::make_unique<UpstreamConnection>(client_.io_context.get_executor(),
                                                 url_.tls ? &client_.tls_context : nullptr, origin_);
    connect_started_ = Clock::now();
    asio::async_connect(conn_->socket(), endpoints, on_strand(&Exchange::on_connect));
  }

  void on_connect(beast::error_code ec, const tcp::endpoint& /*endpoint*/) {
    if (settled()) {
      return;
    }
    if (ec) {
      return fail(HttpErrorKind::kConnect, "cannot connect to " + url_.authority() + ": " + ec.message());
    }
    ++client_.connections_opened;
    conn_->on_connected();
    if (!url_.tls) {
      return on_connection_ready();
    }
    if (std::string refused = conn_->prepare_tls(url_.host, url_.host_is_ip_literal()); !refused.empty()) {
      return fail(HttpErrorKind::kTls, std::move(refused));
    }
    conn_->tls_stream().async_handshake(asio::ssl::stream_base::client, on_strand(&Exchange::on_handshake));
  }

  void on_handshake(beast::error_code ec) {
    if (settled()) {
      return;
    }
    if (ec) {
      return fail(HttpErrorKind::kTls,
                  "TLS handshake with " + origin_ + " failed: " + conn_->describe_tls_failure(ec));
    }
    on_connection_ready();
  }

  void on_connection_ready() {
    conn_->observe_connect_duration(Clock::now() - connect_started_);
    arm_phase(HttpErrorKind::kTimeoutFirstByte, timeouts_.first_byte);
    do_write();
  }

  // --- request and response --------------------------------------------------------------------------

  void do_write() {
    conn_->with_stream(
        [this](auto& stream) { http::async_write(stream, request_, on_strand(&Exchange::on_write)); });
  }

  void on_write(beast::error_code ec, std::size_t /*bytes*/) {
    if (settled()) {
      return;
    }
    if (ec) {
      if (may_retry_on_fresh_connection(ec)) {
        return retry_on_fresh_connection(ec);
      }
      return fail_io(ec, "sending the request");
    }
    arm_phase(HttpErrorKind::kTimeoutFirstByte, timeouts_.first_byte);
    do_read_head();
  }

  void do_read_head() {
    parser_.emplace();
    parser_->header_limit(client_.options.max_header_bytes);
    parser_->body_limit(max_body_bytes_ > 0 ? boost::optional<std::uint64_t>(max_body_bytes_) : boost::none);
    if (request_.method() == http::verb::head) {
      parser_->skip(true);
    }
    conn_->with_stream([this](auto& stream) {
      http::async_read_header(stream, conn_->buffer(), *parser_, on_strand(&Exchange::on_read_head));
    });
  }

  void on_read_head(beast::error_code ec, std::size_t /*bytes*/) {
    if (settled()) {
      return;
    }
    if (ec) {
      if (may_retry_on_fresh_connection(ec)) {
        return retry_on_fresh_connection(ec);
      }
      return fail_io(ec, "reading the response head");
    }
    const auto& response = parser_->get();
    const int status = static_cast<int>(response.result_int());
    if (status == 101) {
      return fail(HttpErrorKind::kProtocol, origin_ + " switched protocols unasked (101)");
    }
    if (status / 100 == 1) {
      if (++interim_responses_ > kMaxInterimResponses) {
        return fail(HttpErrorKind::kProtocol, origin_ + " sent too many 1xx responses");
      }
      return do_read_head();
    }

    HttpResponseHead head;
    head.status = status;
    head.reason = std::string(response.reason());
    for (const auto& field : response) {
      head.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    }
    if (settled()) {
      return;
    }
    head_delivered_ = true;
    if (handler_.on_head) {
      invoke_callback(handler_.on_head, head);
    }
    if (parser_->is_done()) {
      return succeed();
    }
    do_read_body();
  }

  void do_read_body() {
    if (settled()) {  // cancelled from on_head or on_body
      return;
    }
    if (timeouts_.idle.count() > 0) {
      arm_phase(HttpErrorKind::kTimeoutIdle, timeouts_.idle);
    } else {
      disarm_phase();
    }
    auto& body = parser_->get().body();
    body.data = body_buffer_.data();
    body.size = body_buffer_.size();
    conn_->with_stream([this](auto& stream) {
      http::async_read_some(stream, conn_->buffer(), *parser_, on_strand(&Exchange::on_read_body));
    });
  }

  void on_read_body(beast::error_code ec, std::size_t /*bytes*/) {
    if (settled()) {
      return;
    }
    if (ec == http::error::need_buffer) {
      ec = {};  // the chunk buffer is full: deliver it and read on
    }
    const std::size_t received = body_buffer_.size() - parser_->get().body().size;
    if (received > 0) {
      body_delivered_ = true;
      if (handler_.on_body) {
        invoke_callback(handler_.on_body, std::string_view(body_buffer_.data(), received));
      }
    }
    if (ec) {
      return fail_io(ec, "reading the response body");
    }
    if (parser_->is_done()) {
      return succeed();
    }
    do_read_body();
  }

  // --- retry of a request that met a connection the server had closed while it was idle ---------------

  bool may_retry_on_fresh_connection(const beast::error_code& ec) const {
    const bool nothing_received =
        (!parser_ || !parser_->got_some()) && conn_->buffer().size() == 0 && interim_responses_ == 0;
    return reused_connection_ && !retried_ && nothing_received && is_connection_closed(ec);
  }

  void retry_on_fresh_connection(const beast::error_code& ec) {
    spdlog::debug("upstream {}: pooled connection was closed by the server ({}); retrying on a new one",
                  origin_, ec.message());
    retried_ = true;
    ++client_.stale_retries;
    conn_.reset();  // its only operation just completed
    parser_.reset();
    connect_fresh();
  }

  // --- timers ------------------------------------------------------------------------------------------

  // One timer for the phase-specific timeout; re-arming replaces the previous deadline. The generation
  // tells a stale expiry (already queued when the timer was re-armed) from a real one.
  void arm_phase(HttpErrorKind kind, std::chrono::milliseconds after) {
    const std::uint64_t generation = ++phase_generation_;
    phase_timer_.expires_after(after);
    phase_timer_.async_wait([self = shared_from_this(), kind, after, generation](beast::error_code ec) {
      self->on_phase_timer(ec, kind, after, generation);
    });
  }

  void disarm_phase() {
    ++phase_generation_;
    phase_timer_.cancel();
  }

  void on_phase_timer(beast::error_code ec, HttpErrorKind kind, std::chrono::milliseconds after,
                      std::uint64_t generation) {
    if (ec || settled() || generation != phase_generation_) {
      return;
    }
    const std::string limit = std::to_string(after.count()) + " ms";
    switch (kind) {
      case HttpErrorKind::kTimeoutConnect:
        return fail(kind, "connecting to " + origin_ + " took longer than " + limit);
      case HttpErrorKind::kTimeoutFirstByte:
        return fail(kind,
                    "no response head from " + origin_ + " within " + limit + " of sending the request");
      default:
        return fail(kind, "the response body from " + origin_ + " paused for longer than " + limit);
    }
  }

  void on_total_timer(beast::error_code ec) {
    if (ec || settled()) {
      return;
    }
    fail(HttpErrorKind::kTimeoutTotal,
         "the call to " + origin_ + " took longer than " + std::to_string(timeouts_.total.count()) + " ms");
  }

  // --- endings -----------------------------------------------------------------------------------------

  void succeed() {
    if (settled()) {  // cancelled from on_head: the connection must not be reused
      return;
    }
    stop_timers();
    // Before on_complete, so a request the caller starts from there can have this connection.
    if (parser_->keep_alive() && request_.keep_alive() && conn_->buffer().size() == 0) {
      client_.pool.put(std::move(conn_));
    } else {
      conn_->close();
    }
    complete(std::nullopt);
  }

  void fail_io(const beast::error_code& ec, std::string_view doing) {
    fail(classify_io_error(ec), std::string(doing) + " from " + origin_ + " failed: " + ec.message());
  }

  // Ends the call with `kind`, or with kCancelled when cancel() came first (a handler that was already
  // past its check when cancel() was called ends here too, and must not report anything else).
  void fail(HttpErrorKind kind, std::string message) {
    if (finished_) {
      return;
    }
    if (cancel_requested_) {
      kind = HttpErrorKind::kCancelled;
      const std::lock_guard lock(cancel_mutex_);
      message = cancel_reason_;
    }
    stop_timers();
    resolver_.cancel();
    if (conn_) {
      // Aborts the operation in flight; the connection object lives on until its handler has run.
      conn_->close();
    }
    if (kind != HttpErrorKind::kCancelled) {
      spdlog::debug("upstream {} {}{}: {}: {}", std::string_view(request_.method_string()), origin_,
                    url_.target, to_string(kind), message);
    }
    complete(HttpError{kind, std::move(message), head_delivered_, body_delivered_});
  }

  void stop_timers() {
    disarm_phase();
    total_timer_.cancel();
  }

  void complete(std::optional<HttpError> error) {
    finished_ = true;
    client_.unregister(id_);
    // Released before the call so that what the callbacks captured does not outlive the call.
    const auto on_complete = std::move(handler_.on_complete);
    handler_ = {};
    invoke_callback(on_complete, std::move(error));
  }

  ClientState& client_;
  const std::uint64_t id_;
  const HttpUrl url_;
  const std::string origin_;
  const HttpTimeouts timeouts_;
  const std::uint64_t max_body_bytes_;
  HttpResponseHandler handler_;
  http::request<http::string_body> request_;

  asio::strand<asio::io_context::executor_type> strand_;
  tcp::resolver resolver_;
  asio::steady_timer phase_timer_;
  asio::steady_timer total_timer_;
  std::uint64_t phase_generation_ = 0;

  std::unique_ptr<UpstreamConnection> conn_;
  Clock::time_point connect_started_;
  std::optional<http::response_parser<http::buffer_body>> parser_;
  std::array<char, kBodyChunkBytes> body_buffer_;

  std::mutex cancel_mutex_;
  std::string cancel_reason_;  // set once, with cancel_requested_, under cancel_mutex_
  std::atomic<bool> cancel_requested_{false};
  bool finished_ = false;
  bool reused_connection_ = false;
  bool retried_ = false;
  bool head_delivered_ = false;
  bool body_delivered_ = false;
  int interim_responses_ = 0;
};

}  // namespace detail

namespace {

// RFC 9110 tchar: what methods and header names are made of.
bool is_token(std::string_view text) {
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || kSpecials.find(c) != std::string_view::npos;
  });
}

// Header values must not end the header line early (CR, LF) or carry NUL: header injection.
bool is_safe_header_value(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

HttpUrl validate(const HttpRequest& request) {
  auto url = HttpUrl::parse(request.url);
  if (!url) {
    throw std::invalid_argument(url.error().message);
  }
  if (!is_token(request.method)) {
    throw std::invalid_argument("invalid HTTP method \"" + request.method + "\"");
  }
  for (const HttpHeader& header : request.headers) {
    if (!is_token(header.name)) {
      throw std::invalid_argument("invalid HTTP header name \"" + header.name + "\"");
    }
    if (!is_safe_header_value(header.value)) {
      throw std::invalid_argument("the value of HTTP header " + header.name + " contains CR, LF or NUL");
    }
  }
  const HttpTimeouts& timeouts = request.timeouts;
  if (timeouts.connect.count() <= 0 || timeouts.first_byte.count() <= 0) {
    throw std::invalid_argument("HTTP connect and first_byte timeouts must be positive");
  }
  if (timeouts.idle.count() < 0 || timeouts.total.count() < 0) {
    throw std::invalid_argument("HTTP idle and total timeouts must not be negative");
  }
  return std::move(url).value();
}

}  // namespace

std::optional<std::string_view> find_header(const HttpHeaders& headers, std::string_view name) {
  for (const HttpHeader& header : headers) {
    if (boost::beast::iequals(header.name, name)) {
      return std::string_view(header.value);
    }
  }
  return std::nullopt;
}

std::string_view to_string(HttpErrorKind kind) {
  switch (kind) {
    case HttpErrorKind::kResolve:
      return "resolve";
    case HttpErrorKind::kConnect:
      return "connect";
    case HttpErrorKind::kTls:
      return "tls";
    case HttpErrorKind::kTimeoutConnect:
      return "timeout_connect";
    case HttpErrorKind::kTimeoutFirstByte:
      return "timeout_first_byte";
    case HttpErrorKind::kTimeoutIdle:
      return "timeout_idle";
    case HttpErrorKind::kTimeoutTotal:
      return "timeout_total";
    case HttpErrorKind::kProtocol:
      return "protocol";
    case HttpErrorKind::kClosedEarly:
      return "closed_early";
    case HttpErrorKind::kCancelled:
      return "cancelled";
    case HttpErrorKind::kBodyTooLarge:
      return "body_too_large";
  }
  return "unknown";
}

std::size_t HttpPoolStats::idle(const std::string& origin) const {
  const auto found = idle_by_origin.find(origin);
  return found == idle_by_origin.end() ? 0 : found->second;
}

std::size_t HttpPoolStats::idle_total() const {
  return std::accumulate(idle_by_origin.begin(), idle_by_origin.end(), std::size_t{0},
                         [](std::size_t sum, const auto& entry) { return sum + entry.second; });
}

void HttpCall::cancel() const {
  if (const auto exchange = exchange_.lock()) {
    exchange->cancel("cancelled by the caller");
  }
}

struct HttpClient::Impl {
  explicit Impl(HttpClientOptions options) : state(std::move(options)) {
    threads.reserve(state.options.threads);
    for (std::size_t i = 0; i < state.options.threads; ++i) {
      threads.emplace_back([this] { state.io_context.run(); });
    }
  }

  bool on_io_thread() const {
    const auto self = std::this_thread::get_id();
    return std::any_of(threads.begin(), threads.end(),
                       [&](const std::thread& t) { return t.get_id() == self; });
  }

  detail::ClientState state;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
      state.io_context.get_executor()};
  std::vector<std::thread> threads;
};

HttpClient::HttpClient(HttpClientOptions options) {
  if (options.threads == 0) {
    throw std::invalid_argument("HttpClientOptions::threads must be at least 1");
  }
  if (options.idle_timeout.count() <= 0) {
    throw std::invalid_argument("HttpClientOptions::idle_timeout must be positive");
  }
  if (options.max_header_bytes == 0 || options.max_fetch_body_bytes == 0) {
    throw std::invalid_argument(
        "HttpClientOptions::max_header_bytes and max_fetch_body_bytes must be positive");
  }
  impl_ = std::make_unique<Impl>(std::move(options));
}

HttpClient::~HttpClient() {
  if (impl_->on_io_thread()) {
    // Joining would wait for this very thread.
    spdlog::critical("HttpClient destroyed from one of its own callbacks");
    std::abort();
  }
  std::vector<std::weak_ptr<detail::Exchange>> in_flight;
  {
    const std::lock_guard lock(impl_->state.calls_mutex);
    impl_->state.stopping = true;
    for (const auto& [id, exchange] : impl_->state.calls) {
      in_flight.push_back(exchange);
    }
  }
  for (const auto& weak : in_flight) {
    if (const auto exchange = weak.lock()) {
      exchange->cancel("the HTTP client is shutting down");
    }
  }
  impl_->state.pool.shut_down();
  // The threads return once every cancelled call has delivered on_complete and nothing else is pending.
  impl_->work.reset();
  for (std::thread& thread : impl_->threads) {
    thread.join();
  }
}

HttpCall HttpClient::start(HttpRequest request, HttpResponseHandler handler) {
  HttpUrl url = validate(request);
  if (!handler.on_complete) {
    throw std::invalid_argument("HttpResponseHandler::on_complete must be set");
  }
  detail::ClientState& state = impl_->state;
  const std::uint64_t id = state.next_call_id++;
  const std::function<void(const HttpCall&)> on_start = std::move(handler.on_start);
  auto exchange =
      std::make_shared<detail::Exchange>(state, id, std::move(url), std::move(request), std::move(handler));
  if (on_start) on_start(HttpCall(exchange));  // before any I/O, so callbacks can always cancel exactly
  bool stopping = false;
  {
    const std::lock_guard lock(state.calls_mutex);
    stopping = state.stopping;
    if (!stopping) {
      state.calls.emplace(id, exchange);
    }
  }
  exchange->start();
  if (stopping) {
    // Started from a callback while the client is being destroyed.
    exchange->cancel("the HTTP client is shutting down");
  }
  return HttpCall(exchange);
}

HttpCall HttpClient::fetch(HttpRequest request, std::function<void(HttpFetchResult)> on_done) {
  if (!on_done) {
    throw std::invalid_argument("fetch: on_done must be set");
  }
  if (request.max_body_bytes == 0) {
    request.max_body_bytes = impl_->state.options.max_fetch_body_bytes;
  }
  const std::uint64_t limit = request.max_body_bytes;
  // The callbacks of one call never run concurrently, so the result needs no lock.
  auto result = std::make_shared<HttpFetchResult>();
  HttpResponseHandler handler;
  handler.on_head = [result, limit](const HttpResponseHead& head) {
    result->head = head;
    if (const auto length = head.header("Content-Length")) {
      std::uint64_t declared = 0;
      if (std::from_chars(length->data(), length->data() + length->size(), declared).ec == std::errc()) {
        result->body.reserve(static_cast<std::size_t>(std::min(declared, limit)));
      }
    }
  };
  handler.on_body = [result](std::string_view chunk) { result->body.append(chunk); };
  handler.on_complete = [result, on_done = std::move(on_done)](std::optional<HttpError> error) {
    result->error = std::move(error);
    on_done(std::move(*result));
  };
  return start(std::move(request), std::move(handler));
}

std::future<HttpFetchResult> HttpClient::fetch(HttpRequest request) {
  auto promise = std::make_shared<std::promise<HttpFetchResult>>();
  std::future<HttpFetchResult> future = promise->get_future();
  fetch(std::move(request), [promise](HttpFetchResult result) { promise->set_value(std::move(result)); });
  return future;
}

HttpPoolStats HttpClient::pool_stats() const {
  const detail::ClientState& state = impl_->state;
  HttpPoolStats stats;
  stats.idle_by_origin = state.pool.idle_counts();
  stats.connections_opened = state.connections_opened.load();
  stats.connections_reused = state.connections_reused.load();
  stats.stale_retries = state.stale_retries.load();
  return stats;
}

}  // namespace rally::llm_proxy
