// How calls fail, each with its own HttpErrorKind: unreachable hosts, every timeout, connections that end
// early and responses that are not HTTP.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "services/llm-proxy/http/http_client.h"
#include "tests/unit/llm-proxy/http/call_recorder.h"
#include "tests/unit/llm-proxy/http/test_server.h"

namespace rally::llm_proxy {
namespace {

using namespace testing;

// Timeouts fire after a few hundred milliseconds; a test only asserts they fired well before this.
constexpr auto kGenerousBound = 4s;

// A port nothing listens on: bound once, then released.
std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST_CASE("connection refused is kConnect") {
  HttpClient client(one_thread());
  auto recorder = make_recorder();
  client.start(get("http://127.0.0.1:" + std::to_string(closed_port()) + "/"), recorder->handler());
  REQUIRE(recorder->wait());
  const auto error = recorder->error();
  REQUIRE(error.has_value());
  CHECK(error->kind == HttpErrorKind::kConnect);
  CHECK_THAT(error->message, Catch::Contains("refused"));
  CHECK_FALSE(error->head_delivered);
  CHECK_FALSE(error->body_delivered);
  CHECK(recorder->events() == std::vector<std::string>{"complete"});
}

TEST_CASE("a host name that does not resolve is kResolve") {
  HttpClient client(one_thread());
  auto recorder = make_recorder();
  // .invalid never resolves (RFC 6761).
  client.start(get("http://rally-no-such-host.invalid/"), recorder->handler());
  REQUIRE(recorder->wait());
  REQUIRE(recorder->error_kind() == HttpErrorKind::kResolve);
  CHECK_THAT(recorder->error()->message, Catch::Contains("rally-no-such-host.invalid"));
}

TEST_CASE("each timeout fires as its own kind") {
  std::atomic<int> closes_seen{0};
  // One server, behaviour chosen by the request target. It never answers what the test waits out.
  TestServer server([&](ServerConnection& connection) {
    auto request = connection.read_request(2s);
    if (!request) {
      // A TLS ClientHello to this plain server: it is never answered.
      if (connection.wait_for_close()) {
        ++closes_seen;
      }
      return;
    }
    if (request->target == "/idle") {
      connection.write(response_head(100));
      connection.write("0123456789");
    } else if (request->target == "/trickle") {
      connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      const auto until = Clock::now() + 5s;
      while (Clock::now() < until && connection.write(chunk("."))) {
        connection.pause(20ms);
      }
      return;
    }
    if (connection.wait_for_close()) {
      ++closes_seen;
    }
  });
  HttpClient client(one_thread());
  auto recorder = make_recorder();
  HttpRequest request;
  const auto started = Clock::now();

  SECTION("connect: the TLS handshake never completes") {
    request.url = "https://127.0.0.1:" + std::to_string(server.port()) + "/";
    request.timeouts.connect = 300ms;
    client.start(request, recorder->handler());
    REQUIRE(recorder->wait());
    CHECK(recorder->error_kind() == HttpErrorKind::kTimeoutConnect);
  }
  SECTION("first byte: the server reads the request and never answers") {
    request.url = server.url("/silent");
    request.timeouts.first_byte = 300ms;
    client.start(request, recorder->handler());
    REQUIRE(recorder->wait());
    CHECK(recorder->error_kind() == HttpErrorKind::kTimeoutFirstByte);
    CHECK_FALSE(recorder->error()->head_delivered);
  }
  SECTION("idle: the body stops") {
    request.url = server.url("/idle");
    request.timeouts.idle = 300ms;
    client.start(request, recorder->handler());
    REQUIRE(recorder->wait());
    CHECK(recorder->error_kind() == HttpErrorKind::kTimeoutIdle);
    CHECK(recorder->error()->head_delivered);
    CHECK(recorder->error()->body_delivered);
    CHECK(recorder->body() == "0123456789");
  }
  SECTION("total: the body keeps coming, each piece within the idle timeout") {
    request.url = server.url("/trickle");
    request.timeouts.idle = 300ms;
    request.timeouts.total = 400ms;
    client.start(request, recorder->handler());
    REQUIRE(recorder->wait());
    CHECK(recorder->error_kind() == HttpErrorKind::kTimeoutTotal);
    CHECK(recorder->error()->body_delivered);
  }
  CHECK(Clock::now() - started < kGenerousBound);
  CHECK_THAT(recorder->error()->message, Catch::Contains("ms"));
  CHECK(recorder->completions() == 1);
  if (request.url.find("/trickle") == std::string::npos) {
    // A timed-out connection is closed, not left to the server.
    CHECK(eventually([&] { return closes_seen.load() == 1; }));
  }
}

TEST_CASE("a connection that ends before the response does is kClosedEarly") {
  TestServer server([&](ServerConnection& connection) {
    auto request = connection.read_request();
    if (!request) {
      return;
    }
    if (request->target == "/content-length") {
      connection.write(response_head(100));
      connection.write(std::string(40, 'x'));
    } else if (request->target == "/chunked") {
      connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      connection.write(chunk("data: partial\n\n"));
      connection.write("20\r\nonly part of");
    }
    connection.close();
  });
  HttpClient client(one_thread());
  auto recorder = make_recorder();

  SECTION("mid Content-Length body") {
    client.start(get(server.url("/content-length")), recorder->handler());
    REQUIRE(recorder->wait());
    REQUIRE(recorder->error_kind() == HttpErrorKind::kClosedEarly);
    CHECK(recorder->error()->body_delivered);
    CHECK(recorder->body() == std::string(40, 'x'));
  }
  SECTION("mid chunked body") {
    client.start(get(server.url("/chunked")), recorder->handler());
    REQUIRE(recorder->wait());
    REQUIRE(recorder->error_kind() == HttpErrorKind::kClosedEarly);
    CHECK(recorder->error()->body_delivered);
    CHECK_THAT(recorder->body(), Catch::StartsWith("data: partial\n\n"));
  }
  SECTION("before the response head, on a fresh connection: no retry") {
    client.start(get(server.url("/nothing")), recorder->handler());
    REQUIRE(recorder->wait());
    REQUIRE(recorder->error_kind() == HttpErrorKind::kClosedEarly);
    CHECK_FALSE(recorder->error()->head_delivered);
    CHECK_FALSE(recorder->error()->body_delivered);
    CHECK(server.accepted() == 1);
    CHECK(client.pool_stats().stale_retries == 0);
  }
  CHECK(recorder->completions() == 1);
}

TEST_CASE("malformed responses are kProtocol") {
  TestServer server([&](ServerConnection& connection) {
    auto request = connection.read_request();
    if (!request) {
      return;
    }
    if (request->target == "/status") {
      connection.write("HTTP/1.1 2xx Fine\r\nContent-Length: 0\r\n\r\n");
    } else if (request->target == "/chunk-size") {
      connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    } else if (request->target == "/huge-head") {
      connection.write("HTTP/1.1 200 OK\r\nX-Padding: " + std::string(8 * 1024, 'p') + "\r\n\r\n");
    } else {
      connection.write("SSH-2.0-OpenSSH_9.2\r\n\r\n");
    }
    connection.wait_for_close(2s);
  });
  HttpClientOptions options = one_thread();
  options.max_header_bytes = 4 * 1024;
  HttpClient client(options);

  for (const char* target : {"/status", "/chunk-size", "/huge-head", "/not-http"}) {
    INFO(target);
    auto recorder = make_recorder();
    client.start(get(server.url(target)), recorder->handler());
    REQUIRE(recorder->wait());
    CHECK(recorder->error_kind() == HttpErrorKind::kProtocol);
  }
  CHECK(client.pool_stats().idle_total() == 0);
}

}  // namespace
}  // namespace rally::llm_proxy
