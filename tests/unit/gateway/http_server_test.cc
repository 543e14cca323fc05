// The HTTP server's machinery, driven through test routes over real sockets: asynchronous answers, streamed
// responses, cancellation when the client leaves, limits, WebSocket upgrade and graceful shutdown.
#include "gateway/http/http_server.h"

#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gateway/http/exchange.h"
#include "gateway/http/router.h"
#include "services/common/metrics.h"
#include "tests/unit/gateway/test_connection.h"

namespace rally::gateway::http {
namespace {

using namespace std::chrono_literals;
using testing::ClientResponse;
using testing::TestConnection;

HttpServerSettings test_settings() {
  HttpServerSettings settings;
  settings.listen = {"127.0.0.1", 0};
  settings.io_threads = 2;
  settings.body_limit = 1024;
  return settings;
}

template <typename Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

std::string error_code_of(const ClientResponse& response) {
  return std::string(boost::json::parse(response.body).at("error").at("code").as_string());
}

// Threads a test's handlers start to answer later; joined before the server goes away.
class Workers {
 public:
  ~Workers() { join(); }
  template <typename Work>
  void start(Work work) {
    std::lock_guard lock(mutex_);
    threads_.emplace_back(std::move(work));
  }
  void join() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (auto& thread : threads) {
      thread.join();
    }
  }

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

TEST_CASE("a handler may answer later from another thread", "[http_server]") {
  Workers workers;
  Router router;
  router.add(Method::kPost, "/echo/{name}", [&workers](const std::shared_ptr<Exchange>& exchange) {
    workers.start([exchange] {
      std::this_thread::sleep_for(50ms);
      const Request& request = exchange->request();
      exchange->respond(Response::text(
          202, std::string(*request.path_param("name")) + ":" + request.body() + ":" + request.request_id()));
    });
  });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());

  TestConnection connection(server.port());
  const ClientResponse response =
      connection.request("POST", "/echo/alice", "hi", {{"X-Request-Id", "req-async-1"}});
  CHECK(response.status == 202);
  CHECK(response.body == "alice:hi:req-async-1");
  CHECK(response.header("x-request-id") == "req-async-1");
  CHECK(response.header("content-length") == std::to_string(response.body.size()));
  CHECK(response.keep_alive);
}

// Writes "data: 1" .. "data: 3", each from the previous event's write completion (back-pressure), then
// finishes the stream. Results are recorded for the test thread: Catch2 assertions are not thread-safe.
class EventPump : public std::enable_shared_from_this<EventPump> {
 public:
  explicit EventPump(std::shared_ptr<Exchange> exchange) : exchange_(std::move(exchange)) {}

  void send_from(int n) {
    if (n > 3) {
      return exchange_->finish();
    }
    const std::string event = "data: " + std::to_string(n) + "\n\n";
    const bool queued = exchange_->write(event, [self = shared_from_this(), n](bool written) {
      self->record(written);
      if (written) {
        self->send_from(n + 1);
      }
    });
    if (!queued) {
      record(false);
    }
  }

  std::vector<bool> outcomes() {
    std::lock_guard lock(mutex_);
    return outcomes_;
  }

 private:
  void record(bool outcome) {
    std::lock_guard lock(mutex_);
    outcomes_.push_back(outcome);
  }

  std::shared_ptr<Exchange> exchange_;
  std::mutex mutex_;
  std::vector<bool> outcomes_;
};

TEST_CASE("a streamed response arrives chunk by chunk and the connection is kept alive", "[http_server]") {
  Workers workers;
  std::promise<void> go_on;
  auto go_on_signal = go_on.get_future().share();
  std::promise<std::shared_ptr<EventPump>> pump_started;
  std::atomic<bool> first_queued = false;

  Router router;
  router.add(Method::kGet, "/events", [&](const std::shared_ptr<Exchange>& exchange) {
    exchange->start_stream(200, {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}});
    first_queued = exchange->write("data: first\n\n");
    auto pump = std::make_shared<EventPump>(exchange);
    pump_started.set_value(pump);
    workers.start([pump, go_on_signal] {
      go_on_signal.wait();
      pump->send_from(1);
    });
  });
  router.add(Method::kGet, "/after", [](const std::shared_ptr<Exchange>& exchange) {
    exchange->respond(Response::text(200, "after"));
  });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());
  common::metrics::Gauge& open_streams =
      common::metrics::Registry::global()
          .gauge("rally_gateway_open_streams", "Responses being streamed (Server-Sent Events)")
          .labels();
  const double streams_before = open_streams.value();

  TestConnection connection(server.port());
  connection.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  const ClientResponse head = connection.read_head();
  CHECK(open_streams.value() == streams_before + 1);
  CHECK(head.status == 200);
  CHECK(head.header("transfer-encoding") == "chunked");
  CHECK(head.header("content-type") == "text/event-stream");
  CHECK_FALSE(head.has_header("content-length"));
  CHECK(head.has_header("x-request-id"));

  // The first event arrives while the handler still holds back the rest.
  CHECK(connection.read_body_until("data: first") == "data: first\n\n");
  CHECK(first_queued);
  go_on.set_value();
  const ClientResponse complete = connection.finish_response();
  CHECK(complete.body == "data: first\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\n");
  workers.join();
  CHECK(pump_started.get_future().get()->outcomes() == std::vector<bool>{true, true, true});

  CHECK(connection.request("GET", "/after").body == "after");
  CHECK(open_streams.value() == streams_before);  // the stream ended before /after was answered
}

