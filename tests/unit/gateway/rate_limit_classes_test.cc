#include "gateway/edge/rate_limit_classes.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>

#include "services/common/config.h"
#include "tests/support/expect.h"

namespace rally::gateway::edge {
namespace {

using common::ConfigSource;
using rally::testing::rejected_config_key;
using namespace std::chrono_literals;

RateLimitSettings from_env(ConfigSource::Values env) {
  return RateLimitSettings::from(ConfigSource::from_values({}, std::move(env)));
}

// Rules compared as their configuration text ("100/60s").
std::string rule_text(const RateLimitRule& rule) {
  return to_string(rule);
}

TEST_CASE("rate limit classes default to the seed's limits and the documented others", "[rate_limits]") {
  const RateLimitSettings settings = from_env({});
  CHECK(settings.enabled);
  CHECK(settings.connections == 4);
  REQUIRE(settings.rules.size() == kRateLimitClasses.size());
  for (const auto route_class : kRateLimitClasses) {
    CAPTURE(route_class);
    CHECK(is_rate_limit_class(route_class));
    CHECK(settings.rules.contains(route_class));
  }
  CHECK_FALSE(is_rate_limit_class("scores"));
  CHECK(rule_text(settings.rules.at("score")) == "100/60s");
  CHECK(rule_text(settings.rules.at("batch")) == "10/60s");
  CHECK(rule_text(settings.rules.at("naming")) == "200/60s");
  CHECK(rule_text(settings.rules.at("compare")) == "50/60s");
  CHECK(rule_text(settings.rules.at("llm")) == "60/60s");
  CHECK(rule_text(settings.rules.at("vote")) == "120/60s");
  CHECK(rule_text(settings.rules.at("critique")) == "20/60s");
  CHECK(rule_text(settings.rules.at("read")) == "600/60s");
  CHECK(rule_text(settings.rules.at("admin")) == "60/60s");
  CHECK(describe(settings) ==
        "score 100/60s, batch 10/60s, naming 200/60s, compare 50/60s, llm 60/60s, vote 120/60s, "
        "critique 20/60s, read 600/60s, admin 60/60s");
}

TEST_CASE("rate limit rules are read as N/WINDOW or off", "[rate_limits]") {
  const RateLimitSettings settings = from_env({
      {"RALLY_GATEWAY_RATE_LIMIT_SCORE", "5/1s"},
      {"RALLY_GATEWAY_RATE_LIMIT_BATCH", "3/1m"},
      {"RALLY_GATEWAY_RATE_LIMIT_NAMING", "1000/1h"},
      {"RALLY_GATEWAY_RATE_LIMIT_COMPARE", "7/2000ms"},
      {"RALLY_GATEWAY_RATE_LIMIT_LLM", "OFF"},
      {"RALLY_GATEWAY_RATE_LIMIT_VOTE", "1/24h"},
      {"RALLY_GATEWAY_RATE_LIMIT_CRITIQUE", "1000000000/90s"},
      {"RALLY_GATEWAY_RATE_LIMIT_CONNECTIONS", "16"},
  });
  CHECK(settings.enabled);
  CHECK(settings.connections == 16);
  CHECK(rule_text(settings.rules.at("score")) == "5/1s");
  CHECK(rule_text(settings.rules.at("batch")) == "3/60s");
  CHECK(rule_text(settings.rules.at("naming")) == "1000/3600s");
  CHECK(rule_text(settings.rules.at("compare")) == "7/2s");
  CHECK(settings.rules.at("llm").limit == 0);
  CHECK(settings.rules.at("llm").window == 60s);  // off keeps the window for tokens' overrides
  CHECK(rule_text(settings.rules.at("vote")) == "1/86400s");
  CHECK(rule_text(settings.rules.at("critique")) == "1000000000/90s");
  CHECK(rule_text(settings.rules.at("read")) == "600/60s");
  CHECK(describe(settings).starts_with("score 5/1s, batch 3/60s, naming 1000/3600s, compare 7/2s, llm off,"));
}

TEST_CASE("RALLY_GATEWAY_RATE_LIMITS=off switches every limit off, and says so", "[rate_limits]") {
  const RateLimitSettings settings = from_env({{"RALLY_GATEWAY_RATE_LIMITS", "off"}});
  CHECK_FALSE(settings.enabled);
  CHECK(describe(settings) == "off (RALLY_GATEWAY_RATE_LIMITS=off): no request is limited");
  CHECK(from_env({{"RALLY_GATEWAY_RATE_LIMITS", "on"}}).enabled);
}

TEST_CASE("a bad rate limit value is refused with its key named", "[rate_limits]") {
  const std::pair<std::string, std::string> bad_values[] = {
      {"RALLY_GATEWAY_RATE_LIMITS", "sometimes"},
      {"RALLY_GATEWAY_RATE_LIMIT_SCORE", "100"},
      {"RALLY_GATEWAY_RATE_LIMIT_SCORE", ""},
      {"RALLY_GATEWAY_RATE_LIMIT_BATCH", "0/60s"},
      {"RALLY_GATEWAY_RATE_LIMIT_NAMING", "-1/60s"},
      {"RALLY_GATEWAY_RATE_LIMIT_COMPARE", "ten/60s"},
      {"RALLY_GATEWAY_RATE_LIMIT_LLM", "100/60"},
      {"RALLY_GATEWAY_RATE_LIMIT_VOTE", "100/0s"},
      {"RALLY_GATEWAY_RATE_LIMIT_CRITIQUE", "100/1500ms"},
      {"RALLY_GATEWAY_RATE_LIMIT_READ", "100/25h"},
      {"RALLY_GATEWAY_RATE_LIMIT_ADMIN", "1000000001/60s"},
      {"RALLY_GATEWAY_RATE_LIMIT_SCORE", "100/60s/1m"},
      {"RALLY_GATEWAY_RATE_LIMIT_CONNECTIONS", "0"},
      {"RALLY_GATEWAY_RATE_LIMIT_CONNECTIONS", "65"},
  };
  for (const auto& bad : bad_values) {
    CAPTURE(bad.first, bad.second);
    CHECK(rejected_config_key([&] { from_env({bad}); }) == bad.first);
  }
  const std::string message = rally::testing::message_of<common::ConfigError>([] {
    from_env({{"RALLY_GATEWAY_RATE_LIMIT_SCORE", "100/60"}});
  });
  CHECK_THAT(message,
             Catch::Matchers::StartsWith("RALLY_GATEWAY_RATE_LIMIT_SCORE: expected off or N/WINDOW"));
  CHECK_THAT(message, Catch::Matchers::Contains("got \"60\""));
}

TEST_CASE("rule_for applies a token's override of its class's limit", "[rate_limits]") {
  RateLimitSettings settings = from_env({{"RALLY_GATEWAY_RATE_LIMIT_READ", "off"}});
  Principal anonymous;
  Principal token;
  token.token_id = "tok_1";
  token.rate_limits = {{"score", 1000}, {"read", 5}, {"batch", 0}};

  CHECK(rule_text(rule_for(settings, "score", anonymous)) == "100/60s");
  CHECK(rule_text(rule_for(settings, "score", token)) == "1000/60s");
  CHECK(rule_text(rule_for(settings, "compare", token)) == "50/60s");  // no override for this class
  CHECK(rule_for(settings, "read", anonymous).limit == 0);             // the class is off...
  CHECK(rule_text(rule_for(settings, "read", token)) == "5/60s");      // ...but this token is limited
  CHECK(rule_for(settings, "batch", token).limit == 0);                // an override of 0 exempts
  CHECK_THROWS_AS(rule_for(settings, "scores", token), std::invalid_argument);

  settings.enabled = false;
  CHECK(rule_for(settings, "score", anonymous).limit == 0);
  CHECK(rule_for(settings, "score", token).limit == 0);
}

TEST_CASE("to_string writes a rule as its configuration value", "[rate_limits]") {
  CHECK(to_string(RateLimitRule{100, 60s}) == "100/60s");
  CHECK(to_string(RateLimitRule{0, 60s}) == "off");
}

}  // namespace
}  // namespace rally::gateway::edge
