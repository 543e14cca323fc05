// Keep-alive: which connections the client reuses, which it must not, the retry after a server closed an
// idle connection, and the pool's bounds. The servers count accepted connections, so reuse is observed
// from the server's side.
#include <catch2/catch.hpp>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "services/llm-proxy/http/http_client.h"
#include "tests/unit/llm-proxy/http/call_recorder.h"
#include "tests/unit/llm-proxy/http/test_server.h"

namespace rally::llm_proxy {
namespace {

using namespace testing;

// Answers every request on a connection with its target, until the client closes it.
void echo_until_closed(ServerConnection& connection) {
  while (auto request = connection.read_request(5s)) {
    if (!connection.write(ok_response("echo:" + request->target))) {
      return;
    }
  }
}

TEST_CASE("sequential requests to one origin share a keep-alive connection") {
  TestServer server(echo_until_closed);
  HttpClient client(one_thread());

  for (int i = 0; i < 3; ++i) {
    const HttpFetchResult result = client.fetch(get(server.url("/" + std::to_string(i)))).get();
    REQUIRE(result.ok());
    CHECK(result.body == "echo:/" + std::to_string(i));
    CHECK(client.pool_stats().idle(server.origin()) == 1);
  }
  CHECK(server.accepted() == 1);
  const HttpPoolStats stats = client.pool_stats();
  CHECK(stats.connections_opened == 1);
  CHECK(stats.connections_reused == 2);
  CHECK(stats.idle_total() == 1);
  CHECK(stats.stale_retries == 0);
}

TEST_CASE("a request started from on_complete reuses the connection just released") {
  TestServer server(echo_until_closed);
  HttpClient client(one_thread());
  std::promise<HttpFetchResult> second;
  client.fetch(get(server.url("/first")), [&](HttpFetchResult first) {
    if (!first.ok()) {  // no assertions on the client's thread: hand the failure to the test thread
      second.set_value(std::move(first));
      return;
    }
    client.fetch(get(server.url("/second")),
                 [&](HttpFetchResult result) { second.set_value(std::move(result)); });
  });
  const HttpFetchResult result = second.get_future().get();
  REQUIRE(result.ok());
  CHECK(result.body == "echo:/second");
  CHECK(server.accepted() == 1);
}

TEST_CASE("connections are not reused after a response that did not end cleanly") {
  std::atomic<int> closes_seen{0};
  TestServer server([&](ServerConnection& connection) {
    while (auto request = connection.read_request(5s)) {
      if (request->target == "/stall") {
        connection.write(response_head(100));
        connection.write("partial");
        break;
      }
      if (request->target == "/silent") {
        break;
      }
      if (request->target == "/server-says-close") {
        connection.write(ok_response("bye", "Connection: close\r\n"));
        continue;  // keep the socket open: the client must close it on its own
      }
      if (request->target == "/until-close") {
        connection.write("HTTP/1.1 200 OK\r\n\r\nall of it");
        connection.close();
        return;
      }
      if (request->target == "/extra-bytes") {
        connection.write(ok_response("ok") + "HTTP/1.1 200 OK\r\n");  // more than the response
        continue;
      }
      connection.write(ok_response("fine"));
    }
    if (connection.wait_for_close(5s)) {
      ++closes_seen;
    }
  });
  HttpClient client(one_thread());
  auto first = get(server.url("/"));

  SECTION("cancelled mid-body") {
    first.url = server.url("/stall");
    auto recorder = make_recorder();
    std::mutex mutex;
    HttpCall call;
    recorder->after_body = [&](std::string_view) {
      const std::lock_guard lock(mutex);
      call.cancel();
    };
    {
      const std::lock_guard lock(mutex);
      call = client.start(first, recorder->handler());
    }
    REQUIRE(recorder->wait());
    CHECK(recorder->error_kind() == HttpErrorKind::kCancelled);
  }
  SECTION("failed (first-byte timeout)") {
    first.url = server.url("/silent");
    first.timeouts.first_byte = 200ms;
    const HttpFetchResult result = client.fetch(first).get();
    REQUIRE_FALSE(result.ok());
    CHECK(result.error->kind == HttpErrorKind::kTimeoutFirstByte);
  }
  SECTION("the server answered with Connection: close") {
    first.url = server.url("/server-says-close");
    REQUIRE(client.fetch(first).get().ok());
  }
  SECTION("the request said Connection: close") {
    first.headers = {{"Connection", "close"}};
    REQUIRE(client.fetch(first).get().ok());
  }
  SECTION("the body ran until the server closed") {
    first.url = server.url("/until-close");
    const HttpFetchResult result = client.fetch(first).get();
    REQUIRE(result.ok());
    CHECK(result.body == "all of it");
  }
  SECTION("the server sent more than the response") {
    first.url = server.url("/extra-bytes");
    REQUIRE(client.fetch(first).get().ok());
  }
  CHECK(client.pool_stats().idle_total() == 0);
  const HttpFetchResult next = client.fetch(get(server.url("/next"))).get();
  REQUIRE(next.ok());
  CHECK(next.body == "fine");
  CHECK(server.accepted() == 2);
  CHECK(client.pool_stats().connections_reused == 0);
  if (first.url.find("/until-close") == std::string::npos) {
    // The client closed the first connection itself.
    CHECK(eventually([&] { return closes_seen.load() == 1; }));
  }
}

TEST_CASE("an idle connection the server closed is not used again") {
  TestServer server([&](ServerConnection& connection) {
    if (connection.index() == 0) {
      if (auto request = connection.read_request()) {
        connection.write(ok_response("from the first connection"));
      }
      connection.close();  // the server's idle timeout, as soon as the response is out
      return;
    }
    echo_until_closed(connection);
  });
  HttpClient client(one_thread());
  REQUIRE(client.fetch(get(server.url("/a"))).get().ok());
  REQUIRE(eventually([&] { return server.finished() == 1; }));
  std::this_thread::sleep_for(20ms);  // the FIN crosses loopback

  const HttpFetchResult result = client.fetch(get(server.url("/b"))).get();
  REQUIRE(result.ok());
  CHECK(result.body == "echo:/b");
  CHECK(server.accepted() == 2);
  const HttpPoolStats stats = client.pool_stats();
  CHECK(stats.connections_reused == 0);  // the pool saw the FIN and dropped the connection
  CHECK(stats.stale_retries == 0);
}

TEST_CASE("a request that meets a server closing its idle connection is retried once on a new one") {
  std::mutex mutex;
  std::vector<std::string> bodies;  // of the requests each connection read, in order
  std::atomic<bool> fail_fresh_connection{false};
  TestServer server([&](ServerConnection& connection) {
    if (connection.index() == 0) {
      if (auto request = connection.read_request()) {
        connection.write(ok_response("first"));
      }
      // The request arrives as the server's idle timeout fires: read, then closed without an answer.
      if (auto request = connection.read_request()) {
        const std::lock_guard lock(mutex);
        bodies.push_back(request->body);
      }
      connection.close();
      return;
    }
    auto request = connection.read_request();
    if (!request) {
      return;
    }
    {
      const std::lock_guard lock(mutex);
      bodies.push_back(request->body);
    }
    if (!fail_fresh_connection) {
      connection.write(ok_response("from a fresh connection"));
      connection.wait_for_close();
    }
  });
  HttpClient client(one_thread());
  REQUIRE(client.fetch(get(server.url("/first"))).get().ok());
  REQUIRE(client.pool_stats().idle(server.origin()) == 1);

  HttpRequest post;
  post.method = "POST";
  post.url = server.url("/v1/chat/completions");
  post.body = R"({"messages":[]})";

  SECTION("the retry succeeds") {
    auto recorder = make_recorder();
    client.start(post, recorder->handler());
    REQUIRE(recorder->wait());
    REQUIRE_FALSE(recorder->error().has_value());
    CHECK(recorder->body() == "from a fresh connection");
    CHECK(recorder->events().front() == "head");  // nothing of the failed attempt showed
  }
  SECTION("the retry fails too: no second retry") {
    fail_fresh_connection = true;
    const HttpFetchResult result = client.fetch(post).get();
    REQUIRE_FALSE(result.ok());
    CHECK(result.error->kind == HttpErrorKind::kClosedEarly);
    CHECK_FALSE(result.error->head_delivered);
  }
  CHECK(server.accepted() == 2);
  const HttpPoolStats stats = client.pool_stats();
  CHECK(stats.stale_retries == 1);
  CHECK(stats.connections_reused == 1);
  CHECK(stats.connections_opened == 2);
  const std::lock_guard lock(mutex);
  CHECK(bodies == std::vector<std::string>{post.body, post.body});  // the retry resent the same request
}

TEST_CASE("a timeout on a reused connection is not retried") {
  TestServer server([&](ServerConnection& connection) {
    if (connection.read_request()) {
      connection.write(ok_response("first"));
    }
    if (connection.read_request()) {
      connection.wait_for_close();  // busy: the request was taken, the answer is late
    }
  });
  HttpClient client(one_thread());
  REQUIRE(client.fetch(get(server.url("/first"))).get().ok());
  auto slow = get(server.url("/slow"));
  slow.timeouts.first_byte = 200ms;
  const HttpFetchResult result = client.fetch(slow).get();
  REQUIRE_FALSE(result.ok());
  CHECK(result.error->kind == HttpErrorKind::kTimeoutFirstByte);
  CHECK(server.accepted() == 1);
  CHECK(client.pool_stats().stale_retries == 0);
}

TEST_CASE("idle connections per origin are bounded, oldest closed first") {
  std::atomic<int> requests_in{0};
  std::atomic<int> closes_seen{0};
  TestServer server([&](ServerConnection& connection) {
    auto request = connection.read_request();
    if (!request) {
      return;
    }
    ++requests_in;
    // Answer only once all three are in flight, so each needs its own connection.
    connection.wait_until([&] { return requests_in.load() == 3; });
    connection.write(ok_response("ok"));
    if (connection.wait_for_close(5s)) {
      ++closes_seen;
    }
  });
  HttpClientOptions options = one_thread();
  options.max_idle_per_origin = 2;
  HttpClient client(options);

  std::vector<std::future<HttpFetchResult>> results;
  for (int i = 0; i < 3; ++i) {
    results.push_back(client.fetch(get(server.url("/"))));
  }
  for (auto& result : results) {
    REQUIRE(result.get().ok());
  }
  CHECK(server.accepted() == 3);
  CHECK(client.pool_stats().idle(server.origin()) == 2);
  CHECK(eventually([&] { return closes_seen.load() == 1; }));
  std::this_thread::sleep_for(50ms);
  CHECK(closes_seen == 1);
}

TEST_CASE("idle connections older than idle_timeout are closed by the sweep") {
  std::atomic<bool> server_saw_close{false};
  TestServer server([&](ServerConnection& connection) {
    if (connection.read_request()) {
      connection.write(ok_response("ok"));
      server_saw_close = connection.wait_for_close(5s);
    }
  });
  HttpClientOptions options = one_thread();
  options.idle_timeout = 200ms;
  HttpClient client(options);
  REQUIRE(client.fetch(get(server.url("/"))).get().ok());
  CHECK(client.pool_stats().idle(server.origin()) == 1);
  CHECK(eventually([&] { return client.pool_stats().idle_total() == 0; }, 3s));
  CHECK(eventually([&] { return server_saw_close.load(); }, 3s));
}

TEST_CASE("max_idle_per_origin = 0 turns pooling off") {
  TestServer server(echo_until_closed);
  HttpClientOptions options = one_thread();
  options.max_idle_per_origin = 0;
  HttpClient client(options);
  REQUIRE(client.fetch(get(server.url("/a"))).get().ok());
  REQUIRE(client.fetch(get(server.url("/b"))).get().ok());
  CHECK(server.accepted() == 2);
  CHECK(client.pool_stats().idle_total() == 0);
}

TEST_CASE("origins are pooled separately") {
  TestServer one(echo_until_closed);
  TestServer two(echo_until_closed);
  HttpClient client(one_thread());
  for (int i = 0; i < 2; ++i) {
    REQUIRE(client.fetch(get(one.url("/"))).get().ok());
    REQUIRE(client.fetch(get(two.url("/"))).get().ok());
  }
  CHECK(one.accepted() == 1);
  CHECK(two.accepted() == 1);
  const HttpPoolStats stats = client.pool_stats();
  CHECK(stats.idle(one.origin()) == 1);
  CHECK(stats.idle(two.origin()) == 1);
  CHECK(stats.idle_total() == 2);
}

}  // namespace
}  // namespace rally::llm_proxy