TEST_CASE("busy keep-alive connections to an asynchronous handler are never taken for gone clients",
          "[http_server]") {
  // Regression: readiness of an idle socket can be stale (edge-triggered epoll), which once made the
  // client watch cancel live requests. Fast clients on several connections make that likely.
  Workers workers;
  Router router;
  router.add(Method::kGet, "/later", [&workers](const std::shared_ptr<Exchange>& exchange) {
    workers.start([exchange] { exchange->respond(Response::text(200, "later")); });
  });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());

  constexpr int kConnections = 6;
  constexpr int kRequestsEach = 250;
  std::atomic<int> answered = 0;
  std::vector<std::thread> clients;
  clients.reserve(kConnections);
  for (int c = 0; c < kConnections; ++c) {
    clients.emplace_back([&] {
      try {
        TestConnection connection(server.port());
        for (int i = 0; i < kRequestsEach; ++i) {
          if (connection.request("GET", "/later").status == 200) {
            ++answered;
          }
        }
      } catch (const std::exception&) {
        // Counted as unanswered below; Catch2 assertions are not thread-safe.
      }
    });
  }
  for (auto& client : clients) {
    client.join();
  }
  workers.join();
  CHECK(answered == kConnections * kRequestsEach);
}

TEST_CASE("a client that goes away cancels its exchange", "[http_server]") {
  std::promise<std::shared_ptr<Exchange>> handled;
  std::promise<void> cancelled;
  Router router;
  router.add(Method::kGet, "/slow", [&](const std::shared_ptr<Exchange>& exchange) {
    exchange->on_cancel([&cancelled] { cancelled.set_value(); });
    handled.set_value(exchange);  // kept unanswered, as a slow upstream call would
  });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());

  auto exchange_future = handled.get_future();
  {
    TestConnection connection(server.port());
    connection.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(exchange_future.wait_for(5s) == std::future_status::ready);
    connection.close();
  }
  CHECK(cancelled.get_future().wait_for(5s) == std::future_status::ready);
  const auto exchange = exchange_future.get();
  CHECK(exchange->cancelled());
  exchange->respond(Response::text(200, "too late"));  // dropped, harmlessly
  bool called_at_once = false;
  exchange->on_cancel([&] { called_at_once = true; });
  CHECK(called_at_once);
}

TEST_CASE("a stream to a client that went away reports its writes as not written", "[http_server]") {
  std::promise<std::shared_ptr<Exchange>> handled;
  Router router;
  router.add(Method::kGet, "/stream", [&](const std::shared_ptr<Exchange>& exchange) {
    exchange->start_stream(200, {{"Content-Type", "text/event-stream"}});
    handled.set_value(exchange);
  });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());

  auto exchange_future = handled.get_future();
  TestConnection connection(server.port());
  connection.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(exchange_future.wait_for(5s) == std::future_status::ready);
  const auto exchange = exchange_future.get();
  connection.read_head();
  connection.close();

  const bool gone = wait_until([&] { return exchange->cancelled(); }, 5s);
  CHECK(gone);
  CHECK_FALSE(exchange->write("data: late\n\n"));
  exchange->finish();
}

