#include "gateway/http/http_session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/http/edge_headers.h"
#include "gateway/http/envelope.h"
#include "gateway/http/exchange.h"
#include "gateway/http/json_body.h"
#include "gateway/http/router.h"
#include "gateway/http/server_context.h"
#include "gateway/ws/bearer_subprotocol.h"
#include "gateway/ws/websocket_session.h"
#include "services/common/errors.h"
#include "services/common/logging.h"
#include "services/common/metrics.h"
#include "services/common/request_id.h"
#include "services/common/utf8.h"

namespace rally::gateway::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using common::Error;
using common::ErrorCode;

// The request line and header fields together; a larger head is answered 431.
constexpr std::size_t kHeaderLimit = std::size_t{16} * 1024;
// The request target (path and query); a longer one is answered 414. No route needs more.
constexpr std::size_t kTargetLimit = std::size_t{8} * 1024;
constexpr std::size_t kReadChunkBytes = 4096;
// How long a refused request may keep sending before the connection is closed anyway.
constexpr std::chrono::seconds kLingerTimeout{2};
// Statuses recorded for requests that never got a response, after nginx: the client went away (499), or
// the server closed the connection at shutdown (444).
constexpr int kClientClosedRequest = 499;
constexpr int kClosedWithoutResponse = 444;
// What a client refused at the connection limit is told to wait before trying again.
constexpr std::string_view kRefusedRetryAfterSeconds = "1";

// Ends of a connection that are not failures worth a log line.
bool is_normal_end(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::operation_aborted ||
         ec == beast::error::timeout || ec == net::error::connection_reset || ec == net::error::broken_pipe;
}

// A parse error: the client sent something that is not HTTP/1.1, as opposed to going away mid-request.
bool is_malformed_request(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

// The server owns message framing; a handler's Content-Length or Connection would corrupt it.
bool is_framing_field(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") || iequals(name, "Connection");
}

// Methods whose requests carry a body the API reads (as JSON).
bool carries_body(Method method) {
  return method == Method::kPost || method == Method::kPut || method == Method::kPatch;
}

// A CORS preflight: the browser asks whether it may send the request named in Access-Control-Request-Method.
bool is_preflight(Method method, const bhttp::request<bhttp::string_body>& message) {
  return method == Method::kOptions && message.count(bhttp::field::origin) > 0 &&
         message.count(bhttp::field::access_control_request_method) > 0;
}

template <typename Message>
void copy_headers(const Headers& headers, Message& message) {
  for (const auto& [name, value] : headers) {
    if (!is_framing_field(name)) {
      message.insert(name, value);
    }
  }
}

Headers headers_of(const bhttp::request<bhttp::string_body>& message) {
  Headers headers;
  for (const auto& field : message) {
    headers.add(std::string(field.name_string()), std::string(field.value()));
  }
  return headers;
}

std::string describe_peer(const tcp::socket& socket) {
  beast::error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) {
    return "unknown";
  }
  const auto address = peer.address();
  return (address.is_v6() ? "[" + address.to_string() + "]" : address.to_string()) + ":" +
         std::to_string(peer.port());
}

class HttpSession;

// The Exchange a handler receives. It owns the request, reaches its session only through a weak_ptr and
// the server's IoGate (a late answer for a closed connection or a stopped server is dropped), and never
// runs session code itself: every action is posted to the session's strand, tagged with the exchange's
// serial so the session can tell a late action of an earlier exchange from one of the current.
class HttpExchange final : public Exchange {
 public:
  HttpExchange(Request request, std::weak_ptr<HttpSession> session, std::uint64_t serial,
               std::shared_ptr<IoGate> gate)
      : request_(std::move(request)), session_(std::move(session)), serial_(serial), gate_(std::move(gate)) {}
  ~HttpExchange() override;
  HttpExchange(const HttpExchange&) = delete;
  HttpExchange& operator=(const HttpExchange&) = delete;

  const Request& request() const override { return request_; }
  void respond(Response response) override;
  void start_stream(int status, Headers headers) override;
  bool write(std::string chunk, WriteCallback on_written) override;
  void finish() override;
  bool cancelled() const override;
  void on_cancel(std::function<void()> callback) override;
  void run_after(std::chrono::milliseconds delay, std::function<void()> callback) override;
  void set_caller_name(std::string name) override;

  // The session's side, on its strand.
  void cancel();
  void chunk_written(std::size_t bytes);
  // Neither answered in full nor cancelled: timers may still run.
  bool active() const;

 private:
  enum class Phase { kPending, kStreaming, kComplete };

  // Runs `action(session)` on the session's strand; false when the session or the server is gone.
  template <typename Action>
  bool post_to_session(Action action);

  const Request request_;
  const std::weak_ptr<HttpSession> session_;
  const std::uint64_t serial_;
  const std::shared_ptr<IoGate> gate_;

  mutable std::mutex mutex_;
  Phase phase_ = Phase::kPending;
  bool cancelled_ = false;
  std::size_t queued_bytes_ = 0;
  std::vector<std::function<void()>> cancel_callbacks_;
};

class HttpSession final : public std::enable_shared_from_this<HttpSession>, public Connection {
 public:
  HttpSession(tcp::socket socket, ServerContext& server)
      : stream_(std::move(socket)),
        server_(server),
        executor_(stream_.get_executor()),
        client_address_(describe_peer(stream_.socket())) {}

