// The provider HTTP client over plain HTTP against scripted servers: request bytes, response framing and
// incremental delivery, fetch(), argument checks and concurrent use. Failures are in
// http_client_errors_test.cc, cancellation in http_client_cancel_test.cc, keep-alive in
// http_client_pool_test.cc and TLS in http_client_tls_test.cc.
#include "services/llm-proxy/http/http_client.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/llm-proxy/http/call_recorder.h"
#include "tests/unit/llm-proxy/http/test_server.h"

namespace rally::llm_proxy {
namespace {

using namespace testing;

TEST_CASE("a Content-Length response arrives whole and the request goes out as given") {
  std::mutex mutex;
  std::optional<ReceivedRequest> seen;
  TestServer server([&](ServerConnection& connection) {
    auto request = connection.read_request();
    {
      const std::lock_guard lock(mutex);
      seen = request;
    }
    connection.write(ok_response("hello, world", "X-Upstream: yes\r\n"));
    connection.wait_for_close(1s);
  });
  HttpClient client(one_thread());

  HttpRequest request;
  request.method = "POST";
  request.url = server.url("/v1/chat/completions?stream=true");
  request.headers = {{"Authorization", "Bearer sk-test"}, {"Content-Type", "application/json"}};
  request.body = R"({"model":"m"})";
  auto recorder = make_recorder();
  client.start(request, recorder->handler());
  REQUIRE(recorder->wait());

  CHECK_FALSE(recorder->error().has_value());
  const auto head = recorder->head();
  REQUIRE(head.has_value());
  CHECK(head->status == 200);
  CHECK(head->reason == "OK");
  CHECK(head->header("x-upstream") == "yes");
  CHECK(head->header("X-Missing") == std::nullopt);
  CHECK(recorder->body() == "hello, world");
  CHECK(recorder->events().front() == "head");
  CHECK(recorder->events().back() == "complete");
  CHECK(recorder->completions() == 1);

  const std::lock_guard lock(mutex);
  REQUIRE(seen.has_value());
  CHECK(seen->method == "POST");
  CHECK(seen->target == "/v1/chat/completions?stream=true");
  CHECK(seen->header("Host") == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(seen->header("Authorization") == "Bearer sk-test");
  CHECK(seen->header("Content-Type") == "application/json");
  CHECK(seen->header("Content-Length") == std::to_string(request.body.size()));
  CHECK_FALSE(seen->header("User-Agent").empty());
  CHECK(seen->body == request.body);
}

TEST_CASE("each piece of a Content-Length body reaches on_body before the server sends the next") {
  std::atomic<bool> first_chunk_seen{false};
  std::atomic<bool> server_waited_for_client{false};
  TestServer server([&](ServerConnection& connection) {
    if (!connection.read_request()) {
      return;
    }
    connection.write(response_head(16));
    connection.write("first");
    server_waited_for_client = connection.wait_until([&] { return first_chunk_seen.load(); });
    connection.write("second");
    connection.pause(30ms);
    connection.write("third");
    connection.wait_for_close(1s);
  });
  HttpClient client(one_thread());
  auto recorder = make_recorder();
  recorder->after_body = [&](std::string_view) { first_chunk_seen = true; };
  client.start(get(server.url("/")), recorder->handler());
  REQUIRE(recorder->wait());

  CHECK_FALSE(recorder->error().has_value());
  CHECK(server_waited_for_client);
  const auto chunks = recorder->chunks();
  REQUIRE(chunks.size() >= 2);
  CHECK(chunks.front() == "first");
  CHECK(recorder->body() == "firstsecondthird");
}

TEST_CASE("chunked bodies are decoded and delivered chunk by chunk, however the bytes are split") {
  std::atomic<bool> first_event_seen{false};
  std::atomic<bool> server_waited_for_client{false};
  TestServer server([&](ServerConnection& connection) {
    if (!connection.read_request()) {
      return;
    }
    connection.write(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
    connection.write(chunk("data: {\"token\":\"Hel\"}\n\n"));
    server_waited_for_client = connection.wait_until([&] { return first_event_seen.load(); });
    // A chunk extension, a chunk whose size line and data are split across writes, then trailers.
    connection.write("16;ext=1\r\ndata: {\"token\":\"lo\"}\n\n\r\n");
    connection.pause(10ms);
    connection.write("e\r\ndata: [DO");
    connection.pause(10ms);
    connection.write("NE]\n\n\r\n0\r\nX-Trailer: t\r\n\r\n");
    connection.wait_for_close(1s);
  });
  HttpClient client(one_thread());
  auto recorder = make_recorder();
  recorder->after_body = [&](std::string_view) { first_event_seen = true; };
  client.start(get(server.url("/v1/stream")), recorder->handler());
  REQUIRE(recorder->wait());

  CHECK_FALSE(recorder->error().has_value());
  CHECK(server_waited_for_client);
  const auto chunks = recorder->chunks();
  REQUIRE(chunks.size() >= 3);
  CHECK(chunks.front() == "data: {\"token\":\"Hel\"}\n\n");
  CHECK(recorder->body() == "data: {\"token\":\"Hel\"}\n\ndata: {\"token\":\"lo\"}\n\ndata: [DONE]\n\n");
}

TEST_CASE("a body without length or chunking is read until the server closes") {
  TestServer server([&](ServerConnection& connection) {
    if (!connection.read_request()) {
      return;
    }
    connection.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: 1\n\n");
    connection.pause(20ms);
    connection.write("data: 2\n\n");
    connection.close();
  });
  HttpClient client(one_thread());
  auto recorder = make_recorder();
  client.start(get(server.url("/")), recorder->handler());
  REQUIRE(recorder->wait());
  CHECK_FALSE(recorder->error().has_value());
  CHECK(recorder->body() == "data: 1\n\ndata: 2\n\n");
  CHECK(client.pool_stats().idle_total() == 0);
}

TEST_CASE("responses without a body: HEAD, 204, 304 and interim 1xx responses") {
  TestServer server([&](ServerConnection& connection) {
    while (auto request = connection.read_request(2s)) {
      if (request->method == "HEAD") {
        connection.write(response_head(1000));  // the length of the body a GET would get
      } else if (request->target == "/204") {
        connection.write("HTTP/1.1 204 No Content\r\n\r\n");
      } else if (request->target == "/304") {
        connection.write("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n");
      } else {
        connection.write("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n");
        connection.write("HTTP/1.1 100 Continue\r\n\r\n");
        connection.write(ok_response("final"));
      }
    }
  });
  HttpClient client(one_thread());

  SECTION("HEAD") {
    auto request = get(server.url("/"));
    request.method = "HEAD";
    const HttpFetchResult result = client.fetch(request).get();
    REQUIRE(result.ok());
    CHECK(result.head.status == 200);
    CHECK(result.head.header("Content-Length") == "1000");
    CHECK(result.body.empty());
  }
  SECTION("204 and 304") {
    CHECK(client.fetch(get(server.url("/204"))).get().head.status == 204);
    const HttpFetchResult not_modified = client.fetch(get(server.url("/304"))).get();
    REQUIRE(not_modified.ok());
    CHECK(not_modified.head.status == 304);
  }
  SECTION("1xx responses are skipped: on_head sees only the final response") {
    auto recorder = make_recorder();
    client.start(get(server.url("/hints")), recorder->handler());
    REQUIRE(recorder->wait());
    CHECK_FALSE(recorder->error().has_value());
    CHECK(recorder->head()->status == 200);
    CHECK(recorder->body() == "final");
    const auto events = recorder->events();
    CHECK(std::count(events.begin(), events.end(), "head") == 1);
  }
  // Every answer above was complete, so the connection stayed reusable.
  CHECK(server.accepted() == 1);
}

TEST_CASE("IPv6 literals connect, with the brackets kept in the Host header") {
  std::mutex mutex;
  std::string host_header;
  TestServer server(
      [&](ServerConnection& connection) {
        if (auto request = connection.read_request()) {
          {
            const std::lock_guard lock(mutex);
            host_header = request->header("Host");
          }
          connection.write(ok_response("over IPv6"));
        }
        connection.wait_for_close(2s);
      },
      nullptr, TestServer::Loopback::kIpv6);
  HttpClient client(one_thread());
  const HttpFetchResult result = client.fetch(get(server.url("/v6"))).get();
  REQUIRE(result.ok());
  CHECK(result.body == "over IPv6");
  CHECK(client.pool_stats().idle(server.origin()) == 1);
  const std::lock_guard lock(mutex);
  CHECK(host_header == "[::1]:" + std::to_string(server.port()));
}

TEST_CASE("fetch collects small responses and enforces its body limit") {
  TestServer server([&](ServerConnection& connection) {
    while (auto request = connection.read_request(2s)) {
      if (request->target == "/declared-too-large") {
        connection.write(response_head(1000));
        connection.write(std::string(1000, 'a'));
      } else if (request->target == "/chunked-too-large") {
        connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 10; ++i) {
          connection.write(chunk(std::string(100, 'b')));
        }
        connection.write("0\r\n\r\n");
      } else {
        connection.write(ok_response(R"({"id":"models"})", "Content-Type: application/json\r\n"));
      }
    }
  });
  HttpClient client(one_thread());

  SECTION("as a future") {
    const HttpFetchResult result = client.fetch(get(server.url("/v1/models"))).get();
    REQUIRE(result.ok());
    CHECK(result.head.status == 200);
    CHECK(result.body == R"({"id":"models"})");
  }
  SECTION("with a callback") {
    std::promise<HttpFetchResult> done;
    client.fetch(get(server.url("/v1/models")),
                 [&](HttpFetchResult result) { done.set_value(std::move(result)); });
    const HttpFetchResult result = done.get_future().get();
    REQUIRE(result.ok());
    CHECK(result.body == R"({"id":"models"})");
  }
  SECTION("a declared length above the limit fails before any body is accepted") {
    auto request = get(server.url("/declared-too-large"));
    request.max_body_bytes = 100;
    const HttpFetchResult result = client.fetch(request).get();
    REQUIRE_FALSE(result.ok());
    CHECK(result.error->kind == HttpErrorKind::kBodyTooLarge);
    CHECK(result.body.empty());
  }
  SECTION("a chunked body that grows past the limit") {
    auto request = get(server.url("/chunked-too-large"));
    request.max_body_bytes = 250;
    const HttpFetchResult result = client.fetch(request).get();
    REQUIRE_FALSE(result.ok());
    CHECK(result.error->kind == HttpErrorKind::kBodyTooLarge);
    CHECK(result.body.size() <= 250);
  }
  SECTION("the client's default limit applies when the request sets none") {
    HttpClientOptions options = one_thread();
    options.max_fetch_body_bytes = 10;
    HttpClient small(options);
    const HttpFetchResult result = small.fetch(get(server.url("/v1/models"))).get();
    REQUIRE_FALSE(result.ok());
    CHECK(result.error->kind == HttpErrorKind::kBodyTooLarge);
  }
}

TEST_CASE("start() rejects requests that could never be valid") {
  HttpClient client(one_thread());
  const auto rejects = [&](HttpRequest request) {
    CHECK_THROWS_AS(client.start(std::move(request), make_recorder()->handler()), std::invalid_argument);
  };
  rejects(get("ftp://127.0.0.1/"));
  rejects(get("not a url"));
  auto bad_method = get("http://127.0.0.1/");
  bad_method.method = "GET /evil";
  rejects(bad_method);
  auto injected = get("http://127.0.0.1/");
  injected.headers = {{"X-Key", "value\r\nX-Injected: 1"}};
  rejects(injected);
  auto bad_name = get("http://127.0.0.1/");
  bad_name.headers = {{"Bad Name", "v"}};
  rejects(bad_name);
  auto no_connect_timeout = get("http://127.0.0.1/");
  no_connect_timeout.timeouts.connect = 0ms;
  rejects(no_connect_timeout);
  auto negative_idle = get("http://127.0.0.1/");
  negative_idle.timeouts.idle = -1ms;
  rejects(negative_idle);
  CHECK_THROWS_AS(client.start(get("http://127.0.0.1/"), HttpResponseHandler{}), std::invalid_argument);

  HttpClientOptions no_threads;
  no_threads.threads = 0;
  CHECK_THROWS_AS(HttpClient(no_threads), std::invalid_argument);
  HttpClientOptions missing_ca;
  missing_ca.extra_ca_file = "/nonexistent/ca.pem";
  CHECK_THROWS_AS(HttpClient(missing_ca), std::runtime_error);
}

TEST_CASE("many calls from many threads on a multi-threaded client") {
  TestServer server([&](ServerConnection& connection) {
    while (auto request = connection.read_request(2s)) {
      connection.write(ok_response("echo:" + request->target));
    }
  });
  HttpClientOptions options;
  options.threads = 2;
  HttpClient client(options);

  constexpr int kCallers = 4;
  constexpr int kCallsEach = 25;
  std::atomic<int> correct{0};
  std::vector<std::thread> callers;
  for (int caller = 0; caller < kCallers; ++caller) {
    callers.emplace_back([&, caller] {
      std::vector<std::pair<std::string, std::future<HttpFetchResult>>> pending;
      for (int i = 0; i < kCallsEach; ++i) {
        const std::string target = "/c" + std::to_string(caller) + "/" + std::to_string(i);
        pending.emplace_back(target, client.fetch(get(server.url(target))));
      }
      for (auto& [target, future] : pending) {
        const HttpFetchResult result = future.get();
        if (result.ok() && result.body == "echo:" + target) {
          ++correct;
        }
      }
    });
  }
  for (std::thread& caller : callers) {
    caller.join();
  }
  CHECK(correct == kCallers * kCallsEach);
  const HttpPoolStats stats = client.pool_stats();
  CHECK(stats.connections_opened == static_cast<std::uint64_t>(server.accepted()));
  CHECK(stats.idle(server.origin()) >= 1);
}

}  // namespace
}  // namespace rally::llm_proxy
