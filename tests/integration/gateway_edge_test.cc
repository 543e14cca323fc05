// The gateway's door end to end, through the real gateway with real PostgreSQL (API tokens) and Redis
// (rate limits): who may call what, how often, and what every refusal looks like.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cerrno>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/llm_stack.h"
#include "tests/support/http_client.h"
#include "tests/support/servers.h"
#include "tests/support/websocket_client.h"

namespace rally::testing {
namespace {

const std::map<std::string, std::string> kJson{{"Content-Type", "application/json"}};

std::map<std::string, std::string> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
}

void check_refused(const HttpResult& result, int status, std::string_view code) {
  INFO("status " << result.status << " body " << result.body);
  REQUIRE(result.status == status);
  const json::value body = parse_json(result.body);
  CHECK(body.at("success") == false);
  CHECK(body.at("error").at("code").as_string() == code);
  CHECK(body.at("metadata").at("request_id").as_string() == result.header("x-request-id"));
}

// A stack with rate limits on, counted in a Redis of its own (other tests share the suite's).
struct EdgeStack {
  explicit EdgeStack(std::map<std::string, std::string> env = {}, bool arena = true) {
    redis.start();
    env.try_emplace("RALLY_REDIS_ADDR", redis.address().to_string());
    env.try_emplace("RALLY_GATEWAY_RATE_LIMITS", "on");
    stack.emplace(StackOptions{"10s", std::move(env), arena});
  }
  ~EdgeStack() {
    stack.reset();  // before its Redis
  }

  RedisServer redis{free_port()};
  std::optional<LlmStack> stack;
};

HttpResult create_battle(int port, const std::map<std::string, std::string>& headers) {
  return http_request(port, "POST", "/api/v1/arena/battles", R"({"message":"Say hi."})", headers);
}

}  // namespace

TEST_CASE("/api/v1 needs a token of the right scope, the seed's routes stay open", "[integration][edge]") {
  EdgeStack edge;
  LlmStack& stack = *edge.stack;
  const int port = stack.gateway_port();
  const std::string reader = stack.create_token("reader", "read");
  const std::string writer = stack.create_token("writer", "write");
  const std::string admin = stack.create_token("operator", "admin");

  SECTION("no token, an unknown one or a malformed header is 401") {
    const HttpResult none = create_battle(port, kJson);
    check_refused(none, 401, "AUTHENTICATION_FAILED");
    CHECK(none.header("www-authenticate").starts_with("Bearer"));
    check_refused(create_battle(port, bearer("rally_not_a_token")), 401, "AUTHENTICATION_FAILED");
    check_refused(create_battle(port, {{"Authorization", "Basic dXNlcjpwYXNz"}}), 401,
                  "AUTHENTICATION_FAILED");
    check_refused(create_battle(port, {{"Authorization", "Bearer"}}), 401, "AUTHENTICATION_FAILED");
  }
  SECTION("a scope below the route's is 403; write and admin are enough for a change") {
    check_refused(create_battle(port, bearer(reader)), 403, "AUTHORIZATION_FAILED");
    CHECK(create_battle(port, bearer(writer)).status == 201);
    CHECK(create_battle(port, bearer(admin)).status == 201);
    check_refused(http_request(port, "GET", "/api/v1/admin/tokens", {}, bearer(writer)), 403,
                  "AUTHORIZATION_FAILED");
    const HttpResult listed = http_request(port, "GET", "/api/v1/admin/tokens", {}, bearer(admin));
    INFO(listed.body);
    REQUIRE(listed.status == 200);
    CHECK(listed.body.find("\"reader\"") != std::string::npos);
    CHECK(listed.body.find(reader) == std::string::npos);  // never the raw token
  }
  SECTION("the seed's routes answer anonymous callers, and honour a token when one is sent") {
    CHECK(http_request(port, "GET", "/leaderboard").status == 200);
    CHECK(http_request(port, "GET", "/leaderboard", {}, bearer(reader)).status == 200);
    check_refused(http_request(port, "GET", "/leaderboard", {}, bearer("rally_revoked_or_wrong")), 401,
                  "AUTHENTICATION_FAILED");
  }
  SECTION("a revoked token is refused at once, by every replica") {
    const int second = stack.add_gateway();
    // A replica answers 503 until it has loaded the tokens (a moment after it starts).
    REQUIRE(wait_until([&] { return create_battle(second, bearer(writer)).status == 201; }, 10s));
    const HttpResult listed = http_request(port, "GET", "/api/v1/admin/tokens", {}, bearer(admin));
    REQUIRE(listed.status == 200);
    std::string writer_id;
    const json::value tokens = parse_json(listed.body);
    for (const json::value& token : tokens.at("data").as_array()) {
      if (token.at("name") == "writer") writer_id = std::string(token.at("id").as_string());
    }
    REQUIRE_FALSE(writer_id.empty());
    REQUIRE(http_request(port, "DELETE", "/api/v1/admin/tokens/" + writer_id, {}, bearer(admin)).status ==
            200);
    check_refused(create_battle(port, bearer(writer)), 401, "AUTHENTICATION_FAILED");
    // The other replica hears of it through Redis, well before its periodic reload (30 s).
    CHECK(wait_until([&] { return create_battle(second, bearer(writer)).status == 401; }, 5s));
  }
}