  ~HttpSession() override {
    cancel_timers();
    abandon_request(kClosedWithoutResponse);
    if (registration_) {
      server_.connections.remove(*registration_);
    }
  }
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  void run() {
    const ConnectionRegistry::Added added =
        server_.connections.add_within(weak_from_this(), settings().max_connections);
    if (!added.id && !added.full) {
      return;  // accepted while shutting down: dropping the last reference closes it
    }
    registration_ = added.id;
    // The client watch reads synchronously and must never block an I/O thread (async operations do not
    // depend on this flag).
    beast::error_code ec;
    stream_.socket().non_blocking(true, ec);
    if (ec) {
      return;
    }
    if (added.full) {
      return net::dispatch(executor_, [self = shared_from_this()] { self->refuse_connection(); });
    }
    net::dispatch(executor_, [self = shared_from_this()] { self->await_request(); });
  }

  const net::any_io_executor& executor() const { return executor_; }

  void begin_shutdown() override {
    net::post(executor_, [self = shared_from_this()] { self->on_shutdown(); });
  }
  void force_close() override {
    net::post(executor_, [self = shared_from_this()] { self->on_force_close(); });
  }

  // What an exchange posts, on the strand. Actions of an exchange that is no longer current are ignored.
  void send_response(std::uint64_t serial, Response response);
  void start_stream(std::uint64_t serial, int status, const Headers& headers);
  void enqueue_chunk(std::uint64_t serial, std::string data, Exchange::WriteCallback on_written);
  void enqueue_end_of_stream(std::uint64_t serial);
  void abort_stream(std::uint64_t serial);
  void start_timer(std::uint64_t serial, std::chrono::milliseconds delay, std::function<void()> callback);
  void set_caller_name(std::uint64_t serial, std::string name);

 private:
  enum class State { kAwaitingRequest, kReadingRequest, kHandling, kWriting, kStreaming, kClosing, kClosed };

  // What the access log, the metrics and the response need to know about the request being served.
  struct CurrentRequest {
    Clock::time_point started;
    std::string request_id;
    std::string method;        // as sent
    std::string method_label;  // bounded for metrics: a routable method or "OTHER"
    std::string path;
    std::string route{kUnmatchedRoute};
    unsigned version = 11;
    bool keep_alive = false;
    bool head = false;        // a HEAD request: the response carries no body
    bool streaming = false;   // counted in open_streams until the request ends
    std::string cors_origin;  // the request's Origin when CORS allows it: the response says so
    std::string caller;       // the API token's name, for the access log (empty: anonymous)
    int status = 0;
    bool in_flight = false;
  };

  struct PendingChunk {
    enum class Kind { kData, kEnd, kAbort };
    Kind kind = Kind::kData;
    std::string data;
    Exchange::WriteCallback on_written;
  };

  const HttpServerSettings& settings() const { return server_.settings; }

  // Reading a request.
  void await_request();
  void on_request_bytes(beast::error_code ec, std::size_t bytes);
  void read_header();
  void on_header(beast::error_code ec, std::size_t bytes);
  void send_continue();
  void read_body();
  void on_body(beast::error_code ec, std::size_t bytes);
  void on_read_failure(beast::error_code ec);
  void identify_request();

  // Answering it.
  void begin_request();
  void end_request(int status);
  std::string access_log_fields(int status, double latency_ms) const;
  // The request path as error answers show it: Beast accepts any byte in a target, JSON needs UTF-8.
  std::string shown_path() const { return common::repair_utf8(current_.path); }
  void reject(const Error& error);
  void refuse_connection();
  void dispatch();
  void answer_preflight(const RouteMatch& match);
  std::optional<Error> check_body(const Request& request) const;
  template <typename Message>
  void add_edge_headers(Message& message, int status) const;
  void handle(const Handler& handler, Request request);
  void upgrade();
  void complete_upgrade(Headers admission_headers);
  void write_response(Response response);
  void on_response_written(beast::error_code ec, std::size_t bytes);
  void on_stream_head_written(beast::error_code ec, std::size_t bytes);
  void write_next_chunk();
  void on_chunk_written(beast::error_code ec, std::size_t bytes);
  void end_stream();

  // Noticing a client that goes away while its request is being handled or streamed.
  void watch_client();
  void stop_watching();
  void on_client_readable(beast::error_code ec, std::uint64_t generation);
  void client_gone(beast::error_code ec);
  void abandon_request(int status_if_unanswered);
  void abandon_chunks();

  // The current exchange's timers (Exchange::run_after).
  bool exchange_open(std::uint64_t serial) const;
  void on_timer(beast::error_code ec, const net::steady_timer& timer, std::uint64_t serial,
                const std::function<void()>& callback);
  void cancel_timers();

  // Ending the connection.
  void on_shutdown();
  void on_force_close();
  void close_after_error(beast::error_code ec, std::string_view during);
  void close_gracefully(bool linger);
  void discard_until_closed();
  void close_now();

  beast::tcp_stream stream_;
  ServerContext& server_;
  const net::any_io_executor executor_;
  const std::string client_address_;
  std::optional<std::uint64_t> registration_;

  State state_ = State::kAwaitingRequest;
  bool served_any_ = false;  // a new connection gets the header timeout, a kept-alive one the idle timeout
  bool shutting_down_ = false;
  bool linger_ = false;  // close by reading the client's remaining bytes away first

  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  CurrentRequest current_;
  std::weak_ptr<HttpExchange> exchange_;
  std::uint64_t exchange_serial_ = 0;  // of the exchange serving the current request
  std::optional<bhttp::response<bhttp::string_body>> response_;

  // An upgrade request waiting for its route's admission (Router::WebSocketMatch::admission).
  struct PendingUpgrade {
    const ws::WebSocketFactory* factory = nullptr;
    Request request;
    bool bearer_subprotocol = false;  // the token came as a subprotocol: the 101 must select "bearer"
  };
  std::optional<PendingUpgrade> upgrade_;

