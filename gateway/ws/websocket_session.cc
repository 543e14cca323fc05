#include "gateway/ws/websocket_session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <exception>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "gateway/http/server_context.h"
#include "services/common/logging.h"
#include "services/common/metrics.h"

namespace rally::gateway::ws {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace websocket = boost::beast::websocket;

class WebSocketSession;

// The WebSocketChannel handed to handlers. It does not own the session: fan-out code may keep it (or a
// weak_ptr to it) on any thread, and it reaches the session only while both the session and the server's
// I/O are alive; afterwards send() just returns false.
class SessionChannel final : public WebSocketChannel {
 public:
  SessionChannel(std::weak_ptr<WebSocketSession> session, std::shared_ptr<http::IoGate> gate,
                 std::string request_id)
      : session_(std::move(session)), gate_(std::move(gate)), request_id_(std::move(request_id)) {}

  bool send(std::string text) override;
  void close() override;
  const std::string& request_id() const override { return request_id_; }

  // The session's side.
  void message_written(std::size_t bytes) {
    std::lock_guard lock(mutex_);
    queued_bytes_ -= bytes;
  }
  void mark_closed() {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }

 private:
  template <typename Action>
  bool post_to_session(Action action);

  const std::weak_ptr<WebSocketSession> session_;
  const std::shared_ptr<http::IoGate> gate_;
  const std::string request_id_;
  std::mutex mutex_;
  bool closed_ = false;
  std::size_t queued_bytes_ = 0;
};

class WebSocketSession final : public std::enable_shared_from_this<WebSocketSession>,
                               public http::Connection {
 public:
  WebSocketSession(beast::tcp_stream stream, bhttp::request<bhttp::string_body> upgrade,
                   http::Request request, std::unique_ptr<WebSocketHandler> handler,
                   http::Headers handshake_headers, http::ServerContext& server)
      : ws_(std::move(stream)),
        server_(server),
        executor_(ws_.get_executor()),
        upgrade_(std::move(upgrade)),
        request_(std::move(request)),
        handler_(std::move(handler)),
        handshake_headers_(std::move(handshake_headers)) {}

  ~WebSocketSession() override {
    if (registration_) {
      server_.connections.remove(*registration_);
      server_.metrics.open_websockets().dec();
    }
  }
  WebSocketSession(const WebSocketSession&) = delete;
  WebSocketSession& operator=(const WebSocketSession&) = delete;

  void run() {
    registration_ = server_.connections.add(weak_from_this());
    if (!registration_) {
      return;  // the server is shutting down
    }
    server_.metrics.open_websockets().inc();
    channel_ = std::make_shared<SessionChannel>(weak_from_this(), server_.gate, request_.request_id());

    const auto& settings = server_.settings;
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = settings.header_timeout;
    timeouts.idle_timeout = settings.idle_timeout;
    timeouts.keep_alive_pings = true;  // an idle but healthy client answers pings, a vanished one does not
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [request_id = request_.request_id(),
         headers = std::move(handshake_headers_)](websocket::response_type& response) {
          for (const auto& [name, value] : headers) response.set(name, value);
          response.set("X-Request-Id", request_id);
        }));
    ws_.read_message_max(settings.body_limit);
    ws_.async_accept(upgrade_, beast::bind_front_handler(&WebSocketSession::on_accept, shared_from_this()));
  }

  const net::any_io_executor& executor() const { return executor_; }

  void begin_shutdown() override {
    net::post(executor_, [self = shared_from_this()] {
      self->shutting_down_ = true;
      self->request_close(websocket::close_code::going_away);
    });
  }
  void force_close() override {
    net::post(executor_, [self = shared_from_this()] { self->abort(); });
  }

  // What the channel posts, on the strand.
  void enqueue(std::string text) {
    if (!open_ || close_code_) {
      channel_->message_written(text.size());
      return;
    }
    outbox_.push_back(std::move(text));
    if (!writing_) {
      write_next();
    }
  }

  void request_close(websocket::close_code code) {
    if (!open_ || close_code_) {
      return;
    }
    close_code_ = code;
    if (!writing_) {
      start_close();  // otherwise after the queued messages
    }
  }

  void abort() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

 private:
  void on_accept(beast::error_code ec) {
    common::ScopedRequestId scope(request_.request_id());
    if (ec) {
      spdlog::info("WebSocket handshake for {} failed: {}", request_.route(), ec.message());
      return;
    }
    open_ = true;
    spdlog::debug("WebSocket {} open for {}", request_.route(), request_.client_address());
    invoke_handler([&] { handler_->on_open(channel_); });
    if (shutting_down_) {
      request_close(websocket::close_code::going_away);
    }
    read_next();
  }

  void read_next() {
    ws_.async_read(read_buffer_, beast::bind_front_handler(&WebSocketSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      return on_end(ec);
    }
    std::string message = beast::buffers_to_string(read_buffer_.data());
    read_buffer_.consume(read_buffer_.size());
    common::ScopedRequestId scope(request_.request_id());
    invoke_handler([&] { handler_->on_message(std::move(message)); });
    read_next();  // also after a close request: the close handshake completes through the read
  }

  void write_next() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(outbox_.front()),
                    beast::bind_front_handler(&WebSocketSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    channel_->message_written(outbox_.front().size());
    outbox_.pop_front();
    if (ec) {
      return abort();  // the pending read reports the end
    }
    if (!open_) {
      return;  // the connection ended while this message was being written
    }
    if (!outbox_.empty()) {
      return write_next();
    }
    if (close_code_) {
      start_close();
    }
  }

  void start_close() {
    ws_.async_close(*close_code_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        self->abort();
      }
      // Otherwise the pending read completes with websocket::error::closed once the client answers.
    });
  }

  // Runs a handler callback; an escaping exception closes the connection with 1011 instead of the process.
  template <typename Callback>
  void invoke_handler(Callback&& callback) {
    try {
      callback();
    } catch (const std::exception& e) {
      spdlog::error("the WebSocket handler of {} threw: {}", request_.route(), e.what());
      request_close(websocket::close_code::internal_error);
    }
  }

  void on_end(beast::error_code ec) {
    common::ScopedRequestId scope(request_.request_id());
    if (ec != websocket::error::closed && ec != net::error::operation_aborted &&
        ec != beast::error::timeout && ec != net::error::eof) {
      spdlog::debug("WebSocket {} for {} ended: {}", request_.route(), request_.client_address(),
                    ec.message());
    }
    open_ = false;
    channel_->mark_closed();
    // A message being written stays until its write completes: Beast still reads it, and on_write pops it.
    outbox_.erase(writing_ ? std::next(outbox_.begin()) : outbox_.begin(), outbox_.end());
    try {
      handler_->on_close();
    } catch (const std::exception& e) {
      spdlog::error("the WebSocket handler of {} threw in on_close: {}", request_.route(), e.what());
    }
    handler_.reset();  // releases whatever the handler holds as soon as the connection is over
    abort();
  }

  websocket::stream<beast::tcp_stream> ws_;
  http::ServerContext& server_;
  const net::any_io_executor executor_;
  bhttp::request<bhttp::string_body> upgrade_;  // read by async_accept
  const http::Request request_;
  std::unique_ptr<WebSocketHandler> handler_;
  http::Headers handshake_headers_;  // moved into the handshake's decorator by run()
  std::shared_ptr<SessionChannel> channel_;
  std::optional<std::uint64_t> registration_;

  beast::flat_buffer read_buffer_;
  std::deque<std::string> outbox_;
  bool writing_ = false;
  bool open_ = false;  // handshake done, connection not yet ended
  bool shutting_down_ = false;
  std::optional<websocket::close_code> close_code_;  // set once closing was requested
};