TEST_CASE("an exchange's timer runs on its connection and may answer or write to the stream",
          "[http_server]") {
  Router router;
  router.add(Method::kGet, "/timer", [](const std::shared_ptr<Exchange>& exchange) {
    exchange->run_after(20ms, [exchange] { exchange->respond(Response::text(200, "timer fired")); });
  });
  // Three ticks, each scheduled from the previous one, then the end of the stream.
  router.add(Method::kGet, "/ticks", [](const std::shared_ptr<Exchange>& exchange) {
    exchange->start_stream(200, {{"Content-Type", "text/event-stream"}});
    auto tick = std::make_shared<std::function<void(int)>>();
    *tick = [exchange, weak_tick = std::weak_ptr(tick)](int n) {
      exchange->write(": tick " + std::to_string(n) + "\n\n");
      if (n == 3) return exchange->finish();
      if (auto next = weak_tick.lock()) {
        exchange->run_after(10ms, [next, n] { (*next)(n + 1); });
      }
    };
    exchange->run_after(10ms, [tick] { (*tick)(1); });
  });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());

  TestConnection connection(server.port());
  CHECK(connection.request("GET", "/timer").body == "timer fired");
  const ClientResponse ticks = connection.request("GET", "/ticks");
  CHECK(ticks.body == ": tick 1\n\n: tick 2\n\n: tick 3\n\n");
  CHECK(ticks.keep_alive);
}

TEST_CASE("an exchange's timers are dropped unrun once it is answered or cancelled", "[http_server]") {
  // Each timer's callback owns a token: the token's release shows the timer was dropped, and `ran` that it
  // was not run.
  std::atomic<int> ran = 0;
  auto answered_token = std::make_shared<int>(0);
  auto cancelled_token = std::make_shared<int>(0);
  std::weak_ptr<int> answered_alive = answered_token;
  std::weak_ptr<int> cancelled_alive = cancelled_token;
  std::promise<void> handled;
  Router router;
  router.add(Method::kGet, "/answered", [&](const std::shared_ptr<Exchange>& exchange) {
    exchange->run_after(1h, [&ran, token = std::move(answered_token)] { ++ran; });
    exchange->run_after(20ms, [&ran, exchange] {
      exchange->respond(Response::text(200, "done"));
      exchange->run_after(1ms, [&ran] { ++ran; });  // after the answer: never scheduled
    });
  });
  router.add(Method::kGet, "/abandoned", [&](const std::shared_ptr<Exchange>& exchange) {
    exchange->run_after(1h, [&ran, exchange, token = std::move(cancelled_token)] { ++ran; });
    handled.set_value();
  });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());

  {
    TestConnection connection(server.port());
    CHECK(connection.request("GET", "/answered").body == "done");
    CHECK(wait_until([&] { return answered_alive.expired(); }, 5s));

    TestConnection leaving(server.port());
    leaving.send("GET /abandoned HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(handled.get_future().wait_for(5s) == std::future_status::ready);
    leaving.close();
    // The callback owns the exchange too: releasing it proves the connection let go of both.
    CHECK(wait_until([&] { return cancelled_alive.expired(); }, 5s));
  }
  CHECK(ran == 0);
}

TEST_CASE("an exchange dropped unanswered, or a handler that throws, is answered 500", "[http_server]") {
  Router router;
  router.add(Method::kGet, "/forgetful", [](const std::shared_ptr<Exchange>&) {});
  router.add(Method::kGet, "/throws",
             [](const std::shared_ptr<Exchange>&) { throw std::runtime_error("boom"); });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());

  TestConnection connection(server.port());
  const ClientResponse forgotten = connection.request("GET", "/forgetful");
  CHECK(forgotten.status == 500);
  CHECK(error_code_of(forgotten) == "INTERNAL_ERROR");
  const ClientResponse thrown = connection.request("GET", "/throws");
  CHECK(thrown.status == 500);
  CHECK(error_code_of(thrown) == "INTERNAL_ERROR");
  CHECK(thrown.keep_alive);
}

TEST_CASE("a client expecting 100-continue gets it before sending the body", "[http_server]") {
  Router router;
  router.add(Method::kPost, "/upload", [](const std::shared_ptr<Exchange>& exchange) {
    exchange->respond(Response::text(200, "got " + exchange->request().body()));
  });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());

  TestConnection connection(server.port());
  connection.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  CHECK(connection.read_head().status == 100);
  connection.send("hello");
  CHECK(connection.read_response().body == "got hello");

  // Over the limit: refused at once, without asking for the body.
  connection.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
  const ClientResponse refused = connection.read_response();
  CHECK(refused.status == 413);
  CHECK_FALSE(refused.keep_alive);
  CHECK(connection.wait_for_close());
}