  std::optional<bhttp::response<bhttp::empty_body>> stream_head_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> stream_head_serializer_;
  std::deque<PendingChunk> chunks_;
  bool chunked_ = true;  // false for HTTP/1.0 clients: the body then ends when the connection closes
  bool writing_ = false;

  bool watching_ = false;
  std::uint64_t watch_generation_ = 0;

  std::vector<std::shared_ptr<net::steady_timer>> timers_;
};

// ---- HttpExchange ----------------------------------------------------------------------------------------

template <typename Action>
bool HttpExchange::post_to_session(Action action) {
  return gate_->run_if_open([&] {
    std::shared_ptr<HttpSession> session = session_.lock();
    if (!session) {
      return false;
    }
    const net::any_io_executor executor = session->executor();
    net::post(executor, [session = std::move(session), request_id = request_.request_id(),
                         action = std::move(action)]() mutable {
      common::ScopedRequestId scope(std::move(request_id));
      action(*session);
    });
    return true;
  });
}

HttpExchange::~HttpExchange() {
  if (cancelled_) {
    return;
  }
  if (phase_ == Phase::kPending) {
    common::ScopedRequestId scope(request_.request_id());
    spdlog::error("the handler of {} {} dropped its exchange without responding",
                  to_string(request_.method()), request_.route());
    post_to_session([serial = serial_,
                     response = error_response(Error(ErrorCode::kInternal, "The request was not answered"),
                                               request_.request_id())](HttpSession& session) mutable {
      session.send_response(serial, std::move(response));
    });
  } else if (phase_ == Phase::kStreaming) {
    common::ScopedRequestId scope(request_.request_id());
    spdlog::error("the handler of {} {} dropped its stream without finishing it",
                  to_string(request_.method()), request_.route());
    post_to_session([serial = serial_](HttpSession& session) { session.abort_stream(serial); });
  }
}

void HttpExchange::respond(Response response) {
  std::vector<std::function<void()>> released;  // destroyed outside the lock: they may own anything
  {
    std::lock_guard lock(mutex_);
    if (phase_ != Phase::kPending || cancelled_) {
      return;
    }
    phase_ = Phase::kComplete;
    released.swap(cancel_callbacks_);
  }
  post_to_session([serial = serial_, response = std::move(response)](HttpSession& session) mutable {
    session.send_response(serial, std::move(response));
  });
}

void HttpExchange::set_caller_name(std::string name) {
  // Posted like the response that follows it, so the session has the name before it logs the request.
  post_to_session([serial = serial_, name = std::move(name)](HttpSession& session) mutable {
    session.set_caller_name(serial, std::move(name));
  });
}

void HttpExchange::start_stream(int status, Headers headers) {
  {
    std::lock_guard lock(mutex_);
    if (phase_ != Phase::kPending || cancelled_) {
      return;
    }
    phase_ = Phase::kStreaming;
  }
  post_to_session([serial = serial_, status, headers = std::move(headers)](HttpSession& session) {
    session.start_stream(serial, status, headers);
  });
}

bool HttpExchange::write(std::string chunk, WriteCallback on_written) {
  {
    std::lock_guard lock(mutex_);
    if (phase_ != Phase::kStreaming || cancelled_) {
      return false;
    }
    if (queued_bytes_ + chunk.size() > kMaxQueuedStreamBytes) {
      return false;
    }
    queued_bytes_ += chunk.size();
  }
  return post_to_session([serial = serial_, chunk = std::move(chunk),
                          on_written = std::move(on_written)](HttpSession& session) mutable {
    session.enqueue_chunk(serial, std::move(chunk), std::move(on_written));
  });
}

void HttpExchange::finish() {
  std::vector<std::function<void()>> released;
  {
    std::lock_guard lock(mutex_);
    if (phase_ != Phase::kStreaming) {
      return;
    }
    phase_ = Phase::kComplete;
    released.swap(cancel_callbacks_);
    if (cancelled_) {
      return;
    }
  }
  post_to_session([serial = serial_](HttpSession& session) { session.enqueue_end_of_stream(serial); });
}

bool HttpExchange::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

void HttpExchange::on_cancel(std::function<void()> callback) {
  {
    std::lock_guard lock(mutex_);
    if (phase_ == Phase::kComplete) {
      return;
    }
    if (!cancelled_) {
      cancel_callbacks_.push_back(std::move(callback));
      return;
    }
  }
  callback();
}

void HttpExchange::run_after(std::chrono::milliseconds delay, std::function<void()> callback) {
  if (!active()) {
    return;
  }
  post_to_session([serial = serial_, delay, callback = std::move(callback)](HttpSession& session) mutable {
    session.start_timer(serial, delay, std::move(callback));
  });
}

bool HttpExchange::active() const {
  std::lock_guard lock(mutex_);
  return phase_ != Phase::kComplete && !cancelled_;
}

void HttpExchange::cancel() {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lock(mutex_);
    if (cancelled_) {
      return;
    }
    cancelled_ = true;
    callbacks.swap(cancel_callbacks_);
  }
  common::ScopedRequestId scope(request_.request_id());
  for (auto& callback : callbacks) {
    callback();
  }
}

void HttpExchange::chunk_written(std::size_t bytes) {
  std::lock_guard lock(mutex_);
  queued_bytes_ -= bytes;
}

// ---- HttpSession: reading a request ----------------------------------------------------------------------

void HttpSession::await_request() {
  if (shutting_down_) {
    return close_gracefully(/*linger=*/false);
  }
  state_ = State::kAwaitingRequest;
  if (buffer_.size() > 0) {
    return read_header();  // the client pipelined its next request
  }

  // The idle timeout runs only until the first byte; from there the request head has the header timeout.
  stream_.expires_after(served_any_ ? settings().idle_timeout : settings().header_timeout);
  stream_.async_read_some(buffer_.prepare(kReadChunkBytes),
                          beast::bind_front_handler(&HttpSession::on_request_bytes, shared_from_this()));
}

