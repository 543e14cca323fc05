// The JSON body helper and the edge's pure policies: limits, field paths, media types, CORS origins.
#include "gateway/http/json_body.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>

#include "gateway/http/edge_headers.h"

namespace rally::gateway::http {
namespace {

std::string detail(const common::Error& error, const std::string& key) {
  for (const auto& [name, value] : error.details) {
    if (name == key) return value;
  }
  return "(absent)";
}

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST_CASE("a JSON body within the limits parses", "[json_body]") {
  const auto parsed = parse_json_body(R"({"messages":[{"role":"user","content":"héllo"}]})", JsonLimits{});
  REQUIRE(parsed.ok());
  CHECK(parsed.value().at("messages").at(0).at("content").as_string() == "héllo");
  CHECK_FALSE(check_json_body(R"({"a":[1,2,{"b":"c"}]})", JsonLimits{}).has_value());
}

TEST_CASE("nesting is bounded by max_depth, exactly at the limit is allowed", "[json_body]") {
  const JsonLimits limits{4, 100};
  CHECK(parse_json_body(nested_arrays(4), limits).ok());
  const auto too_deep = parse_json_body(nested_arrays(5), limits);
  REQUIRE_FALSE(too_deep.ok());
  CHECK(too_deep.error().code == common::ErrorCode::kInvalidRequest);
  CHECK(detail(too_deep.error(), "reason") == "nesting_too_deep");
  CHECK(detail(too_deep.error(), "max_depth") == "4");
  CHECK(too_deep.error().message.find("4") != std::string::npos);
  // The server's check says the same, also for a body that would be broken JSON further on.
  const auto checked = check_json_body(nested_arrays(5).substr(0, 7) + "garbage", limits);
  REQUIRE(checked.has_value());
  CHECK(detail(*checked, "reason") == "nesting_too_deep");
  // The default is 32.
  CHECK(parse_json_body(nested_arrays(32), JsonLimits{}).ok());
  CHECK_FALSE(parse_json_body(nested_arrays(33), JsonLimits{}).ok());
}

TEST_CASE("a string or key longer than max_string_bytes is refused naming its field", "[json_body]") {
  const JsonLimits limits{32, 8};
  CHECK(parse_json_body(R"({"name":"12345678"})", limits).ok());
  const auto long_value =
      parse_json_body(R"({"messages":[{"content":"ok"},{"content":"123456789"}]})", limits);
  REQUIRE_FALSE(long_value.ok());
  CHECK(detail(long_value.error(), "field") == "messages[1].content");
  CHECK(detail(long_value.error(), "reason") == "string_too_long");
  CHECK(detail(long_value.error(), "max_string_bytes") == "8");
  CHECK(long_value.error().message.find("messages[1].content") != std::string::npos);

  const auto long_key = check_json_body(R"({"a_very_long_key":1})", limits);
  REQUIRE(long_key.has_value());
  CHECK(detail(*long_key, "field") == "a_very_long_key");

  const auto top_level = check_json_body(R"(["123456789"])", limits);
  REQUIRE(top_level.has_value());
  CHECK(detail(*top_level, "field") == "body[0]");
}

TEST_CASE("invalid UTF-8 in a string is refused naming the field", "[json_body]") {
  const std::string body = "{\"name\":\"ok\",\"profile\":{\"bio\":\"caf\xC3\x28\"}}";
  const auto parsed = parse_json_body(body, JsonLimits{});
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code == common::ErrorCode::kInvalidRequest);
  CHECK(detail(parsed.error(), "field") == "profile.bio");
  CHECK(detail(parsed.error(), "reason") == "invalid_utf8");

  // A bad key is named too, its bytes repaired so that the answer is valid UTF-8 itself.
  const auto bad_key = check_json_body("{\"k\xFF\":1}", JsonLimits{});
  REQUIRE(bad_key.has_value());
  CHECK(detail(*bad_key, "field") == "k\xEF\xBF\xBD");
}

TEST_CASE("a body that is not JSON is the route's error, not the server's", "[json_body]") {
  CHECK_FALSE(check_json_body("hello", JsonLimits{}).has_value());
  CHECK_FALSE(check_json_body("{\"a\":", JsonLimits{}).has_value());
  const auto parsed = parse_json_body("{\"a\":", JsonLimits{});
  REQUIRE_FALSE(parsed.ok());
  CHECK(detail(parsed.error(), "reason") == "invalid_json");
  CHECK(detail(parsed.error(), "field") == "body");
}

TEST_CASE("JSON media types: application/json with parameters and +json types", "[json_body]") {
  CHECK(is_json_media_type("application/json"));
  CHECK(is_json_media_type("application/json; charset=utf-8"));
  CHECK(is_json_media_type("  Application/JSON ;charset=UTF-8"));
  CHECK(is_json_media_type("application/merge-patch+json"));
  CHECK_FALSE(is_json_media_type("text/plain"));
  CHECK_FALSE(is_json_media_type("application/x-www-form-urlencoded"));
  CHECK_FALSE(is_json_media_type("multipart/form-data; boundary=x"));
  CHECK_FALSE(is_json_media_type("application/jsonp"));
  CHECK_FALSE(is_json_media_type(""));
}

TEST_CASE("CORS allows listed origins exactly, or any but null with a star", "[json_body]") {
  const CorsPolicy off;
  CHECK_FALSE(off.enabled());
  CHECK_FALSE(off.allows("https://app.example"));

  const CorsPolicy listed({"https://app.example", "http://localhost:3000"});
  CHECK(listed.enabled());
  CHECK(listed.allows("https://app.example"));
  CHECK(listed.allows("http://localhost:3000"));
  CHECK_FALSE(listed.allows("https://app.example.evil"));
  CHECK_FALSE(listed.allows("http://app.example"));
  CHECK_FALSE(listed.allows(""));

  const CorsPolicy any({"*"});
  CHECK(any.allows("https://whoever.example"));
  CHECK_FALSE(any.allows("null"));

  CHECK(CorsPolicy::problem_with("https://app.example:8443").empty());
  CHECK(CorsPolicy::problem_with("*").empty());
  CHECK_FALSE(CorsPolicy::problem_with("app.example").empty());
  CHECK_FALSE(CorsPolicy::problem_with("https://app.example/").empty());
  CHECK_FALSE(CorsPolicy::problem_with("https://").empty());
}

}  // namespace
}  // namespace rally::gateway::http