TEST_CASE("request limits answer 413 and 431, then close", "[http_server]") {
  Router router;
  router.add(Method::kPost, "/upload",
             [](const std::shared_ptr<Exchange>& exchange) { exchange->respond(Response::text(200, "ok")); });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());

  SECTION("a chunked body that grows past the limit") {
    TestConnection connection(server.port());
    connection.send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string chunk(600, 'a');
    connection.send("258\r\n" + chunk + "\r\n258\r\n" + chunk + "\r\n");
    const ClientResponse response = connection.read_response();
    CHECK(response.status == 413);
    CHECK(error_code_of(response) == "PAYLOAD_TOO_LARGE");
    CHECK(response.has_header("x-request-id"));
    CHECK(connection.wait_for_close());
  }
  SECTION("a body exactly at the limit is accepted") {
    TestConnection connection(server.port());
    CHECK(connection.request("POST", "/upload", std::string(1024, 'b')).status == 200);
  }
  SECTION("a request head over 16 KiB") {
    TestConnection connection(server.port());
    connection.send("GET /upload HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'h') + "\r\n\r\n");
    const ClientResponse response = connection.read_response();
    CHECK(response.status == 431);
    CHECK(error_code_of(response) == "HEADERS_TOO_LARGE");
    CHECK(connection.wait_for_close());
  }
}

TEST_CASE("an unknown method is 501, and HEAD gets the GET headers without a body", "[http_server]") {
  Router router;
  router.add(Method::kGet, "/doc", [](const std::shared_ptr<Exchange>& exchange) {
    exchange->respond(Response::text(200, "twelve bytes"));
  });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());

  TestConnection connection(server.port());
  const ClientResponse unknown = connection.request("PROPFIND", "/doc");
  CHECK(unknown.status == 501);
  CHECK(error_code_of(unknown) == "NOT_IMPLEMENTED");

  connection.send("HEAD /doc HTTP/1.1\r\nHost: x\r\n\r\n");
  // A HEAD response has no body whatever its Content-Length, so only the head is read; the next response
  // on the connection then proves no body bytes followed.
  const ClientResponse head = connection.read_head();
  CHECK(head.status == 200);
  CHECK(head.header("content-length") == "12");
  CHECK(connection.request("GET", "/doc").body == "twelve bytes");
}

TEST_CASE("HEAD on a streaming route sends the head only and cancels the stream", "[http_server]") {
  std::promise<void> cancelled;
  std::promise<std::shared_ptr<Exchange>> streaming;
  Router router;
  router.add(Method::kGet, "/feed", [&](const std::shared_ptr<Exchange>& exchange) {
    exchange->on_cancel([&cancelled] { cancelled.set_value(); });
    exchange->start_stream(200, {{"Content-Type", "text/event-stream"}});
    exchange->write("data: a\n\n");
    streaming.set_value(exchange);  // open, waiting for more events as an SSE route would
  });
  router.add(Method::kGet, "/next", [](const std::shared_ptr<Exchange>& exchange) {
    exchange->respond(Response::text(200, "next"));
  });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());

  TestConnection connection(server.port());
  connection.send("HEAD /feed HTTP/1.1\r\nHost: x\r\n\r\n");
  const ClientResponse head = connection.read_head();
  CHECK(head.status == 200);
  CHECK(head.header("content-type") == "text/event-stream");
  CHECK(cancelled.get_future().wait_for(5s) == std::future_status::ready);
  const auto exchange = streaming.get_future().get();
  CHECK_FALSE(exchange->write("data: b\n\n"));
  exchange->finish();
  CHECK(connection.request("GET", "/next").body == "next");  // no stray chunk came first
}

TEST_CASE("pipelined requests are answered in order", "[http_server]") {
  Router router;
  router.add(Method::kGet, "/n/{n}", [](const std::shared_ptr<Exchange>& exchange) {
    exchange->respond(Response::text(200, std::string(*exchange->request().path_param("n"))));
  });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());

  TestConnection connection(server.port());
  connection.send(
      "GET /n/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /n/2 HTTP/1.1\r\nHost: x\r\n\r\nGET /n/3 HTTP/1.1\r\nHost: "
      "x\r\n\r\n");
  CHECK(connection.read_response().body == "1");
  CHECK(connection.read_response().body == "2");
  CHECK(connection.read_response().body == "3");
}

// Echoes "<room>:<message>" and records the connection's life. "flood" is answered with more than a socket
// takes at once, so writes stay in flight until the client reads.
class EchoHandler final : public ws::WebSocketHandler {
 public:
  EchoHandler(std::string room, std::promise<void>& closed) : room_(std::move(room)), closed_(closed) {}
  void on_open(const std::shared_ptr<ws::WebSocketChannel>& channel) override { channel_ = channel; }
  void on_message(std::string message) override {
    if (message == "bye") {
      return channel_->close();
    }
    if (message == "flood") {
      for (int i = 0; i < 15; ++i) {
        channel_->send(std::string(64 * 1024, 'x'));
      }
      return;
    }
    channel_->send(room_ + ":" + message);
  }
  void on_close() override { closed_.set_value(); }