void HttpSession::on_request_bytes(beast::error_code ec, std::size_t bytes) {
  buffer_.commit(bytes);
  if (ec) {
    return close_after_error(ec, "waiting for a request");
  }
  read_header();
}

void HttpSession::read_header() {
  state_ = State::kReadingRequest;
  current_ = CurrentRequest{};
  current_.started = Clock::now();
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  parser_->body_limit(settings().body_limit);
  stream_.expires_after(settings().header_timeout);
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           beast::bind_front_handler(&HttpSession::on_header, shared_from_this()));
}

void HttpSession::on_header(beast::error_code ec, std::size_t) {
  if (ec) {
    return on_read_failure(ec);
  }
  identify_request();
  if (parser_->get().target().size() > kTargetLimit) {
    return reject(Error(ErrorCode::kUriTooLong,
                        "The request target exceeds " + std::to_string(kTargetLimit) + " bytes",
                        {{"limit_bytes", std::to_string(kTargetLimit)}}));
  }
  if (parser_->is_done()) {
    return dispatch();
  }
  // A client that asked for "100 Continue" holds its body back until told to send it (curl does for large
  // bodies); one whose Content-Length is over the limit was already refused by the parser.
  if (current_.version >= 11 && iequals(parser_->get()[bhttp::field::expect], "100-continue")) {
    return send_continue();
  }
  read_body();
}

void HttpSession::send_continue() {
  auto interim =
      std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, current_.version);
  stream_.expires_after(settings().idle_timeout);
  bhttp::async_write(stream_, *interim,
                     [self = shared_from_this(), interim](beast::error_code ec, std::size_t) {
                       if (ec) {
                         return self->close_after_error(ec, "writing 100 Continue");
                       }
                       self->read_body();
                     });
}

void HttpSession::read_body() {
  stream_.expires_after(settings().idle_timeout);
  bhttp::async_read(stream_, buffer_, *parser_,
                    beast::bind_front_handler(&HttpSession::on_body, shared_from_this()));
}

void HttpSession::on_body(beast::error_code ec, std::size_t) {
  if (ec) {
    return on_read_failure(ec);
  }
  dispatch();
}

void HttpSession::on_read_failure(beast::error_code ec) {
  // Whatever of the head was parsed names the request in the answer and the access log.
  if (current_.request_id.empty()) {
    identify_request();
  }
  const auto limit = std::to_string(settings().body_limit);
  if (ec == bhttp::error::body_limit) {
    return reject(Error(ErrorCode::kPayloadTooLarge,
                        "The request body exceeds the limit of " + limit + " bytes",
                        {{"limit_bytes", limit}}));
  }
  if (ec == bhttp::error::header_limit) {
    return reject(Error(ErrorCode::kHeadersTooLarge,
                        "The request line and headers exceed " + std::to_string(kHeaderLimit) + " bytes",
                        {{"limit_bytes", std::to_string(kHeaderLimit)}}));
  }
  if (is_malformed_request(ec)) {
    return reject(Error(ErrorCode::kInvalidRequest, "Malformed HTTP request: " + ec.message()));
  }
  close_after_error(ec, "reading a request");  // the client went away or timed out: nobody to answer
}

void HttpSession::identify_request() {
  const auto& head = parser_->get();
  const std::string_view client_id = head["X-Request-Id"];
  current_.request_id =
      common::is_valid_request_id(client_id) ? std::string(client_id) : common::new_request_id();
  current_.method = std::string(head.method_string());
  current_.method_label = parse_method(current_.method) ? current_.method : "OTHER";
  const std::string_view target = head.target();
  current_.path = std::string(target.substr(0, target.find('?')));
  current_.version = head.version();
  current_.keep_alive = head.keep_alive();
  current_.head = head.method() == bhttp::verb::head;
  if (const std::string_view origin = head[bhttp::field::origin]; server_.cors.allows(origin)) {
    current_.cors_origin = std::string(origin);
  }
}

// ---- HttpSession: answering ------------------------------------------------------------------------------

void HttpSession::begin_request() {
  current_.in_flight = true;
  server_.metrics.in_flight().inc();
}

void HttpSession::end_request(int status) {
  cancel_timers();
  if (!current_.in_flight) {
    return;
  }
  current_.in_flight = false;
  server_.metrics.in_flight().dec();
  if (current_.streaming) {
    current_.streaming = false;
    server_.metrics.open_streams().dec();
  }
  const auto latency = Clock::now() - current_.started;
  server_.metrics.record_request(current_.route, current_.method_label, status, latency);

  const double latency_ms = std::chrono::duration<double, std::milli>(latency).count();
  common::ScopedRequestId scope(current_.request_id);
  if (common::installed_log_format() == common::LogFormat::kJson) {
    // The same line, with its parts as fields a log pipeline can index.
    const common::ScopedLogFields fields(access_log_fields(status, latency_ms));
    spdlog::info("{} {} {} {:.2f}ms", current_.method, current_.path, status, latency_ms);
  } else if (current_.caller.empty()) {
    spdlog::info("{} {} {} {:.2f}ms client={}", current_.method, current_.path, status, latency_ms,
                 client_address_);
  } else {
    spdlog::info("{} {} {} {:.2f}ms client={} token={}", current_.method, current_.path, status, latency_ms,
                 client_address_, current_.caller);
  }
}

