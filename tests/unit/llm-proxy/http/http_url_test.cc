#include "services/llm-proxy/http/http_url.h"

#include <catch2/catch.hpp>
#include <string>

namespace rally::llm_proxy {
namespace {

HttpUrl parse_ok(const std::string& text) {
  auto url = HttpUrl::parse(text);
  INFO(text);
  REQUIRE(url.ok());
  return url.value();
}

TEST_CASE("HttpUrl splits https URLs with the default port") {
  const HttpUrl url = parse_ok("https://api.openai.com/v1/chat/completions");
  CHECK(url.tls);
  CHECK(url.host == "api.openai.com");
  CHECK(url.port == 443);
  CHECK(url.target == "/v1/chat/completions");
  CHECK(url.origin() == "https://api.openai.com:443");
  CHECK(url.authority() == "api.openai.com");
  CHECK_FALSE(url.host_is_ip_literal());
}

TEST_CASE("HttpUrl keeps explicit ports, queries and IP literals") {
  const HttpUrl local = parse_ok("http://127.0.0.1:50080/v1/messages?beta=true&x=%20y");
  CHECK_FALSE(local.tls);
  CHECK(local.host == "127.0.0.1");
  CHECK(local.port == 50080);
  CHECK(local.target == "/v1/messages?beta=true&x=%20y");
  CHECK(local.authority() == "127.0.0.1:50080");
  CHECK(local.host_is_ip_literal());

  const HttpUrl v6 = parse_ok("https://[::1]:8443/x");
  CHECK(v6.host == "::1");
  CHECK(v6.port == 8443);
  CHECK(v6.origin() == "https://[::1]:8443");
  CHECK(v6.authority() == "[::1]:8443");
  CHECK(v6.host_is_ip_literal());
}

TEST_CASE("HttpUrl normalises what does not change the request") {
  CHECK(parse_ok("http://Example.COM").target == "/");
  CHECK(parse_ok("http://Example.COM").host == "example.com");
  CHECK(parse_ok("HTTPS://example.com/a#fragment").target == "/a");
  CHECK(parse_ok("https://example.com:443/").authority() == "example.com");
  CHECK(parse_ok("http://example.com:/").port == 80);
  CHECK(parse_ok("http://example.com?q=1").target == "/?q=1");
}

TEST_CASE("HttpUrl rejects URLs the client cannot or should not send") {
  for (const char* text :
       {"", "/v1/chat", "api.openai.com/v1", "ftp://example.com/", "ws://example.com/",
        "http://user:secret@example.com/", "http:///path", "http://example.com:0/",
        "http://example.com:65536/", "http://example.com:8o/", "http://exa%6Dple.com/",
        "http://example.com/a b", "http://example.com/\r\nX-Injected: 1", "http://[v1.fe80::a+en1]/"}) {
    INFO(text);
    const auto url = HttpUrl::parse(text);
    REQUIRE_FALSE(url.ok());
    CHECK(url.error().code == common::ErrorCode::kInvalidRequest);
    CHECK_THAT(url.error().message, Catch::Contains("invalid upstream URL"));
  }
}

}  // namespace
}  // namespace rally::llm_proxy