namespace {

// Waits for a fresh window of the read class (limit 3): returns the first answer in it.
HttpResult first_of_a_window(int port) {
  HttpResult result;
  const bool fresh = wait_until(
      [&] {
        result = http_request(port, "GET", "/leaderboard");
        return result.status == 200 && result.header("x-ratelimit-remaining") == "2";
      },
      10s);
  REQUIRE(fresh);
  return result;
}

}  // namespace

TEST_CASE("rate limits count down in headers, refuse with 429 at the limit and clear after the window",
          "[integration][edge]") {
  EdgeStack edge(std::map<std::string, std::string>{{"RALLY_GATEWAY_RATE_LIMIT_READ", "3/2s"}});
  LlmStack& stack = *edge.stack;
  const int port = stack.gateway_port();

  SECTION("one gateway") {
    const HttpResult first = first_of_a_window(port);
    CHECK(first.header("x-ratelimit-limit") == "3");
    const std::string reset = first.header("x-ratelimit-reset");
    CHECK(std::stoll(reset) > 0);
    const HttpResult second = http_request(port, "GET", "/leaderboard");
    const HttpResult third = http_request(port, "GET", "/leaderboard");
    const HttpResult fourth = http_request(port, "GET", "/leaderboard");
    // All four fall into one 2 s window unless it turned meanwhile (then the check restarts next time).
    if (fourth.header("x-ratelimit-reset") == reset) {
      CHECK(second.header("x-ratelimit-remaining") == "1");
      CHECK(third.status == 200);
      CHECK(third.header("x-ratelimit-remaining") == "0");
      check_refused(fourth, 429, "RATE_LIMIT_EXCEEDED");
      CHECK(std::stoi(fourth.header("retry-after")) >= 1);
      CHECK(fourth.header("x-ratelimit-remaining") == "0");
      // Another class is counted apart.
      CHECK(http_request(port, "POST", "/vote", R"({"modelA":"gpt-4o","modelB":"gpt-4","result":"draw"})",
                         kJson)
                .status == 200);
    }
    // After the window, requests pass again.
    CHECK(wait_until([&] { return http_request(port, "GET", "/leaderboard").status == 200; }, 5s));
  }
  SECTION("two gateway replicas share one limit") {
    const int second = stack.add_gateway();
    const std::string reset = first_of_a_window(port).header("x-ratelimit-reset");
    int admitted = 1;
    int refused = 0;
    for (int i = 0; i < 5; ++i) {
      const HttpResult result = http_request(i % 2 == 0 ? second : port, "GET", "/leaderboard");
      if (result.header("x-ratelimit-reset") != reset) break;  // the window turned
      (result.status == 200 ? admitted : refused) += 1;
    }
    CHECK(admitted <= 3);
    if (admitted + refused == 6) CHECK(refused == 3);
  }
}

TEST_CASE("with Redis gone the gateway keeps serving on per-process limits and says so",
          "[integration][edge]") {
  EdgeStack edge({{"RALLY_REDIS_COMMAND_TIMEOUT", "100ms"}, {"RALLY_GATEWAY_RATE_LIMIT_READ", "1000/60s"}},
                 false);
  LlmStack& stack = *edge.stack;
  RedisServer& redis = edge.redis;
  const int port = stack.gateway_port();
  REQUIRE(http_request(port, "GET", "/v1/models").status == 200);
  redis.stop();
  for (int i = 0; i < 5; ++i) {
    const HttpResult result = http_request(port, "GET", "/v1/models");
    INFO(result.body);
    CHECK(result.status == 200);
    CHECK_FALSE(result.header("x-ratelimit-remaining").empty());
  }
  const HttpResult metrics = http_request(port, "GET", "/metrics");
  CHECK(metrics.body.find("rally_gateway_rate_limit_fallback 1") != std::string::npos);
  redis.start();  // the stack's services stop cleanly with Redis back
}