std::string HttpSession::access_log_fields(int status, double latency_ms) const {
  std::string fields = fmt::format(
      R"("method":"{}","path":"{}","route":"{}","status":{},"latency_ms":{:.3f},"client":"{}","token":)",
      common::json_escape(current_.method), common::json_escape(current_.path),
      common::json_escape(current_.route), status, latency_ms, common::json_escape(client_address_));
  if (current_.caller.empty()) {
    fields += "null";
  } else {
    fields += '"' + common::json_escape(current_.caller) + '"';
  }
  return fields;
}

void HttpSession::reject(const Error& error) {
  // The rest of the request may still be on its way; it cannot be parsed, so the connection ends.
  current_.keep_alive = false;
  linger_ = true;
  begin_request();
  write_response(error_response(error, current_.request_id));
}

void HttpSession::refuse_connection() {
  // Not counted as a request (it never was one): the refusal has a counter of its own.
  server_.metrics.connections_refused().inc();
  current_ = CurrentRequest{};
  current_.started = Clock::now();
  current_.request_id = common::new_request_id();
  spdlog::debug("refused a connection from {}: {} connections are open", client_address_,
                settings().max_connections);
  // Whatever the client sends meanwhile is read away after the answer, so the close does not reset it.
  linger_ = true;
  Response response = error_response(
      Error(ErrorCode::kServiceUnavailable, "The server has too many open connections; try again shortly",
            {{"max_connections", std::to_string(settings().max_connections)}}),
      current_.request_id);
  response.headers.set("Retry-After", std::string(kRefusedRetryAfterSeconds));
  write_response(std::move(response));
}

void HttpSession::dispatch() {
  begin_request();
  auto& message = parser_->get();
  if (beast::websocket::is_upgrade(message)) {
    return upgrade();
  }

  const std::optional<Method> method = parse_method(current_.method);
  if (!method) {
    return write_response(
        error_response(Error(ErrorCode::kUnimplemented, "Method " + current_.method + " is not supported",
                             {{"method", current_.method}}),
                       current_.request_id));
  }

  Request request(*method, std::string(message.target()), headers_of(message), std::move(message.body()));
  request.set_request_id(current_.request_id);
  request.set_client_address(client_address_);

  RouteMatch match = server_.router.match(*method, request.path());
  // A preflight for a route that has no OPTIONS handler of its own is the server's to answer: before the
  // route's policy, so it needs no token and is not rate-limited. A disallowed origin is routed as any
  // OPTIONS request (405): without CORS headers the browser refuses the real request.
  if (match.outcome == RouteMatch::Outcome::kMethodNotAllowed && !current_.cors_origin.empty() &&
      is_preflight(*method, message)) {
    return answer_preflight(match);
  }
  switch (match.outcome) {
    case RouteMatch::Outcome::kNotFound:
      return write_response(
          error_response(Error(ErrorCode::kNotFound, "No route for " + current_.method + " " + shown_path(),
                               {{"method", current_.method}, {"path", shown_path()}}),
                         current_.request_id));
    case RouteMatch::Outcome::kMethodNotAllowed: {
      current_.route = std::string(match.route);
      const std::string allow = Router::allow_header(match.allowed);
      Response response =
          error_response(Error(ErrorCode::kMethodNotAllowed,
                               "Method " + current_.method + " is not allowed for " + shown_path(),
                               {{"method", current_.method}, {"path", shown_path()}, {"allowed", allow}}),
                         current_.request_id);
      response.headers.set("Allow", allow);
      return write_response(std::move(response));
    }
    case RouteMatch::Outcome::kMatched:
      break;
  }
  current_.route = std::string(match.route);
  if (carries_body(*method)) {
    if (std::optional<Error> error = check_body(request)) {
      return write_response(error_response(*error, current_.request_id));
    }
  }
  request.set_route(current_.route, std::move(match.params));
  handle(*match.handler, std::move(request));
}

void HttpSession::answer_preflight(const RouteMatch& match) {
  current_.route = std::string(match.route);
  Response response{204, {}, {}};
  response.headers.set("Access-Control-Allow-Methods", Router::allow_header(match.allowed));
  response.headers.set("Access-Control-Allow-Headers", std::string(CorsPolicy::kAllowedHeaders));
  response.headers.set("Access-Control-Max-Age", std::string(CorsPolicy::kMaxAgeSeconds));
  write_response(std::move(response));
}

// The checks every body of a POST, PUT or PATCH passes before its handler: JSON (or no Content-Type, as
// some clients send), within the JSON limits. Whether the body is JSON at all is the route's to say.
std::optional<Error> HttpSession::check_body(const Request& request) const {
  const std::string& body = request.body();
  if (body.empty()) {
    return std::nullopt;
  }
  const std::optional<std::string_view> content_type = request.header("Content-Type");
  if (content_type && !is_json_media_type(*content_type)) {
    const std::string sent(*content_type);
    return Error(ErrorCode::kUnsupportedMediaType,
                 "The request body must be application/json, not " + common::repair_utf8(sent),
                 {{"content_type", common::repair_utf8(sent)}, {"supported", std::string(kJsonContentType)}});
  }
  return check_json_body(body, {settings().json_max_depth, settings().json_max_string_bytes});
}

template <typename Message>
void HttpSession::add_edge_headers(Message& message, int status) const {
  for (const auto& [name, value] : security_headers()) {
    message.set(name, value);
  }
  // Error answers describe one request at one moment; nothing may keep them.
  if (status >= 400) {
    message.set(bhttp::field::cache_control, "no-store");
  }
  if (!server_.cors.enabled()) {
    return;
  }
  // Whether CORS headers appear depends on the Origin: a cache must keep the answers apart.
  const std::string_view vary = message[bhttp::field::vary];
  if (vary.empty()) {
    message.set(bhttp::field::vary, "Origin");
  } else if (vary.find("Origin") == std::string_view::npos && vary != "*") {
    message.set(bhttp::field::vary, std::string(vary) + ", Origin");
  }
  if (!current_.cors_origin.empty()) {
    message.set(bhttp::field::access_control_allow_origin, current_.cors_origin);
    message.set(bhttp::field::access_control_expose_headers, CorsPolicy::kExposedHeaders);
  }
}