template <typename Action>
bool SessionChannel::post_to_session(Action action) {
  return gate_->run_if_open([&] {
    std::shared_ptr<WebSocketSession> session = session_.lock();
    if (!session) {
      return false;
    }
    const net::any_io_executor executor = session->executor();
    net::post(executor,
              [session = std::move(session), action = std::move(action)]() mutable { action(*session); });
    return true;
  });
}

bool SessionChannel::send(std::string text) {
  bool overflow = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      return false;
    }
    overflow = queued_bytes_ + text.size() > kMaxQueuedBytes;
    if (overflow) {
      closed_ = true;
    } else {
      queued_bytes_ += text.size();
    }
  }
  if (overflow) {
    common::ScopedRequestId scope(request_id_);
    spdlog::warn("WebSocket client is not reading ({} bytes queued); closing the connection",
                 kMaxQueuedBytes);
    post_to_session([](WebSocketSession& session) { session.abort(); });
    return false;
  }
  return post_to_session(
      [text = std::move(text)](WebSocketSession& session) mutable { session.enqueue(std::move(text)); });
}

void SessionChannel::close() {
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      return;
    }
    closed_ = true;  // refuse later sends; queued ones still go out before the close frame
  }
  post_to_session([](WebSocketSession& session) { session.request_close(websocket::close_code::normal); });
}

}  // namespace

void start_websocket_session(beast::tcp_stream stream, bhttp::request<bhttp::string_body> upgrade,
                             http::Request request, std::unique_ptr<WebSocketHandler> handler,
                             http::Headers handshake_headers, http::ServerContext& server) {
  std::make_shared<WebSocketSession>(std::move(stream), std::move(upgrade), std::move(request),
                                     std::move(handler), std::move(handshake_headers), server)
      ->run();
}

}  // namespace rally::gateway::ws