TEST_CASE("a client's X-Request-Id reaches the service's log and comes back", "[integration][edge]") {
  LlmStack stack(StackOptions{"10s", {}, true});
  const std::string id = "req_edgecase0123456789";
  const HttpResult voted = http_request(stack.gateway_port(), "POST", "/vote",
                                        R"({"modelA":"gpt-4o","modelB":"gpt-4","result":"draw"})",
                                        {{"Content-Type", "application/json"}, {"X-Request-Id", id}});
  REQUIRE(voted.status == 200);
  CHECK(voted.header("x-request-id") == id);
  CHECK(wait_until([&] { return stack.log_of("arena").find(id) != std::string::npos; }, 5s));
}

namespace {

// The gateway log's lines as JSON objects; every line must be one.
std::vector<json::object> json_lines(const std::string& log) {
  std::vector<json::object> lines;
  std::size_t start = 0;
  while (start < log.size()) {
    const std::size_t end = std::min(log.find('\n', start), log.size());
    const std::string line = log.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    INFO(line);
    lines.push_back(parse_json(line).as_object());
  }
  return lines;
}

// The access log line of `request_id`: the one with a status field.
std::optional<json::object> access_line(const std::vector<json::object>& lines,
                                        const std::string& request_id) {
  for (const json::object& line : lines) {
    if (line.at("request_id") == request_id.c_str() && line.contains("status")) return line;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("the access log names route, status, latency and token, as JSON fields when so configured",
          "[integration][edge]") {
  SECTION("RALLY_LOG_FORMAT=json: every line is JSON, the access line has its parts as fields") {
    LlmStack stack(StackOptions{"10s", {{"RALLY_LOG_FORMAT", "json"}}, false});
    const int port = stack.gateway_port();
    const std::string token = stack.create_token("log-reader", "read");
    REQUIRE(http_request(port, "GET", "/v1/models/gpt-4o", {},
                         {{"Authorization", "Bearer " + token}, {"X-Request-Id", "req_withtoken0001"}})
                .status == 200);
    REQUIRE(http_request(port, "GET", "/healthz", {}, {{"X-Request-Id", "req_anonymous0001"}}).status == 200);

    std::optional<json::object> with_token;
    std::optional<json::object> anonymous;
    REQUIRE(wait_until(
        [&] {
          const std::vector<json::object> lines = json_lines(stack.log_of("gateway"));
          with_token = access_line(lines, "req_withtoken0001");
          anonymous = access_line(lines, "req_anonymous0001");
          return with_token && anonymous;
        },
        5s));
    INFO(json::serialize(*with_token));
    CHECK(with_token->at("component") == "gateway");
    CHECK(with_token->at("method") == "GET");
    CHECK(with_token->at("path") == "/v1/models/gpt-4o");
    CHECK(with_token->at("route") == "/v1/models/{model}");
    CHECK(with_token->at("status") == 200);
    CHECK(with_token->at("latency_ms").to_number<double>() >= 0.0);
    CHECK(std::string(with_token->at("client").as_string()).starts_with("127.0.0.1:"));
    CHECK(with_token->at("token") == "log-reader");
    CHECK(std::string(with_token->at("msg").as_string()).starts_with("GET /v1/models/gpt-4o 200 "));
    CHECK(anonymous->at("route") == "/healthz");
    CHECK(anonymous->at("token").is_null());
  }
  SECTION("human lines end with the token's name when one was sent") {
    LlmStack stack(StackOptions{"10s", {}, false});
    const int port = stack.gateway_port();
    const std::string token = stack.create_token("log-human", "read");
    REQUIRE(http_request(port, "GET", "/v1/models", {},
                         {{"Authorization", "Bearer " + token}, {"X-Request-Id", "req_humanline0001"}})
                .status == 200);
    CHECK(wait_until(
        [&] {
          const std::string log = stack.log_of("gateway");
          const std::size_t line = log.find("[req_humanline0001] GET /v1/models 200 ");
          return line != std::string::npos &&
                 log.substr(line, log.find('\n', line) - line).ends_with(" token=log-human");
        },
        5s));
  }
}

namespace {

void check_security_headers(const HttpResult& result) {
  INFO("status " << result.status);
  CHECK(result.header("x-content-type-options") == "nosniff");
  CHECK(result.header("x-frame-options") == "DENY");
  CHECK(result.header("referrer-policy") == "no-referrer");
  CHECK(result.header("content-security-policy") == "default-src 'none'; frame-ancestors 'none'");
  if (result.status >= 400) CHECK(result.header("cache-control") == "no-store");
}

std::string detail_of(const HttpResult& result, const char* key) {
  const json::value body = parse_json(result.body);
  const json::value* value = body.at("error").at("details").as_object().if_contains(key);
  return value == nullptr ? "(absent)" : std::string(value->as_string());
}

// A plain TCP connection that sends nothing until told: holds a place in the gateway's connection count.
class IdleConnection {
 public:
  explicit IdleConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  }
  ~IdleConnection() { ::close(fd_); }
  IdleConnection(const IdleConnection&) = delete;
  IdleConnection& operator=(const IdleConnection&) = delete;

  // Asks GET /healthz on this connection, keeping it open; true when the gateway answered 200, which
  // proves it holds one of the gateway's connection places.
  bool answers_health() {
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
      return false;
    }
    std::string received;
    char buffer[4096];
    while (received.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      received.append(buffer, static_cast<std::size_t>(n));
    }
    return received.starts_with("HTTP/1.1 200");
  }

  // Everything the server sends until it closes (or 5 s pass), and whether it closed.
  std::pair<std::string, bool> read_until_closed() {
    std::string received;
    char buffer[4096];
    while (true) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n == 0) return {received, true};
      if (n < 0) return {received, errno == ECONNRESET};
      received.append(buffer, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
};

}  // namespace

TEST_CASE("hostile JSON, foreign media types and oversized bodies are refused with the envelope",
          "[integration][edge]") {
  EdgeStack edge(std::map<std::string, std::string>{{"RALLY_GATEWAY_JSON_MAX_STRING", "1KiB"},
                                                    {"RALLY_GATEWAY_BODY_LIMIT", "64KiB"}},
                 false);
  const int port = edge.stack->gateway_port();

  SECTION("nesting deeper than 32 levels") {
    const std::string deep = R"({"modelA":)" + std::string(40, '[') + std::string(40, ']') + "}";
    const HttpResult result = http_request(port, "POST", "/vote", deep, kJson);
    check_refused(result, 400, "INVALID_REQUEST");
    CHECK(detail_of(result, "reason") == "nesting_too_deep");
    CHECK(detail_of(result, "max_depth") == "32");
    check_security_headers(result);
  }
  SECTION("a string over the configured length") {
    const HttpResult result = http_request(
        port, "POST", "/vote",
        R"({"modelA":")" + std::string(1025, 'a') + R"(","modelB":"gpt-4","result":"draw"})", kJson);
    check_refused(result, 400, "INVALID_REQUEST");
    CHECK(detail_of(result, "field") == "modelA");
    CHECK(detail_of(result, "max_string_bytes") == "1024");
  }
  SECTION("raw bytes that are not UTF-8 inside a JSON string") {
    const HttpResult result =
        http_request(port, "POST", "/vote",
                     "{\"modelA\":\"gpt-4o\",\"modelB\":\"gpt\xFF\xFE\",\"result\":\"draw\"}", kJson);
    check_refused(result, 400, "INVALID_REQUEST");
    CHECK(detail_of(result, "field") == "modelB");
    CHECK(detail_of(result, "reason") == "invalid_utf8");
  }
  SECTION("a form body is 415, JSON with a charset is served") {
    const HttpResult form = http_request(port, "POST", "/vote", "modelA=gpt-4o&modelB=gpt-4&result=draw",
                                         {{"Content-Type", "application/x-www-form-urlencoded"}});
    check_refused(form, 415, "UNSUPPORTED_MEDIA_TYPE");
    check_security_headers(form);
    // What the route says about a body it accepts through the edge (the arena is not running: 503).
    const HttpResult json_charset =
        http_request(port, "POST", "/vote", R"({"modelA":"gpt-4o","modelB":"gpt-4","result":"draw"})",
                     {{"Content-Type", "application/json; charset=utf-8"}});
    CHECK(json_charset.status != 415);
    CHECK(json_charset.status != 400);
  }
  SECTION("security headers on a 200, a 404 and a 413") {
    const HttpResult ok = http_request(port, "GET", "/healthz");
    CHECK(ok.status == 200);
    check_security_headers(ok);
    const HttpResult missing = http_request(port, "GET", "/no/such/route");
    check_refused(missing, 404, "NOT_FOUND");
    check_security_headers(missing);
    const HttpResult too_large =
        http_request(port, "POST", "/vote", R"({"modelA":")" + std::string(70000, 'a') + "\"}", kJson);
    check_refused(too_large, 413, "PAYLOAD_TOO_LARGE");
    check_security_headers(too_large);
  }
}

TEST_CASE("CORS: preflights are answered without a token or a rate limit, only allowed origins are told",
          "[integration][edge]") {
  EdgeStack edge(std::map<std::string, std::string>{{"RALLY_GATEWAY_CORS_ORIGINS", "https://app.example"},
                                                    {"RALLY_GATEWAY_RATE_LIMIT_READ", "10/60s"}},
                 false);
  const int port = edge.stack->gateway_port();
  const std::map<std::string, std::string> preflight{
      {"Origin", "https://app.example"},
      {"Access-Control-Request-Method", "POST"},
      {"Access-Control-Request-Headers", "authorization,content-type"}};

  // /api/v1/arena/battles needs a write token; its preflight does not.
  for (int i = 0; i < 4; ++i) {
    const HttpResult result = http_request(port, "OPTIONS", "/api/v1/arena/battles", {}, preflight);
    INFO("preflight " << i << ": " << result.status << " " << result.body);
    REQUIRE(result.status == 204);
    CHECK(result.header("access-control-allow-origin") == "https://app.example");
    CHECK(result.header("access-control-allow-methods").find("POST") != std::string::npos);
    CHECK(result.header("access-control-allow-headers").find("Authorization") != std::string::npos);
    CHECK_FALSE(result.header("access-control-max-age").empty());
    CHECK(result.header("vary").find("Origin") != std::string::npos);
    check_security_headers(result);
  }
  // The read class is untouched by preflights to a read route, too (the stack's start-up reads count, so
  // compare with a read before them, in the same rate-limit window: a new window restarts the count).
  HttpResult allowed;
  int remaining_before = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const HttpResult before =
        http_request(port, "GET", "/leaderboard", {}, {{"Origin", "https://app.example"}});
    remaining_before = std::stoi(before.header("x-ratelimit-remaining"));
    for (int i = 0; i < 3; ++i) {
      REQUIRE(http_request(port, "OPTIONS", "/leaderboard", {},
                           {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "GET"}})
                  .status == 204);
    }
    allowed = http_request(port, "GET", "/leaderboard", {}, {{"Origin", "https://app.example"}});
    if (allowed.header("x-ratelimit-reset") == before.header("x-ratelimit-reset")) break;
  }
  CHECK(allowed.header("access-control-allow-origin") == "https://app.example");
  CHECK(allowed.header("access-control-expose-headers").find("X-RateLimit-Remaining") != std::string::npos);
  CHECK(allowed.header("x-ratelimit-remaining") == std::to_string(remaining_before - 1));

  const HttpResult foreign =
      http_request(port, "GET", "/leaderboard", {}, {{"Origin", "https://evil.example"}});
  CHECK(foreign.header("access-control-allow-origin").empty());
  const HttpResult foreign_preflight =
      http_request(port, "OPTIONS", "/api/v1/arena/battles", {},
                   {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  CHECK(foreign_preflight.status == 405);
  CHECK(foreign_preflight.header("access-control-allow-origin").empty());
  check_refused(http_request(port, "OPTIONS", "/no/such/route", {}, preflight), 404, "NOT_FOUND");
}

TEST_CASE("at RALLY_GATEWAY_MAX_CONNECTIONS a newcomer gets 503 and is closed, a freed place is reused",
          "[integration][edge]") {
  LlmStack stack(StackOptions{"10s", {{"RALLY_GATEWAY_MAX_CONNECTIONS", "2"}}, false});
  const int port = stack.gateway_port();
  // The stack's readiness probes closed their connections; wait until the gateway has seen them go.
  REQUIRE(wait_until([&] { return http_request(port, "GET", "/healthz").status == 200; }, 5s));

  // Hold both places with connections the gateway has answered on. A probe connection the client already
  // closed may still count until the gateway reads its end, so a newcomer refused meanwhile is let go and
  // another one tried.
  std::vector<std::unique_ptr<IdleConnection>> held;
  REQUIRE(wait_until(
      [&] {
        auto candidate = std::make_unique<IdleConnection>(port);
        if (candidate->answers_health()) held.push_back(std::move(candidate));
        return held.size() == 2;
      },
      10s));

  IdleConnection third(port);
  const auto [answer, closed] = third.read_until_closed();
  INFO(answer);
  CHECK(answer.starts_with("HTTP/1.1 503"));
  CHECK(answer.find("SERVICE_UNAVAILABLE") != std::string::npos);
  CHECK(answer.find("Retry-After: 1") != std::string::npos);
  CHECK(answer.find("Connection: close") != std::string::npos);
  CHECK(closed);
  const HttpResult refused = http_request(port, "GET", "/healthz");
  CHECK(refused.status == 503);

  held.erase(held.begin());
  CHECK(wait_until([&] { return http_request(port, "GET", "/healthz").status == 200; }, 5s));
  const HttpResult metrics = http_request(port, "GET", "/metrics");
  if (metrics.status == 200) {
    CHECK(metrics.body.find("rally_gateway_connections_refused_total") != std::string::npos);
  }
}

TEST_CASE("the leaderboard WebSocket needs a read token, in Authorization or as the bearer subprotocol",
          "[integration][edge]") {
  EdgeStack edge;
  LlmStack& stack = *edge.stack;
  const int port = stack.gateway_port();
  const std::string reader = stack.create_token("ws-reader", "read");
  const std::string target = "/api/v1/ws/leaderboard";

  SECTION("without a token, or with an unknown one, the upgrade is refused 401 in the envelope") {
    const HttpResult none = WebSocketClient::try_handshake(port, target);
    check_refused(none, 401, "AUTHENTICATION_FAILED");
    CHECK(none.header("www-authenticate").starts_with("Bearer"));
    check_security_headers(none);
    check_refused(WebSocketClient::try_handshake(port, target, {{"Authorization", "Bearer rally_unknown"}}),
                  401, "AUTHENTICATION_FAILED");
    check_refused(
        WebSocketClient::try_handshake(port, target, {{"Sec-WebSocket-Protocol", "bearer, rally_unknown"}}),
        401, "AUTHENTICATION_FAILED");
    // "bearer" with nothing after it carries no token.
    check_refused(WebSocketClient::try_handshake(port, target, {{"Sec-WebSocket-Protocol", "bearer"}}), 401,
                  "AUTHENTICATION_FAILED");
  }
  SECTION("a token in Authorization opens it; the 101 carries the edge's headers and the snapshot follows") {
    WebSocketClient client(port, target, {{"Authorization", "Bearer " + reader}});
    const HttpResult& answer = client.handshake();
    CHECK(answer.status == 101);
    check_security_headers(answer);
    CHECK_FALSE(answer.header("x-ratelimit-remaining").empty());
    CHECK(answer.header("sec-websocket-protocol").empty());
    const std::optional<std::string> snapshot = client.read(10s);
    REQUIRE(snapshot);
    CHECK(parse_json(*snapshot).at("type") == "snapshot");
  }
  SECTION("a browser's token as the subprotocol after \"bearer\" opens it, and the 101 selects \"bearer\"") {
    WebSocketClient client(port, target, {{"Sec-WebSocket-Protocol", "bearer, " + reader}});
    CHECK(client.handshake().header("sec-websocket-protocol") == "bearer");
    const std::optional<std::string> snapshot = client.read(10s);
    REQUIRE(snapshot);
    CHECK(parse_json(*snapshot).at("type") == "snapshot");
  }
  SECTION("each upgrade counts against the read class") {
    const auto remaining = [&] {
      const HttpResult answer =
          WebSocketClient::try_handshake(port, target, {{"Authorization", "Bearer " + reader}});
      REQUIRE(answer.status == 101);
      return std::stoi(answer.header("x-ratelimit-remaining"));
    };
    const int first = remaining();
    CHECK(remaining() == first - 1);
  }
}

}  // namespace rally::testing