void HttpSession::handle(const Handler& handler, Request request) {
  auto exchange =
      std::make_shared<HttpExchange>(std::move(request), weak_from_this(), ++exchange_serial_, server_.gate);
  exchange_ = exchange;
  state_ = State::kHandling;
  stream_.expires_never();  // the handler bounds its own upstream calls with deadlines
  watch_client();

  common::ScopedRequestId scope(current_.request_id);
  try {
    handler(exchange);
  } catch (const std::exception& e) {
    spdlog::error("the handler of {} {} threw: {}", current_.method, current_.route, e.what());
    exchange->respond(error_response(Error(ErrorCode::kInternal, "Internal error"), current_.request_id));
  }
}

void HttpSession::upgrade() {
  auto match = server_.router.match_websocket(current_.path);
  if (!match) {
    return write_response(error_response(
        Error(ErrorCode::kNotFound, "No WebSocket route for " + shown_path(), {{"path", shown_path()}}),
        current_.request_id));
  }
  current_.route = std::string(match->route);
  auto& message = parser_->get();
  Headers headers = headers_of(message);
  bool bearer_subprotocol = false;
  if (const std::optional<std::string_view> token =
          ws::bearer_subprotocol_token(message[bhttp::field::sec_websocket_protocol])) {
    bearer_subprotocol = true;
    // The admission reads tokens from Authorization only; one sent there as well wins.
    if (!headers.contains("Authorization")) {
      headers.set("Authorization", "Bearer " + std::string(*token));
    }
  }
  Request request(Method::kGet, std::string(message.target()), std::move(headers));
  request.set_request_id(current_.request_id);
  request.set_client_address(client_address_);
  request.set_route(current_.route, std::move(match->params));

  // The route's policy decides as for any request; its 101 answer arrives in send_response.
  upgrade_ = PendingUpgrade{match->factory, request, bearer_subprotocol};
  handle(*match->admission, std::move(request));
}

void HttpSession::complete_upgrade(Headers admission_headers) {
  PendingUpgrade pending = std::move(*upgrade_);
  upgrade_.reset();
  stop_watching();

  std::unique_ptr<ws::WebSocketHandler> handler;
  try {
    handler = (*pending.factory)(pending.request);
  } catch (const std::exception& e) {
    spdlog::error("the WebSocket factory of {} threw: {}", current_.route, e.what());
  }
  if (!handler) {
    return write_response(error_response(Error(ErrorCode::kInternal, "The WebSocket could not be opened"),
                                         current_.request_id));
  }

  Headers handshake = std::move(admission_headers);  // rate-limit headers, X-Rally-Auth
  for (const auto& [name, value] : security_headers()) handshake.set(name, value);
  if (pending.bearer_subprotocol) {
    handshake.set("Sec-WebSocket-Protocol", std::string(ws::kBearerSubprotocol));
  }
  // The access log records the hand-over; the WebSocket session logs a failed handshake itself.
  end_request(101);
  state_ = State::kClosed;
  stream_.expires_never();  // the WebSocket stream runs its own timeouts
  ws::start_websocket_session(std::move(stream_), parser_->release(), std::move(pending.request),
                              std::move(handler), std::move(handshake), server_);
}

void HttpSession::set_caller_name(std::uint64_t serial, std::string name) {
  if (serial == exchange_serial_ && current_.in_flight) {
    current_.caller = std::move(name);
  }
}

void HttpSession::send_response(std::uint64_t serial, Response response) {
  if (serial != exchange_serial_ || state_ != State::kHandling) {
    return;  // too late: the client is gone
  }
  if (upgrade_ && response.status == 101) {
    return complete_upgrade(std::move(response.headers));
  }
  upgrade_.reset();  // refused: answered as any request
  write_response(std::move(response));
}

void HttpSession::write_response(Response response) {
  stop_watching();
  state_ = State::kWriting;
  current_.status = response.status;

  auto& message = response_.emplace();
  message.version(current_.version);
  message.result(static_cast<unsigned>(response.status));
  copy_headers(response.headers, message);
  add_edge_headers(message, response.status);
  message.set("X-Request-Id", current_.request_id);
  message.keep_alive(current_.keep_alive && !shutting_down_);
  // 1xx, 204 and 304 responses have no body (RFC 9110 section 6.4.1); Beast would throw on one.
  const bool bodiless = response.status / 100 == 1 || response.status == 204 || response.status == 304;
  if (!bodiless) {
    message.body() = std::move(response.body);
  }
  message.prepare_payload();
  if (current_.head) {
    // HEAD: the headers of the GET answer, including its Content-Length, and no body.
    const auto length = message.body().size();
    message.body().clear();
    message.content_length(length);
  }

  stream_.expires_after(settings().idle_timeout);
  bhttp::async_write(stream_, message,
                     beast::bind_front_handler(&HttpSession::on_response_written, shared_from_this()));
}

void HttpSession::on_response_written(beast::error_code ec, std::size_t) {
  end_request(current_.status);
  if (ec) {
    return close_after_error(ec, "writing a response");
  }
  const bool keep_alive = response_->keep_alive();
  response_.reset();
  if (!keep_alive) {
    return close_gracefully(std::exchange(linger_, false));
  }
  served_any_ = true;
  await_request();
}