 private:
  std::string room_;
  std::promise<void>& closed_;
  std::shared_ptr<ws::WebSocketChannel> channel_;  // fine to keep: it does not own the connection
};

TEST_CASE("a WebSocket route is served on the HTTP port after the upgrade", "[http_server]") {
  std::promise<void> closed;
  Router router;
  router.add_websocket("/ws/echo/{room}", [&closed](const Request& upgrade) {
    return std::make_unique<EchoHandler>(std::string(*upgrade.path_param("room")), closed);
  });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());

  testing::TestWebSocket ws(server.port(), "/ws/echo/lobby");
  CHECK(ws.handshake().result_int() == 101);
  CHECK_FALSE(ws.request_id().empty());

  ws.write("hello");
  CHECK(ws.read() == "lobby:hello");

  // The server starts the closing handshake on "bye"; the client's read then ends with `closed`.
  ws.write("bye");
  CHECK(ws.wait_for_close());
  CHECK(closed.get_future().wait_for(5s) == std::future_status::ready);
}

TEST_CASE("a WebSocket client that leaves while messages are being written ends its session cleanly",
          "[http_server]") {
  std::promise<void> closed;
  Router router;
  router.add_websocket("/ws/echo/{room}", [&closed](const Request& upgrade) {
    return std::make_unique<EchoHandler>(std::string(*upgrade.path_param("room")), closed);
  });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());
  auto closed_future = closed.get_future();

  SECTION("with a closing handshake") {
    testing::TestWebSocket ws(server.port(), "/ws/echo/lobby");
    ws.write("flood");
    ws.close();  // answered once the server's write in flight is done; the rest is dropped
  }
  SECTION("without one") {
    testing::TestWebSocket ws(server.port(), "/ws/echo/lobby");
    ws.write("flood");
    std::this_thread::sleep_for(100ms);  // the server is writing into a full socket
  }
  CHECK(closed_future.wait_for(5s) == std::future_status::ready);
}

TEST_CASE("shutdown lets a request in progress finish, closes idle connections, then returns",
          "[http_server]") {
  Workers workers;
  std::promise<void> handled;
  Router router;
  router.add(Method::kGet, "/slow", [&](const std::shared_ptr<Exchange>& exchange) {
    handled.set_value();
    workers.start([exchange] {
      std::this_thread::sleep_for(300ms);
      exchange->respond(Response::text(200, "finished"));
    });
  });
  router.add(Method::kGet, "/fast", [](const std::shared_ptr<Exchange>& exchange) {
    exchange->respond(Response::text(200, "fast"));
  });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());

  TestConnection idle(server.port());
  CHECK(idle.request("GET", "/fast").status == 200);

  TestConnection busy(server.port());
  busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(handled.get_future().wait_for(5s) == std::future_status::ready);

  const auto started = std::chrono::steady_clock::now();
  std::thread stopper([&] { server.shutdown(5s); });
  CHECK(idle.wait_for_close());
  const ClientResponse response = busy.read_response();
  CHECK(response.status == 200);
  CHECK(response.body == "finished");
  CHECK_FALSE(response.keep_alive);  // "Connection: close": the server is going away
  CHECK(busy.wait_for_close());
  stopper.join();
  CHECK(std::chrono::steady_clock::now() - started < 3s);  // it did not wait out the drain period
}

TEST_CASE("after the drain period shutdown cancels what is still running", "[http_server]") {
  std::promise<void> handled;
  std::promise<void> cancelled;
  std::shared_ptr<Exchange> kept;
  Router router;
  router.add(Method::kGet, "/never", [&](const std::shared_ptr<Exchange>& exchange) {
    exchange->on_cancel([&cancelled] { cancelled.set_value(); });
    kept = exchange;
    handled.set_value();
  });
  HttpServer server(test_settings(), router, common::metrics::Registry::global());

  TestConnection connection(server.port());
  connection.send("GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(handled.get_future().wait_for(5s) == std::future_status::ready);

  const auto started = std::chrono::steady_clock::now();
  server.shutdown(200ms);
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(took >= 200ms);
  CHECK(took < 2s);
  CHECK(cancelled.get_future().wait_for(0s) == std::future_status::ready);
  CHECK(connection.wait_for_close());
  kept->respond(Response::text(200, "after the server stopped"));  // dropped by the closed gate
}

}  // namespace
}  // namespace rally::gateway::http
