#include "services/common/metrics_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "services/common/metrics.h"

namespace rally::common::metrics {
namespace {

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string header(const std::string& lower_case_name) const {
    const auto found = headers.find(lower_case_name);
    return found == headers.end() ? std::string() : found->second;
  }
};

// A deliberately plain HTTP/1.1 client over a blocking socket, so the test checks the bytes on the wire
// rather than trusting the same library the server uses.
class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    // A server that never answers fails the test instead of hanging it.
    const timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      REQUIRE(n > 0);
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  Response get(std::string_view target, std::string_view extra_headers = "") {
    send("GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) + "\r\n");
    return read_response();
  }

  Response read_response() {
    std::size_t header_end = 0;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      REQUIRE(fill());
    }
    const std::string head = pending_.substr(0, header_end);
    pending_.erase(0, header_end + 4);

    Response response;
    REQUIRE(head.starts_with("HTTP/1.1 "));
    response.status = std::stoi(head.substr(9, 3));
    std::size_t line_start = head.find("\r\n");
    while (line_start != std::string::npos) {
      line_start += 2;
      const std::size_t line_end = head.find("\r\n", line_start);
      const std::string line = head.substr(line_start, line_end - line_start);
      const std::size_t colon = line.find(':');
      REQUIRE(colon != std::string::npos);
      std::string name = line.substr(0, colon);
      for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      response.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      line_start = line_end;
    }
    REQUIRE(response.headers.contains("content-length"));
    const auto length = std::stoul(response.headers["content-length"]);
    while (pending_.size() < length) {
      REQUIRE(fill());
    }
    response.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return response;
  }

  // True when the server closed the connection (after anything still buffered).
  bool closed_by_server() {
    while (fill()) {
    }
    return pending_.empty();
  }

 private:
  bool fill() {
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
      return false;
    }
    pending_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  int fd_;
  std::string pending_;
};

const HostPort kAnyLoopbackPort{"127.0.0.1", 0};

TEST_CASE("GET /metrics serves the registry in the text format", "[metrics_http_server]") {
  Registry registry;
  registry.counter("rally_test_requests_total", "Requests.", {"route"}).labels({"/x"}).inc(3);
  MetricsHttpServer server(kAnyLoopbackPort, registry);
  REQUIRE(server.port() != 0);

  Client client(server.port());
  const Response response = client.get("/metrics");
  CHECK(response.status == 200);
  CHECK(response.header("content-type") == kTextFormatContentType);
  CHECK(response.body == registry.render());
  CHECK(response.body.find("rally_test_requests_total{route=\"/x\"} 3\n") != std::string::npos);
}

TEST_CASE("GET /healthz answers ok, and a query string does not change the route", "[metrics_http_server]") {
  Registry registry;
  MetricsHttpServer server(kAnyLoopbackPort, registry);
  Client client(server.port());

  const Response health = client.get("/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == "ok");
  CHECK(client.get("/metrics?name=rally_up").status == 200);
}

TEST_CASE("other paths are 404 and other methods 405", "[metrics_http_server]") {
  Registry registry;
  MetricsHttpServer server(kAnyLoopbackPort, registry);
  Client client(server.port());

  CHECK(client.get("/").status == 404);
  CHECK(client.get("/metrics/extra").status == 404);

  client.send("POST /metrics HTTP/1.1\r\nHost: test\r\nContent-Length: 2\r\n\r\nhi");
  const Response post = client.read_response();
  CHECK(post.status == 405);
  CHECK(post.header("allow") == "GET");

  client.send("DELETE /healthz HTTP/1.1\r\nHost: test\r\n\r\n");
  CHECK(client.read_response().status == 405);
}

TEST_CASE("a keep-alive connection serves several requests, each scrape current", "[metrics_http_server]") {
  Registry registry;
  auto& scrapes = registry.counter("scrapes_total", "Scrapes.").labels();
  MetricsHttpServer server(kAnyLoopbackPort, registry);
  Client client(server.port());

  for (int i = 1; i <= 3; ++i) {
    scrapes.inc();
    const Response response = client.get("/metrics");
    REQUIRE(response.status == 200);
    CHECK(response.body.find("scrapes_total " + std::to_string(i) + "\n") != std::string::npos);
  }
}

TEST_CASE("Connection: close is honoured", "[metrics_http_server]") {
  Registry registry;
  MetricsHttpServer server(kAnyLoopbackPort, registry);
  Client client(server.port());

  const Response response = client.get("/healthz", "Connection: close\r\n");
  CHECK(response.status == 200);
  CHECK(response.header("connection") == "close");
  CHECK(client.closed_by_server());
}

TEST_CASE("the destructor returns at once even with an idle client connected", "[metrics_http_server]") {
  Registry registry;
  auto server = std::make_unique<MetricsHttpServer>(kAnyLoopbackPort, registry);
  Client idle(server->port());
  Client busy(server->port());
  REQUIRE(busy.get("/healthz").status == 200);

  const auto started = std::chrono::steady_clock::now();
  server.reset();
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
  CHECK(idle.closed_by_server());
  CHECK(busy.closed_by_server());
}

TEST_CASE("an address already in use is reported with the address", "[metrics_http_server]") {
  Registry registry;
  MetricsHttpServer first(kAnyLoopbackPort, registry);
  const HostPort taken{"127.0.0.1", first.port()};
  try {
    MetricsHttpServer second(taken, registry);
    FAIL("binding a port that is in use succeeded");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Contains(taken.to_string()));
  }
}

}  // namespace
}  // namespace rally::common::metrics