void HttpSession::start_stream(std::uint64_t serial, int status, const Headers& headers) {
  if (serial != exchange_serial_ || state_ != State::kHandling) {
    return;
  }
  state_ = State::kStreaming;
  current_.status = status;
  current_.streaming = true;
  server_.metrics.open_streams().inc();
  chunked_ = current_.version >= 11;

  auto& head = stream_head_.emplace();
  head.version(current_.version);
  head.result(static_cast<unsigned>(status));
  copy_headers(headers, head);
  add_edge_headers(head, status);
  head.set("X-Request-Id", current_.request_id);
  head.keep_alive(current_.keep_alive && !shutting_down_ && chunked_);
  if (chunked_) {
    head.chunked(true);
  }
  stream_head_serializer_.emplace(head);

  writing_ = true;
  stream_.expires_after(settings().idle_timeout);
  bhttp::async_write_header(
      stream_, *stream_head_serializer_,
      beast::bind_front_handler(&HttpSession::on_stream_head_written, shared_from_this()));
}

void HttpSession::on_stream_head_written(beast::error_code ec, std::size_t) {
  writing_ = false;
  if (ec) {
    return client_gone(ec);
  }
  if (current_.head) {
    // HEAD wanted only this: the handler learns through cancellation that no body will be sent.
    if (auto exchange = exchange_.lock()) {
      exchange->cancel();
    }
    abandon_chunks();
    return end_stream();
  }
  write_next_chunk();
}

void HttpSession::enqueue_chunk(std::uint64_t serial, std::string data, Exchange::WriteCallback on_written) {
  if (serial != exchange_serial_ || state_ != State::kStreaming) {
    if (on_written) {
      on_written(false);
    }
    return;
  }
  chunks_.push_back({PendingChunk::Kind::kData, std::move(data), std::move(on_written)});
  write_next_chunk();
}

void HttpSession::enqueue_end_of_stream(std::uint64_t serial) {
  if (serial != exchange_serial_ || state_ != State::kStreaming) {
    return;
  }
  chunks_.push_back({PendingChunk::Kind::kEnd, {}, {}});
  write_next_chunk();
}

void HttpSession::abort_stream(std::uint64_t serial) {
  if (serial != exchange_serial_ || state_ != State::kStreaming) {
    return;
  }
  // What the handler wrote still goes out; then the connection closes, so the client sees a cut body.
  chunks_.push_back({PendingChunk::Kind::kAbort, {}, {}});
  write_next_chunk();
}

void HttpSession::write_next_chunk() {
  if (writing_ || chunks_.empty() || state_ != State::kStreaming) {
    return;
  }
  const PendingChunk& chunk = chunks_.front();
  auto on_written = [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
    self->on_chunk_written(ec, bytes);
  };
  writing_ = true;
  stream_.expires_after(settings().idle_timeout);

  const bool has_data = chunk.kind == PendingChunk::Kind::kData && !chunk.data.empty();
  if (has_data && chunked_) {
    return net::async_write(stream_, bhttp::make_chunk(net::buffer(chunk.data)), std::move(on_written));
  }
  if (has_data) {
    return net::async_write(stream_, net::buffer(chunk.data), std::move(on_written));
  }
  if (chunk.kind == PendingChunk::Kind::kEnd && chunked_) {
    return net::async_write(stream_, bhttp::make_chunk_last(), std::move(on_written));
  }
  // Nothing goes on the wire: an empty chunk, an abort, or the end of an HTTP/1.0 body (closing ends it).
  net::post(executor_, [on_written] { on_written(beast::error_code{}, 0); });
}

void HttpSession::on_chunk_written(beast::error_code ec, std::size_t) {
  writing_ = false;
  if (ec) {
    return client_gone(ec);
  }
  if (chunks_.empty()) {
    // The connection was abandoned (the client closed, or shutdown forced it) after this write had
    // completed but before its handler ran: abandon_chunks() already answered the chunk's callback.
    return;
  }
  PendingChunk chunk = std::move(chunks_.front());
  chunks_.pop_front();
  switch (chunk.kind) {
    case PendingChunk::Kind::kData:
      break;
    case PendingChunk::Kind::kEnd:
      return end_stream();
    case PendingChunk::Kind::kAbort:
      end_request(current_.status);
      return close_now();
  }
  if (auto exchange = exchange_.lock()) {
    exchange->chunk_written(chunk.data.size());
  }
  if (chunk.on_written) {
    common::ScopedRequestId scope(current_.request_id);
    chunk.on_written(true);
  }
  write_next_chunk();
}

void HttpSession::end_stream() {
  stop_watching();
  end_request(current_.status);
  const bool keep_alive = stream_head_->keep_alive();
  stream_head_serializer_.reset();
  stream_head_.reset();
  if (!keep_alive) {
    return close_gracefully(/*linger=*/false);
  }
  served_any_ = true;
  await_request();
}

// ---- HttpSession: noticing a client that went away -------------------------------------------------------

// While a handler works (or a stream waits for events) nothing reads the socket, so a client that closes
// would go unnoticed until the next write. Waiting for readability notices it at once, and cancelling the
// exchange lets the handler abort its upstream call. Bytes a pipelining client sends meanwhile are kept.
void HttpSession::watch_client() {
  watching_ = true;
  stream_.socket().async_wait(tcp::socket::wait_read,
                              [self = shared_from_this(), generation = ++watch_generation_](
                                  beast::error_code ec) { self->on_client_readable(ec, generation); });
}

