// The JSON of the admin token routes: what a creation request may say, and that a token's JSON never
// holds its hash.
#include "gateway/routes/token_payloads.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

namespace rally::gateway::routes {
namespace {

using common::ErrorCode;
using edge::Scope;

// 2026-11-22T10:00:00Z
constexpr std::chrono::system_clock::time_point kNoon{std::chrono::seconds(1795341600)};

std::string field_of_error(std::string_view body) {
  const common::Result<NewTokenRequest> parsed = parse_new_token_body(body);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code == ErrorCode::kInvalidRequest);
  for (const auto& [key, value] : parsed.error().details) {
    if (key == "field") return value;
  }
  return {};
}

TEST_CASE("a creation request names the token, its scopes and optional rate limits", "[token_payloads]") {
  const auto listed = parse_new_token_body(R"({"name":"ci","scopes":"read,write"})");
  REQUIRE(listed.ok());
  CHECK(listed->name == "ci");
  CHECK(listed->scope == Scope::kWrite);
  CHECK(listed->rate_limits.empty());

  const auto array =
      parse_new_token_body(R"({"name":"ops","scopes":["read","admin"],"rate_limits":{"admin":5}})");
  REQUIRE(array.ok());
  CHECK(array->scope == Scope::kAdmin);
  CHECK(array->rate_limits == edge::RateLimits{{"admin", 5}});

  const auto single = parse_new_token_body(R"({"name":"reader","scope":"read","rate_limits":{"llm":0}})");
  REQUIRE(single.ok());
  CHECK(single->scope == Scope::kRead);
  CHECK(single->rate_limits.at("llm") == 0);

  CHECK(parse_new_token_body(R"({"name":"n","scope":"write","rate_limits":null})").ok());
}

TEST_CASE("a bad creation request is 400 naming the field", "[token_payloads]") {
  CHECK(field_of_error("") == "body");
  CHECK(field_of_error("[]") == "body");
  CHECK(field_of_error(R"({"scopes":"read"})") == "name");
  CHECK(field_of_error(R"({"name":7,"scopes":"read"})") == "name");
  CHECK(field_of_error(R"({"name":"has space","scopes":"read"})") == "name");
  CHECK(field_of_error(R"({"name":"tok_x","scopes":"read"})") == "name");
  CHECK(field_of_error(R"({"name":"n"})") == "scopes");
  CHECK(field_of_error(R"({"name":"n","scopes":"read,root"})") == "scopes");
  CHECK(field_of_error(R"({"name":"n","scopes":[]})") == "scopes");
  CHECK(field_of_error(R"({"name":"n","scopes":[1]})") == "scopes");
  CHECK(field_of_error(R"({"name":"n","scope":["read"]})") == "scope");
  CHECK(field_of_error(R"({"name":"n","scope":"read","scopes":"read"})") == "scope");
  CHECK(field_of_error(R"({"name":"n","scope":"read","rate_limits":[]})") == "rate_limits");
  CHECK(field_of_error(R"({"name":"n","scope":"read","rate_limits":{"llm":-1}})") == "rate_limits");
  CHECK(field_of_error(R"({"name":"n","scope":"read","rate_limits":{"llm":1.5}})") == "rate_limits");
  CHECK(field_of_error(R"({"name":"n","scope":"read","rate_limits":{"llm":99999999999}})") == "rate_limits");
  CHECK(field_of_error(R"({"name":"n","scope":"read","rate_limits":{"nonsense":1}})") == "rate_limits");
  CHECK(field_of_error(R"({"name":"n","scope":"read","rate_limit":{}})") == "rate_limit");
}

TEST_CASE("a token's JSON has its record and never a hash, a creation adds the raw token",
          "[token_payloads]") {
  edge::CreatedToken created;
  created.token.id = "tok_0123456789abcdef";
  created.token.name = "ci";
  created.token.scope = Scope::kWrite;
  created.token.rate_limits = {{"llm", 5}};
  created.token.created_at = kNoon;
  created.raw_token = "rally_secret";

  const auto record = boost::json::parse(token_json(created.token)).as_object();
  CHECK(record == boost::json::parse(R"({"id":"tok_0123456789abcdef","name":"ci","scope":"write",)"
                                     R"("scopes":["read","write"],"rate_limits":{"llm":5},)"
                                     R"("created_at":"2026-11-22T10:00:00Z","last_used_at":null,)"
                                     R"("revoked_at":null,"active":true})")
                      .as_object());

  const auto with_token = boost::json::parse(created_token_json(created)).as_object();
  CHECK(with_token.at("token").as_string() == "rally_secret");
  CHECK(with_token.at("id").as_string() == created.token.id);

  created.token.revoked_at = kNoon + std::chrono::hours(1);
  created.token.last_used_at = kNoon + std::chrono::minutes(30);
  const auto list = boost::json::parse(token_list_json({created.token})).as_array();
  REQUIRE(list.size() == 1);
  CHECK(list[0].at("active").as_bool() == false);
  CHECK(list[0].at("revoked_at").as_string() == "2026-11-22T11:00:00Z");
  CHECK(list[0].at("last_used_at").as_string() == "2026-11-22T10:30:00Z");
  CHECK_FALSE(list[0].as_object().contains("token"));
  CHECK(token_list_json({}) == "[]");
}

}  // namespace
}  // namespace rally::gateway::routes