void HttpSession::stop_watching() {
  if (!watching_) {
    return;
  }
  watching_ = false;
  ++watch_generation_;  // a completion already queued is now stale
  // Only called while no read or write is in flight, so cancelling the socket ends just the wait.
  beast::error_code ignored;
  stream_.socket().cancel(ignored);
}

void HttpSession::on_client_readable(beast::error_code ec, std::uint64_t generation) {
  if (generation != watch_generation_) {
    return;
  }
  watching_ = false;
  if (ec) {
    return client_gone(ec);
  }

  // Readiness alone proves nothing: the reactor is edge-triggered and may report data a speculative read
  // already took. A non-blocking read tells: end of file (gone), would_block (nothing), or bytes a
  // pipelining client sent early, which are kept for its next request. One more full request is allowed;
  // a client sending more is not waiting for answers.
  if (buffer_.size() > settings().body_limit + kHeaderLimit) {
    return client_gone(bhttp::error::buffer_overflow);
  }
  buffer_.commit(stream_.socket().read_some(buffer_.prepare(kReadChunkBytes), ec));
  if (ec && ec != net::error::would_block && ec != net::error::try_again) {
    return client_gone(ec);
  }
  watch_client();
}

void HttpSession::client_gone(beast::error_code ec) {
  if (state_ == State::kClosed) {
    return;
  }
  {
    common::ScopedRequestId scope(current_.request_id);
    spdlog::debug("client {} went away during {} {}: {}", client_address_, current_.method, current_.path,
                  ec.message());
  }
  abandon_request(kClientClosedRequest);
  close_now();
}

void HttpSession::abandon_request(int status_if_unanswered) {
  if (auto exchange = exchange_.lock()) {
    exchange->cancel();
  }
  exchange_.reset();
  abandon_chunks();
  // A response already on its way (whole, or a stream's head) keeps its status: what was cut short, if
  // anything, is the rest of its bytes.
  const bool answered = state_ == State::kWriting || state_ == State::kStreaming;
  end_request(answered ? current_.status : status_if_unanswered);
}

void HttpSession::abandon_chunks() {
  auto chunks = std::move(chunks_);
  chunks_.clear();
  common::ScopedRequestId scope(current_.request_id);
  for (auto& chunk : chunks) {
    if (chunk.on_written) {
      chunk.on_written(false);
    }
  }
}

// ---- HttpSession: timers of the current exchange ---------------------------------------------------------

bool HttpSession::exchange_open(std::uint64_t serial) const {
  if (serial != exchange_serial_ || (state_ != State::kHandling && state_ != State::kStreaming)) {
    return false;
  }
  const std::shared_ptr<HttpExchange> exchange = exchange_.lock();
  return exchange && exchange->active();
}

void HttpSession::start_timer(std::uint64_t serial, std::chrono::milliseconds delay,
                              std::function<void()> callback) {
  if (!exchange_open(serial)) {
    return;
  }
  auto timer = std::make_shared<net::steady_timer>(executor_, delay);
  timers_.push_back(timer);
  // A weak session: a timer must not keep a closed connection alive (close and end_request cancel it).
  timer->async_wait(
      [weak = weak_from_this(), timer, serial, callback = std::move(callback)](beast::error_code ec) {
        if (std::shared_ptr<HttpSession> self = weak.lock()) {
          self->on_timer(ec, *timer, serial, callback);
        }
      });
}

void HttpSession::on_timer(beast::error_code ec, const net::steady_timer& timer, std::uint64_t serial,
                           const std::function<void()>& callback) {
  std::erase_if(timers_, [&timer](const auto& pending) { return pending.get() == &timer; });
  if (ec || !exchange_open(serial)) {
    return;
  }
  common::ScopedRequestId scope(current_.request_id);
  try {
    callback();
  } catch (const std::exception& e) {
    spdlog::error("a timer of {} {} threw: {}", current_.method, current_.route, e.what());
  }
}

void HttpSession::cancel_timers() {
  for (const auto& timer : timers_) {
    timer->cancel();
  }
  timers_.clear();
}

// ---- HttpSession: ending the connection ------------------------------------------------------------------

void HttpSession::on_shutdown() {
  shutting_down_ = true;
  // An idle keep-alive connection closes now (its read ends with operation_aborted); any other finishes
  // the request in progress and closes after the response, which says "Connection: close".
  if (state_ == State::kAwaitingRequest) {
    stream_.cancel();
  }
}

void HttpSession::on_force_close() {
  if (state_ == State::kClosed) {
    return;
  }
  abandon_request(kClosedWithoutResponse);
  close_now();
}

void HttpSession::close_after_error(beast::error_code ec, std::string_view during) {
  if (!is_normal_end(ec)) {
    spdlog::debug("connection from {}: {} failed: {}", client_address_, during, ec.message());
  }
  abandon_request(kClientClosedRequest);
  close_now();
}

void HttpSession::close_gracefully(bool linger) {
  state_ = State::kClosing;
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (!linger) {
    return close_now();
  }
  // Closing a socket with unread input makes the kernel send a reset, which can destroy the answer before
  // the client reads it. So read what the client still sends (the refused body) until it closes, briefly.
  stream_.expires_after(kLingerTimeout);
  discard_until_closed();
}

void HttpSession::discard_until_closed() {
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(kReadChunkBytes),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec) {
                              return self->close_now();
                            }
                            self->discard_until_closed();
                          });
}

void HttpSession::close_now() {
  if (state_ == State::kClosed) {
    return;
  }
  state_ = State::kClosed;
  watching_ = false;
  ++watch_generation_;
  cancel_timers();
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
}

}  // namespace

void start_http_session(tcp::socket socket, ServerContext& server) {
  std::make_shared<HttpSession>(std::move(socket), server)->run();
}

}  // namespace rally::gateway::http
